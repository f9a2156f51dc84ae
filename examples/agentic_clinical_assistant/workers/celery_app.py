"""The Celery app: everything about queues, routes, priorities, retries and beat comes from topology.yaml.

The topology is read from CELERY_TOPOLOGY_FILE, else ./topology.yaml (the working directory of
the worker, as the rendered units set it).
"""

from celery import Celery

from celery_topology import configure

app = Celery(
    "agentic_clinical_assistant",
    include=[
        "agentic_clinical_assistant.workers.tasks.agent",
        "agentic_clinical_assistant.workers.tasks.ingestion",
        "agentic_clinical_assistant.workers.tasks.evaluation",
    ],
)
topology = configure(app)
