"""Adopting an existing Celery app: read its configuration, write a topology, prove the two agree.

`read.py` imports the app (the only place that imports the application's code) and turns its
settings into a draft topology with notes where a human decides; `beat.py` converts its
schedules; `workers.py` reads `celery worker` command lines into pools; `emit.py` writes the
draft as commented YAML; `verify.py` configures a fresh app from the written file and lists every
task or beat entry that would run differently.
"""
