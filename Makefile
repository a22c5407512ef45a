# DataAcuity BI pipeline. The two commands a newcomer needs: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
export PYTHONPATH := $(CURDIR)/plugins:$(CURDIR)
export AIRFLOW_HOME ?= $(CURDIR)/.local/airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__UNIT_TEST_MODE := False
export AIRFLOW__COSMOS__ENABLE_TELEMETRY := False
export DBT_PROFILES_DIR := $(CURDIR)/include/dbt

.PHONY: help venv manifest system-deps up down status destroy seed demo test lint format bench airflow clean

help:
	@echo "make demo    - set up everything and run the pipeline end to end once"
	@echo "make test    - set up everything the tests need, then lint and the whole suite"
	@echo "make up|down|status|destroy - the local topology (four PostgreSQL clusters + Alertmanager)"
	@echo "make bench   - benchmarks, printed as ratios against their baselines"
	@echo "make airflow - airflow standalone against the local topology (UI on 127.0.0.1:8080)"

$(VENV)/.installed: requirements.txt requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .  # the dataacuity package and its commands (dataacuity-kill-switch)
	$(PY) -m pip check
	@touch $@

venv: $(VENV)/.installed

# Cosmos renders the transform DAG from this manifest (LoadMode.DBT_MANIFEST): no dbt at parse time.
DBT_MANIFEST := include/dbt/target/manifest.json
$(DBT_MANIFEST): $(VENV)/.installed config/sources.yml $(shell find include/dbt -path include/dbt/target -prune -o -path include/dbt/logs -prune -o -type f -print)
	$(PY) -m tools.build_dbt_manifest

manifest: $(DBT_MANIFEST)

# Debian packages the topology needs: Alertmanager (+amtool) and promtool. Installed once.
system-deps:
	@./tools/install-system-deps.sh

up: venv system-deps
	$(PY) -m tools.topology up

down:
	@if [ -x $(PY) ]; then $(PY) -m tools.topology down; fi

status: venv
	$(PY) -m tools.topology status

destroy:
	@if [ -x $(PY) ]; then $(PY) -m tools.topology destroy; fi

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: venv system-deps lint manifest
	$(PY) -m pytest $(PYTEST_ARGS)

# `make demo PAUSE_EXTRACTION=1`: everything but the extracts, so staleness alerts show up.
demo: up manifest
	$(PY) -m tools.demo $(if $(PAUSE_EXTRACTION),--pause-extraction)

$(CURDIR)/.bench-venv/.installed: bench/requirements-peer.txt
	@test -x .bench-venv/bin/python || $(PYTHON) -m venv .bench-venv
	.bench-venv/bin/python -m pip install --quiet -r bench/requirements-peer.txt
	@touch $@

bench: up $(CURDIR)/.bench-venv/.installed
	$(PY) -m bench $(BENCH_ARGS)

# airflow standalone against the local topology: UI/API on http://127.0.0.1:$(AIRFLOW_PORT), user admin,
# password in $(AIRFLOW_HOME)/simple_auth_manager_passwords.json.generated (printed on first start).
AIRFLOW_PORT ?= 8080
airflow: up manifest
	@source <($(PY) -m tools.topology env) && \
	export PATH="$(CURDIR)/$(VENV)/bin:$$PATH" \
		AIRFLOW__API__HOST=127.0.0.1 \
		AIRFLOW__API__PORT=$(AIRFLOW_PORT) \
		AIRFLOW__API__BASE_URL=http://127.0.0.1:$(AIRFLOW_PORT) \
		AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL=30 && \
	exec airflow standalone

# Warehouse kill switch (security posture §7) from a shell, for when Airflow itself is the problem.
# The same action as the `kill_switch` DAG, by the deployed command `dataacuity-kill-switch`
# (plugins/dataacuity/kill_switch_cli.py; on the Airflow host run it directly). Runbook: docs/runbooks/KillSwitchEngaged.md.
#   make kill-switch-engage REASON="PII found in raw.kyc_db__documents"
#   make kill-switch-release REASON="documents re-landed without PII"
# Connections: the AIRFLOW_CONN_* already in the environment, the local topology's for the missing ones.
# REASON reaches the command through the environment (never pasted into the shell command line).
KILL_SWITCH := $(VENV)/bin/dataacuity-kill-switch
KILL_SWITCH_ENV = source <($(PY) -m tools.topology env --keep-set 2>/dev/null)
.PHONY: kill-switch-engage kill-switch-release kill-switch-status
kill-switch-engage kill-switch-release:
	@if [ -z "$$REASON" ]; then \
		echo 'REASON is required: make $@ REASON="why (at least 10 characters; goes into compliance.incident_log and the page)"' >&2; \
		exit 2; \
	fi
	@test -x $(KILL_SWITCH) || { echo "no $(KILL_SWITCH): run 'make venv' first" >&2; exit 2; }
	@$(KILL_SWITCH_ENV); $(KILL_SWITCH) $(patsubst kill-switch-%,%,$@) --reason "$$REASON"

kill-switch-status:  # exit status 0 whether engaged or not (the command itself exits 3 when engaged)
	@test -x $(KILL_SWITCH) || { echo "no $(KILL_SWITCH): run 'make venv' first" >&2; exit 2; }
	@$(KILL_SWITCH_ENV); $(KILL_SWITCH) status || test $$? -eq 3
