# The two commands: `make run` (the whole platform, embedded defaults) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
NODE_STAMP := node_modules/.installed-stamp

.PHONY: install install-test run test screenshots lint openapi asyncapi bench bench-scale deploy-check image-smoke clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

# Node.js tools only the tests use (the AsyncAPI validator): `make run` needs Python alone
$(NODE_STAMP): package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $(NODE_STAMP)

install: $(STAMP)

install-test: $(STAMP) $(NODE_STAMP)

run: install
	$(BIN)/gongyi run

test: install-test
	./scripts/ensure_services.sh
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

# the browser journey again, writing its screenshots to docs/console/ (the README links them)
screenshots: install-test
	./scripts/ensure_services.sh
	GONGYI_UPDATE_SCREENSHOTS=1 $(BIN)/python -m pytest tests/browser -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

openapi: install
	$(BIN)/gongyi openapi --out contracts/openapi

asyncapi: install
	$(BIN)/gongyi asyncapi

clean:
	rm -rf var .pytest_cache

bench: install
	./scripts/ensure_services.sh
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/search.py
	$(BIN)/python bench/ranking.py
	$(BIN)/python bench/dedupe_quality.py
	$(BIN)/python bench/upload.py --repeat 3
	$(BIN)/python bench/dedupe_scale.py

bench-scale: install
	./scripts/ensure_services.sh
	$(BIN)/python bench/dedupe_scale.py

deploy-check: install
	$(BIN)/python scripts/deploy_check.py

image-smoke: install
	./scripts/ensure_services.sh
	bash scripts/image_smoke.sh
