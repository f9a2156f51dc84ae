# Development shortcuts. The virtualenv is .venv (see README); override with `make PYTHON=...`.
PYTHON ?= .venv/bin/python
POOL ?=

.PHONY: run-worker run-beat test lint bench

run-worker:  ## one worker: every queue, or `make run-worker POOL=agent` for one pool of topology.yaml
	$(PYTHON) scripts/run_worker.py $(if $(POOL),--pool $(POOL))

run-beat:  ## the one beat process of topology.yaml
	$(PYTHON) scripts/run_beat.py

test:
	$(PYTHON) -m pytest -n auto

lint:
	$(PYTHON) -m ruff check . && $(PYTHON) -m ruff format --check . && $(PYTHON) -m mypy

bench:  ## routing and throughput against plain Celery, printed as ratios
	$(PYTHON) benchmarks/routing.py && $(PYTHON) benchmarks/throughput.py
