"""ServiceConfig: flags over environment over defaults; the SDK's own Anthropic variables."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from vitalsight.insights.service_config import DEFAULT_INTERVAL_S, ServiceConfig


def test_defaults_without_environment() -> None:
    config = ServiceConfig.load({})
    assert config.interval_s == DEFAULT_INTERVAL_S == 60
    assert config.anthropic_api_key is None and config.grafana_url == ""
    assert (config.query_url, config.otlp_url) == ("http://127.0.0.1:8123", "http://127.0.0.1:4318")


def test_environment_then_flags() -> None:
    environ = {
        "VITALSIGHT_INSIGHTS_GRAFANA_URL": "http://grafana:3000",
        "VITALSIGHT_INSIGHTS_INTERVAL_S": "30",
        "VITALSIGHT_INSIGHTS_QUERY_PASSWORD": "from-env",
        "ANTHROPIC_API_KEY": "sk-env",
        "ANTHROPIC_BASE_URL": "http://proxy:8080",
        "VITALSIGHT_INSIGHTS_ANTHROPIC_API_KEY": "ignored: the SDK's variable is the one read",
    }
    config = ServiceConfig.load(environ, {"interval_s": 5.0, "app": "shop", "port": None})
    assert config.grafana_url == "http://grafana:3000"
    assert config.interval_s == 5.0 and config.app == "shop" and config.port == 8090
    assert ServiceConfig.secret(config.query_password) == "from-env"
    assert ServiceConfig.secret(config.anthropic_api_key) == "sk-env"
    assert config.anthropic_base_url == "http://proxy:8080"
    assert "sk-env" not in repr(config) and "from-env" not in repr(config)


def test_invalid_values_are_rejected() -> None:
    with pytest.raises(ValidationError, match="interval_s"):
        ServiceConfig.load({"VITALSIGHT_INSIGHTS_INTERVAL_S": "0"})
    with pytest.raises(ValidationError, match="port"):
        ServiceConfig.load({}, {"port": 70000})
