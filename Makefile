# Every target bootstraps .venv first, so a fresh clone needs nothing but Python 3.11 and make.
# Serving needs only the app dependency group; tests and tools add the dev group.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
APP_STAMP := $(VENV)/.installed-app
DEV_STAMP := $(VENV)/.installed-dev
# The settings read the same variable (config/settings/base.py); SECRET_KEY, if set, wins.
SECRET_KEY_FILE ?= .secret_key
PIP := $(PY) -m pip install --quiet --disable-pip-version-check

.DEFAULT_GOAL := help
.PHONY: help install run dev test lint format lock migrate schema cluster-test readme-test fuzz fuzz-ci bench bench-quick bench-photos

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-13s %s\n", $$1, $$2}'

# pip 23 (Python 3.11's own) predates dependency groups (--group): upgrade it first.
$(APP_STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) "pip==25.3"
	$(PIP) --group app -c constraints.txt
	@touch $(APP_STAMP)

$(DEV_STAMP): $(APP_STAMP)
	$(PIP) --group dev -c constraints.txt
	@touch $(DEV_STAMP)

# Generated once, readable by its owner only, git-ignored; never regenerated (tokens stay valid).
$(SECRET_KEY_FILE): | $(APP_STAMP)
	@umask 077 && $(PY) -c 'import secrets; print(secrets.token_urlsafe(64))' > $@.tmp && mv $@.tmp $@
	@echo "Wrote a new secret key to $@"

install: $(DEV_STAMP) $(SECRET_KEY_FILE) ## Create .venv with every pinned dependency, dev tools included

migrate: $(APP_STAMP) $(SECRET_KEY_FILE) ## Apply database migrations
	$(PY) manage.py migrate --noinput

run: migrate ## Serve with gunicorn on 127.0.0.1:$PORT (8000), production-like: DEBUG off
	$(VENV)/bin/gunicorn config.wsgi:application -c gunicorn.conf.py

# PORT as the app reads it (environment, then .env, then 8000), like gunicorn.conf.py.
dev: migrate ## Django's autoreloading runserver on 127.0.0.1:$PORT with DEBUG=true, for editing code
	DEBUG=true $(PY) manage.py runserver "127.0.0.1:$$($(PY) -c 'from config.env import env_int; print(env_int("PORT", default=8000))')"

test: $(DEV_STAMP) $(SECRET_KEY_FILE) ## Run the whole test suite (SQLite unless DATABASE_URL is set)
	$(VENV)/bin/pytest

fuzz: $(DEV_STAMP) $(SECRET_KEY_FILE) ## Schemathesis against a live server on a throwaway PostgreSQL db, long run (FUZZ_SEED=...)
	FUZZ_MAX_EXAMPLES=$${FUZZ_MAX_EXAMPLES:-200} FUZZ_SEED=$${FUZZ_SEED:-$$RANDOM} bash .ci/fuzz.sh

fuzz-ci: $(DEV_STAMP) $(SECRET_KEY_FILE) ## The same with CI's fixed budget and seed (well under a minute)
	bash .ci/fuzz.sh

lint: $(DEV_STAMP) ## ruff check and format check, mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

format: $(DEV_STAMP) ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

readme-test: $(DEV_STAMP) $(SECRET_KEY_FILE) ## Run README.md's shell blocks top to bottom against a fresh `make run`
	$(PY) .ci/readme_test.py

cluster-test: $(DEV_STAMP) $(SECRET_KEY_FILE) ## Two gunicorn instances behind nginx on PostgreSQL + Redis: the four proofs
	bash .ci/cluster-test.sh

lock: $(DEV_STAMP) ## Re-pin every transitive dependency into constraints.txt
	$(PY) -m pip freeze --exclude pip > constraints.txt

schema: $(APP_STAMP) $(SECRET_KEY_FILE) ## Regenerate docs/openapi.json (a test fails when it drifts from the code)
	$(PY) manage.py spectacular --format openapi-json --validate --fail-on-warn --file docs/openapi.json
# BENCH_ARGS passes options through, e.g. BENCH_ARGS="--only detail --workers 3"; see
# `.venv/bin/python bench/run.py -h`. Needs wrk and a PostgreSQL server (BENCH_POSTGRES_URL).
bench: $(DEV_STAMP) $(SECRET_KEY_FILE) ## Full benchmark on PostgreSQL (~10 min): 100k properties; writes docs/benchmarks.md
	$(PY) bench/run.py --profile full $(BENCH_ARGS)
	$(PY) bench/photo_upload.py

bench-photos: $(DEV_STAMP) ## One 12-megapixel photo upload's cost: p50/p95 and CPU seconds (~15 s)
	$(PY) bench/photo_upload.py

bench-quick: $(DEV_STAMP) $(SECRET_KEY_FILE) ## Small data set, 5 s per scenario; results in bench/results/ only
	$(PY) bench/run.py --profile quick $(BENCH_ARGS)
