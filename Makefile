# The README's two commands: `make dev` and `make test`. Install steps already satisfied are skipped.
VENV  := .venv
BIN   := $(VENV)/bin
STAMP := $(VENV)/.synced
UV    := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PORT  ?= 8000

.PHONY: dev test lint typecheck unit integration stack system-deps up bench clean

$(UV):
	python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv

$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet
	@touch $(STAMP)

dev: $(STAMP)
	$(BIN)/quarry dev --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# nginx and Prometheus from Debian's packages, for `quarry up` and the stack tests
system-deps:
	@bash infra/install-system-deps.sh

test: lint typecheck system-deps
	$(BIN)/python -m tests.tiers

up: $(STAMP) system-deps
	$(BIN)/quarry up

unit integration stack: $(STAMP)
	$(BIN)/python -m tests.tiers $@

bench: $(STAMP)
	$(BIN)/quarry bench all

clean:
	rm -rf .quarry .mypy_cache .ruff_cache .pytest_cache
