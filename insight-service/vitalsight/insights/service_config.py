"""Settings of `vitalsight insights serve`: where to read, where to send, whom to tell.

Precedence: explicit values (command-line flags) over environment variables over the
defaults here. Environment variables are `VITALSIGHT_INSIGHTS_<FIELD>` (upper case), except
the Anthropic key and base URL, read from the SDK's own `ANTHROPIC_API_KEY` and
`ANTHROPIC_BASE_URL`. Without an Anthropic key summaries are the template's; without a
Grafana URL no annotations are written (cards still reach `rum_insights` and the API).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from vitalsight.exporters.reader import DEFAULT_QUERY_URL
from vitalsight.exporters.store import DEFAULT_DATABASE
from vitalsight.insights.summarize.claude import DEFAULT_MODEL

ENV_PREFIX = "VITALSIGHT_INSIGHTS_"
DEFAULT_OTLP_URL = "http://127.0.0.1:4318"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8090
DEFAULT_INTERVAL_S = 60.0
# Read from these variables (the SDK's names) rather than VITALSIGHT_INSIGHTS_*.
_FOREIGN_ENV = {
    "anthropic_api_key": "ANTHROPIC_API_KEY",
    "anthropic_base_url": "ANTHROPIC_BASE_URL",
}


class ServiceConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # Reading RUM data and cards: the ClickHouse HTTP endpoint (vitalsight's query port or
    # a ClickHouse server), through `connect_reader`.
    query_url: str = DEFAULT_QUERY_URL
    query_user: str = "vitalsight"
    query_password: SecretStr | None = None
    database: str = DEFAULT_DATABASE
    # Writing cards: OTLP/HTTP logs to `vitalsight serve` (X-Vitalsight-Key when required).
    otlp_url: str = DEFAULT_OTLP_URL
    otlp_api_key: SecretStr | None = None
    # Grafana: annotations (needs a token with annotations:write) and links on cards.
    grafana_url: str = ""
    grafana_token: SecretStr | None = None
    # Claude summaries (optional).
    anthropic_api_key: SecretStr | None = None
    anthropic_model: str = DEFAULT_MODEL
    anthropic_base_url: str | None = None
    # What to watch and how often.
    app: str | None = None
    environment: str | None = None
    interval_s: float = Field(default=DEFAULT_INTERVAL_S, gt=0)
    # The REST API.
    host: str = DEFAULT_HOST
    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535)

    @classmethod
    def load(
        cls, environ: Mapping[str, str], overrides: Mapping[str, Any] | None = None
    ) -> ServiceConfig:
        """Environment values, then `overrides` (None values are ignored)."""
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            variable = _FOREIGN_ENV.get(name, ENV_PREFIX + name.upper())
            if environ.get(variable):
                values[name] = environ[variable]
        values.update({k: v for k, v in (overrides or {}).items() if v is not None})
        return cls.model_validate(values)

    @staticmethod
    def secret(value: SecretStr | None) -> str | None:
        return value.get_secret_value() if value is not None else None
