# Two commands on a fresh machine: `make run` (demo service) and `make test` (whole suite).
# Both create .venv if missing and install what they need.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check --quiet
# Where `make run` serves: `make run PORT=9000`, `make run HOST=0.0.0.0`.
HOST   ?= 127.0.0.1
PORT   ?= 8000
# The browser the browser tests drive (tests/browser): Debian's package; Playwright's own download cannot run here.
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test lint format bench bench-scale bench-revisions clean chromium pgbouncer redis image

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) install -e ".[test,lint]"
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run  ## serve the demo book on http://$(HOST):$(PORT) (docs at /docs)
	$(BIN)/wealthgate demo --host $(HOST) --port $(PORT)

chromium:  ## Chromium for the browser tests: installed with apt when missing and run as root on Debian
	@if [ ! -x "$(CHROMIUM)" ] && [ "$$(id -u)" = 0 ] && [ -f /etc/debian_version ]; then \
		echo "installing chromium for the browser tests: apt-get install -y chromium"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi
	@[ -x "$(CHROMIUM)" ] || { echo "error: the browser tests need Chromium at $(CHROMIUM): as root on" \
		"Debian run 'apt-get install -y chromium', or set CHROMIUM=/path/to/chromium" >&2; exit 1; }

# $(call debian_server,<program>,<Debian package>,<the test that needs it>): the program (on PATH or in
# /usr/sbin) installed with apt when missing and run as root on Debian; elsewhere that test is skipped.
define debian_server
	@if ! command -v $(1) >/dev/null && [ ! -x /usr/sbin/$(1) ] && [ "$$(id -u)" = 0 ] \
		&& [ -f /etc/debian_version ]; then \
		echo "installing $(2) for $(3): apt-get install -y $(2)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2); \
	fi
	@command -v $(1) >/dev/null || [ -x /usr/sbin/$(1) ] || echo "note: no $(1) (not root on Debian):" \
		"$(3) will be skipped"
endef

pgbouncer:  ## PgBouncer for tests/integration/test_pgbouncer.py: installed with apt when missing and run as root on Debian
	$(call debian_server,pgbouncer,pgbouncer,tests/integration/test_pgbouncer.py)

redis:  ## Redis for tests/integration/test_rate_limit_store.py: installed with apt when missing and run as root on Debian
	$(call debian_server,redis-server,redis-server,tests/integration/test_rate_limit_store.py)

test: $(VENV)/.installed-dev chromium pgbouncer redis  ## the whole suite against real PostgreSQL (embedded unless TEST_DATABASE_URL)
	$(BIN)/python -m pytest -n 2 -q --ignore=tests/browser
	# the browser tests in a process of their own: Playwright's sync API keeps an event loop running in its
	# thread for the whole session, which would break every later test that calls asyncio.run
	WEALTHGATE_TEST_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -q tests/browser

lint: $(VENV)/.installed-dev  ## ruff + mypy strict + hadolint (the Dockerfile)
	$(BIN)/ruff check src tests bench examples scripts
	$(BIN)/ruff format --check src tests bench examples scripts
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile

image:  ## the container image wealthgate:<version> (needs a running Docker daemon; docs/serving.md)
	docker build -t wealthgate:$$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml) .

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix src tests bench examples scripts
	$(BIN)/ruff format src tests bench examples scripts

bench: $(VENV)/.installed-dev  ## context read (cache, ETag, the guide), replicas and read-your-writes, audited writes (MACed), verify over 1M events, search at 10M transactions, imports, audit soak
	$(BIN)/python bench/context.py
	$(BIN)/python bench/replicas.py
	$(BIN)/python bench/audit_writes.py
	$(BIN)/python bench/audit_mac_cost.py
	$(BIN)/python bench/audit_verify.py
	$(BIN)/python bench/search.py
	$(BIN)/python bench/imports.py
	$(BIN)/python bench/audit_soak.py

bench-revisions: $(VENV)/.installed-dev  ## BASE=<revision> [OTHER=<revision>]: the two served at once, context reads in alternation (OTHER: the working tree)
	$(BIN)/python bench/revisions.py $(BASE) $(OTHER)

bench-scale: $(VENV)/.installed-dev  ## the context read at 1,000,000 clients against 10,000 (first run: ~1 h of data)
	BENCH_SCENARIO=context-1m BENCH_CLIENTS=1000000 BENCH_TRANSACTIONS=21 WEALTHGATE_HOME=.bench-home-scale \
		$(BIN)/python bench/context.py
	$(BIN)/python bench/compare.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
