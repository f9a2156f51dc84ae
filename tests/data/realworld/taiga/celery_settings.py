"""Taiga's own Celery settings, as plain Celery settings, for comparing routing and beat.

From kaleidos-ventures/taiga-back at b6eac2c503eaa955e5d81bc29b2e8a988b7cb36b: docker/config.py
(CELERY_* lowercased without the prefix) and the beat entries taiga/celery.py adds with the docker
settings (SEND_BULK_EMAILS_WITH_CELERY = True, CHANGE_NOTIFICATIONS_MIN_INTERVAL = 120,
FLUSH_REFRESHED_TOKENS_PERIODICITY = 3 * 24 * 3600).
"""

from kombu import Queue

task_default_queue = "tasks"
task_queues = (
    Queue("tasks", routing_key="task.#"),
    Queue("transient", routing_key="transient.#", delivery_mode=1),
)
task_default_exchange = "tasks"
task_default_exchange_type = "topic"
task_default_routing_key = "task.default"
accept_content = ["pickle"]
task_serializer = "pickle"
result_serializer = "pickle"
result_backend = None
timezone = "Europe/Madrid"

beat_schedule = {
    "send-bulk-emails": {
        "task": "taiga.projects.notifications.tasks.send_bulk_email",
        "schedule": 120,
        "args": (),
    },
    "auth-flush-expired-tokens": {
        "task": "taiga.auth.token_denylist.tasks.flush_expired_tokens",
        "schedule": 3 * 24 * 3600,
        "args": (),
    },
}

# No task_routes: everything goes to the default queue 'tasks'.
TASK_NAMES = [
    "taiga.export_import.tasks.dump_project",
    "taiga.webhooks.tasks.change_webhook",
    "taiga.telemetry.tasks.send_telemetry",
    *sorted({entry["task"] for entry in beat_schedule.values()}),
    "no.such.task",
]
ENV = {"CELERY_BROKER_URL": "amqp://guest@127.0.0.1:5672/taiga"}
