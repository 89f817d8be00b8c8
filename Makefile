# Quick start: `make run` (bot on SQLite) and `make test` (the whole suite).
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install run worker test lint format locales migrate bench

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

# A virtualenv built with another Python (an upgrade, another machine) is rebuilt, not reused:
# its interpreter may be gone or its compiled packages may not load.
PY_VERSION := $(shell $(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
VENV_VERSION := $(shell if [ -e $(BIN)/python ] || [ -L $(BIN)/python ]; then \
	$(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null \
	|| echo broken; fi)
ifneq ($(VENV_VERSION),)
ifneq ($(VENV_VERSION),$(PY_VERSION))
STALE_VENV := stale-venv
endif
endif

.PHONY: stale-venv
stale-venv:
	@echo "$(VENV) was built with Python $(VENV_VERSION), not $(PY_VERSION): rebuilding it"
	rm -rf $(VENV)

$(STAMP): pyproject.toml constraints.txt $(STALE_VENV)
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)  ## create the virtualenv and install the bot with its dev tools (pinned versions)

run: $(STAMP)  ## set up and run the bot (SQLite unless DATABASE_URL is set; the sandbox without BOT_TOKEN)
	$(BIN)/python -m bot start

worker: $(STAMP)  ## run only the delivery engine and the scheduler (with RUN_DELIVERY=false on the bot)
	$(BIN)/python -m bot worker

test: $(STAMP)  ## run the whole test suite (PostgreSQL/Redis too when TEST_* are set)
	$(BIN)/python -m pytest

lint: $(STAMP)  ## ruff lint and format check, mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy bot handlers models

format: $(STAMP)  ## apply ruff's formatting and fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The template keeps source references (file:line) and TRANSLATORS: comments for translators;
# the catalogues are updated from a copy without references, so they change only when strings do.
EXTRACT := $(BIN)/pybabel extract -F babel.cfg -k _ -k N_ --add-comments=TRANSLATORS: \
	--sort-by-file --project participation-bot

locales: $(STAMP)  ## extract strings, update every catalogue, compile
	$(EXTRACT) -o locales/messages.pot .
	$(EXTRACT) --no-location -o locales/.update.pot .
	$(BIN)/pybabel update -i locales/.update.pot -d locales -D messages --no-fuzzy-matching --ignore-obsolete
	rm -f locales/.update.pot
	$(BIN)/pybabel compile -d locales -D messages --statistics

migrate: $(STAMP)  ## apply database migrations
	$(BIN)/python -m bot migrate

bench: $(STAMP)  ## run the benchmarks and print their figures
	$(BIN)/python -m bench
