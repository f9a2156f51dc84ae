"""The agentic clinical assistant: a small example app whose Celery workers celery-topology runs."""
