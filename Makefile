# Development shortcuts. The virtualenv is .venv (see README); override with `make PYTHON=...`.
PYTHON ?= .venv/bin/python
POOL ?=

.PHONY: run-worker run-beat demo test lint bench

run-worker:  ## one worker: every queue, or `make run-worker POOL=agent` for one pool of topology.yaml
	$(PYTHON) scripts/run_worker.py $(if $(POOL),--pool $(POOL))

run-beat:  ## the one beat process of topology.yaml
	$(PYTHON) scripts/run_beat.py

demo:  ## a private redis-server, one worker per pool, each seed task once: which pool ran it; then all stopped
	$(PYTHON) scripts/demo.py

test:
	$(PYTHON) -m pytest -n 4

lint:
	$(PYTHON) -m ruff check . && $(PYTHON) -m ruff format --check . && $(PYTHON) -m mypy

bench:  ## routing, throughput and one probe call against plain Celery, printed as ratios
	$(PYTHON) benchmarks/routing.py && $(PYTHON) benchmarks/throughput.py && $(PYTHON) benchmarks/probe.py
