# Tenure: `make run` serves, `make test` tests, `make check` lints, `make bench` measures.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/tenure_test

.PHONY: run test check bench clean browser

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	@mkdir -p var
	$(BIN)/tenure db upgrade
	$(BIN)/tenure demo
	$(BIN)/tenure serve

# Browser tests use Debian's Chromium; install it when missing (no browser download).
browser:
	@test -x /usr/bin/chromium || (apt-get update -q && apt-get install -y -q chromium fonts-liberation)

test: $(STAMP) browser
	TENURE_TEST_PG_URL=$(PG_URL) $(BIN)/pytest -q

check: $(STAMP)
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

# The throughput workloads run through Debian's wrk; install it when missing.
bench: $(STAMP)
	@test -x /usr/bin/wrk || (apt-get update -q && apt-get install -y -q wrk)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var/*.db
