# The README's two commands: `make dev` and `make test`. Install steps already satisfied are skipped.
VENV  := .venv
BIN   := $(VENV)/bin
STAMP := $(VENV)/.synced
UV    := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PORT  ?= 8000

.PHONY: dev test lint typecheck unit integration stack system-deps up bench clean serverless-cli bench-peers swagger-ui

$(UV):
	python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv

# Installed with bytecode, as the Lambda layer ships it: no process of `quarry dev`, `quarry up`
# or a test compiles the dependencies at its first import.
$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet --compile-bytecode
	@touch $(STAMP)

dev: $(STAMP) swagger-ui
	$(BIN)/quarry dev --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# PostgreSQL, Redis, nginx, Prometheus, Alertmanager, Chromium and Node.js from Debian's packages,
# when missing, for `quarry up` and the test tiers (`bash infra/install-system-deps.sh --dry-run`
# lists them); their system services are not started
system-deps:
	@bash infra/install-system-deps.sh

# The Serverless Framework CLI (v3, pinned by infra/serverless/package-lock.json) that the
# integration tests run `serverless package` with; reinstalled when the lock file changes.
SLS_DIR   := infra/serverless
SLS_STAMP := $(SLS_DIR)/node_modules/.installed

$(SLS_STAMP): $(SLS_DIR)/package.json $(SLS_DIR)/package-lock.json
	@command -v node >/dev/null && command -v npm >/dev/null || bash infra/install-system-deps.sh
	@node --version >/dev/null && npm --version >/dev/null
	cd $(SLS_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@touch $(SLS_STAMP)

serverless-cli: $(SLS_STAMP)
integration: serverless-cli swagger-ui system-deps

# Swagger UI's assets (npm's swagger-ui-dist, pinned by infra/swagger-ui/package-lock.json),
# which the docs function serves at /api/docs/ and packages; install scripts are not run.
UI_DIR   := infra/swagger-ui
UI_STAMP := $(UI_DIR)/node_modules/.installed

$(UI_STAMP): $(UI_DIR)/package.json $(UI_DIR)/package-lock.json
	@command -v node >/dev/null && command -v npm >/dev/null || bash infra/install-system-deps.sh
	cd $(UI_DIR) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $(UI_STAMP)

swagger-ui: $(UI_STAMP)

# serverless-offline, the peer `quarry bench serverless-offline` measures the gateway against,
# installed by `npm ci` into .quarry/cache/ (a no-op while infra/bench-offline's lock is unchanged)
bench-peers: $(STAMP) serverless-cli
	$(BIN)/python -c "from tools.bench.offline import install; install()"

stack: bench-peers swagger-ui system-deps

test: lint typecheck system-deps serverless-cli bench-peers swagger-ui
	$(BIN)/python -m tests.tiers

up: $(STAMP) system-deps
	$(BIN)/quarry up

unit integration stack: $(STAMP)
	$(BIN)/python -m tests.tiers $@

bench: $(STAMP)
	$(BIN)/quarry bench all
	$(BIN)/quarry bench readme

clean:
	rm -rf .quarry .mypy_cache .ruff_cache .pytest_cache
