"""Weblate's own Celery settings, as plain Celery settings, for comparing routing and beat.

task_routes: weblate/settings_docker.py at d9769ed771c0899c9884f285bc32948ed14b0661.
beat_schedule: what weblate/trans/tasks.py setup_periodic_tasks (at
bd7e32b1122c649305701868f9e75dfa99dcf86e) adds through app.add_periodic_task, written as the
beat_schedule entries Celery makes of them.
"""

from celery.schedules import crontab

task_default_queue = "celery"
broker_connection_retry_on_startup = True
worker_max_memory_per_child = 200000
timezone = "UTC"

task_routes = {
    "weblate.trans.tasks.auto_translate": {"queue": "translate"},
    "weblate.accounts.tasks.notify_*": {"queue": "notify"},
    "weblate.accounts.tasks.send_mails": {"queue": "notify"},
    "weblate.utils.tasks.settings_backup": {"queue": "backup"},
    "weblate.utils.tasks.database_backup": {"queue": "backup"},
    "weblate.wladmin.tasks.backup": {"queue": "backup"},
    "weblate.wladmin.tasks.backup_service": {"queue": "backup"},
    "weblate.memory.tasks.*": {"queue": "memory"},
}

beat_schedule = {
    "commit-pending": {"task": "weblate.trans.tasks.commit_pending", "schedule": 3600},
    "update-remotes": {"task": "weblate.trans.tasks.update_remotes", "schedule": 3600 * 24},
    "suggestions-cleanup": {"task": "weblate.trans.tasks.cleanup_suggestions", "schedule": 3600 * 24},
    "cleanup-stale-repos": {"task": "weblate.trans.tasks.cleanup_stale_repos", "schedule": 3600 * 24},
    "cleanup-old-suggestions": {"task": "weblate.trans.tasks.cleanup_old_suggestions", "schedule": 3600 * 24},
    "fulltext-cleanup": {
        "task": "weblate.trans.tasks.cleanup_fulltext",
        "schedule": crontab(hour=2, minute=30, day_of_week="saturday"),
    },
    "fulltext-optimize": {
        "task": "weblate.trans.tasks.optimize_fulltext",
        "schedule": crontab(hour=2, minute=30, day_of_week="sunday"),
    },
}

TASK_NAMES = [
    *task_routes,
    "weblate.trans.tasks.auto_translate_component",  # `auto_translate` has no `*`: exact only
    "weblate.accounts.tasks.notify_change",
    "weblate.accounts.tasks.notify_digest",
    "weblate.memory.tasks.import_memory",
    "weblate.memory.tasks.handle_unit_translation_change",
    *sorted({entry["task"] for entry in beat_schedule.values()}),
    "no.such.task",
]
ENV = {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": "6379", "REDIS_DB": "1"}
