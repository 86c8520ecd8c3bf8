# Telora: every install step lives here (and in pyproject.toml), never by hand.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_PORT ?= 8000

.PHONY: install demo serve worker test test-fast bench lint vendor-assets constraints clean-db help

help:
	@echo "make demo    set up and start Telora with the demo brands on http://127.0.0.1:$(DEMO_PORT)"
	@echo "make test    run the whole test suite"
	@echo "make bench   run the benchmarks and print their figures"
	@echo "make lint    ruff over src, tests and bench"

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Telora needs Python 3.11 or newer"; exit 1; }
	@$(PYTHON) -m venv --help >/dev/null 2>&1 && $(PYTHON) -c 'import ensurepip' 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; \
	  else echo "Python's venv module is missing: install python3-venv (sudo apt-get install python3-venv)"; exit 1; fi; }
	@echo "==> Creating the virtualenv $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	@echo "==> Upgrading pip in $(VENV)"
	$(BIN)/pip install -q --progress-bar on --upgrade pip
	@echo "==> Installing Telora's Python packages into $(VENV) (first run: a few minutes; the last step, installing, prints nothing for a minute)..."
	$(BIN)/pip install --progress-bar on -c constraints.txt -e ".[test]"
	@touch $(STAMP)
	@echo "==> Telora is installed in $(VENV)"

install: $(STAMP)

demo: install
	@echo "==> Starting the demo: the embedded PostgreSQL in $${TELORA_VAR:-var}/pgdata, migrations, the demo brands with three months of history (first run: about two minutes), then the server on http://127.0.0.1:$(DEMO_PORT)"
	TELORA_DEBUG=$${TELORA_DEBUG:-1} $(BIN)/telora demo --port $(DEMO_PORT)

serve: install
	$(BIN)/telora serve --with-worker

worker: install
	$(BIN)/telora worker

# Two test processes (pytest-xdist), one per core, each with its own test database. worksteal hands
# each process a contiguous half of the suite (a module's kept data is built once, not in both) and
# lets an idle process take tests from the other's tail.
TEST_WORKERS ?= 2

test: install
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal

bench: install
	$(BIN)/python bench/run.py $(BENCH)

lint: install
	$(BIN)/ruff check src tests bench

vendor-assets:
	bash scripts/vendor-assets.sh

# Re-pin the constraints file from the current virtualenv (after changing pyproject.toml).
constraints: install
	$(BIN)/pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean-db:
	-$(BIN)/telora db stop
	rm -rf var/pgdata
