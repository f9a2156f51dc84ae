"""Celery app and tasks of the clinical assistant."""
