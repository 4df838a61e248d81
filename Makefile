# Every target bootstraps .venv first, so a fresh clone needs nothing but Python 3.11 and make.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000
export PORT

.DEFAULT_GOAL := help
.PHONY: help install run test lint format lock migrate schema cluster-test readme-test fuzz fuzz-ci bench bench-quick bench-photos

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-13s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check "pip==25.3"
	$(PY) -m pip install --quiet --disable-pip-version-check --group dev -c constraints.txt
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install the pinned dependencies (quick when up to date)

migrate: install ## Apply database migrations
	$(PY) manage.py migrate --noinput

run: migrate ## Serve the API with gunicorn on 127.0.0.1:$PORT (settings in gunicorn.conf.py)
	$(VENV)/bin/gunicorn config.wsgi:application -c gunicorn.conf.py

test: install ## Run the whole test suite (SQLite unless DATABASE_URL is set)
	$(VENV)/bin/pytest

fuzz: install ## Schemathesis against a live server on a throwaway PostgreSQL db, long run (FUZZ_SEED=...)
	FUZZ_MAX_EXAMPLES=$${FUZZ_MAX_EXAMPLES:-200} FUZZ_SEED=$${FUZZ_SEED:-$$RANDOM} bash .ci/fuzz.sh

fuzz-ci: install ## The same with CI's fixed budget and seed (well under a minute)
	bash .ci/fuzz.sh

lint: install ## ruff check and format check, mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

format: install ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

readme-test: install ## Run README.md's shell blocks top to bottom against a fresh `make run`
	$(PY) .ci/readme_test.py

cluster-test: install ## Two gunicorn instances behind nginx on PostgreSQL + Redis: the four proofs
	bash .ci/cluster-test.sh

lock: install ## Re-pin every transitive dependency into constraints.txt
	$(PY) -m pip freeze --exclude pip > constraints.txt

schema: install ## Regenerate docs/openapi.json (a test fails when it drifts from the code)
	$(PY) manage.py spectacular --format openapi-json --validate --fail-on-warn --file docs/openapi.json
# BENCH_ARGS passes options through, e.g. BENCH_ARGS="--only detail --workers 3"; see
# `.venv/bin/python bench/run.py -h`. Needs wrk and a PostgreSQL server (BENCH_POSTGRES_URL).
bench: install ## Full benchmark on PostgreSQL (~10 min): 100k properties; writes docs/benchmarks.md
	$(PY) bench/run.py --profile full $(BENCH_ARGS)
	$(PY) bench/photo_upload.py

bench-photos: install ## One 12-megapixel photo upload's cost: p50/p95 and CPU seconds (~15 s)
	$(PY) bench/photo_upload.py

bench-quick: install ## Small data set, 5 s per scenario; results in bench/results/ only
	$(PY) bench/run.py --profile quick $(BENCH_ARGS)
