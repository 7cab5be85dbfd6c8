# vitalsight — the two set-up commands of the README:
#   make serve   install into .venv and run `vitalsight serve` on the embedded store
#   make test    install everything (Python, npm, Chromium) and run the whole test suite
# CI runs `make test` through .ci/run.

VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test lint typecheck pytest sdk interop bundler system-deps bench

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/vitalsight serve

# Debian's Chromium drives the SDK's end-to-end tests (playwright-core, no browser download).
system-deps:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  echo "installing Debian chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

sdk: system-deps
	cd sdk-js && npm ci --no-audit --no-fund --loglevel=error && npm run build && npm test && npm run size

# The official OpenTelemetry browser SDK, for the interoperability tests in tests/interop.
interop: system-deps
	cd tests/interop/otel-web && npm ci --no-audit --no-fund --loglevel=error

# esbuild, for the errors processor's source-map tests (a real minified bundle).
bundler:
	cd tests/processors/errors/bundle && npm ci --no-audit --no-fund --loglevel=error

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck sdk interop bundler pytest

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
