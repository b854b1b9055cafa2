# The template's own commands. `make test` is what CI runs (.ci/run).
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
DEMO ?= build/demo
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help test lint lock demo demo-clean system-deps clean bench

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

system-deps: ## Install the Debian packages the tests need (root; see .ci/apt-packages.txt)
	bash .ci/install-system-deps.sh

test: $(BIN)/.installed ## Run the whole test suite: every option combination, rendered and tested
	$(BIN)/python -m pytest $(ARGS)

lint: $(BIN)/.installed ## Lint the template's own Python
	$(BIN)/ruff check tests bench scripts
	$(BIN)/ruff format --check tests bench scripts

bench: $(BIN)/.installed ## Benchmarks, side by side (bench/BENCHMARKS.md); e.g. ARGS="web --smoke"
	$(BIN)/python bench/run.py $(ARGS)

lock: $(BIN)/.installed ## Re-pin the generated requirements*.txt for every async_consumer choice
	$(BIN)/python scripts/lock_requirements.py

# Regenerating over an earlier demo refreshes the template's files and keeps the rest: its .venv, .env (and so
# its secret key) and db.sqlite3 with whatever was entered. Only demo-clean deletes them.
demo: $(BIN)/.installed ## Generate a project with the default answers into build/demo and run it on SQLite
	$(BIN)/cookiecutter --no-input --overwrite-if-exists --output-dir $(DEMO) .
	$(MAKE) -C $(DEMO)/my_project install migrate
	@echo
	@echo "The demo project is in $(abspath $(DEMO)/my_project)."
	@echo "An admin user for http://127.0.0.1:$(PORT)/admin/:"
	@echo "  cd $(abspath $(DEMO)/my_project) && .venv/bin/python manage.py createsuperuser"
	@echo "Ctrl-C stops it; make demo again keeps its database, make demo-clean deletes the demo."
	@echo
	$(MAKE) -C $(DEMO)/my_project run PORT=$(PORT)

demo-clean: ## Delete the demo project, its virtualenv and its database
	rm -rf $(DEMO)

clean: ## Remove the virtualenv, caches and demo output
	rm -rf $(VENV) .cache build
