"""Read the Docs' own Celery settings, as plain Celery settings, for comparing routing and beat.

From readthedocs/readthedocs.org readthedocs/settings/base.py at
7937196123747181054d4c2361ec81f93c37f8f2 (CELERY_* with the CELERY_ prefix removed and lowercased).
"""

from celery.schedules import crontab

task_default_queue = "celery"
task_create_missing_queues = True
task_acks_late = True
task_ignore_result = True
task_time_limit = 60 * 60
worker_prefetch_multiplier = 1
broker_transport_options = {"visibility_timeout": 18000}
timezone = "UTC"

beat_schedule = {
    "every-minute-finish-unhealthy-builds": {
        "task": "readthedocs.projects.tasks.utils.finish_unhealthy_builds",
        "schedule": crontab(minute="*"),
        "options": {"queue": "web"},
    },
    "every-day-delete-old-search-queries": {
        "task": "readthedocs.search.tasks.delete_old_search_queries_from_db",
        "schedule": crontab(minute=0, hour=0),
        "options": {"queue": "web"},
    },
    "every-day-disable-search-indexing": {
        "task": "readthedocs.search.tasks.disable_search_indexing_for_projects_without_recent_searches",
        "schedule": crontab(minute=15, hour=0),
        "options": {"queue": "web"},
    },
    "every-day-delete-old-page-views": {
        "task": "readthedocs.analytics.tasks.delete_old_page_counts",
        "schedule": crontab(minute=27, hour="*/6"),
        "options": {"queue": "web"},
    },
    "every-day-delete-old-buildata-models": {
        "task": "readthedocs.telemetry.tasks.delete_old_build_data",
        "schedule": crontab(minute=0, hour="2"),
        "options": {"queue": "web"},
    },
    "every-day-delete-old-buildconfig-models": {
        "task": "readthedocs.builds.tasks.remove_orphan_build_config",
        "schedule": crontab(minute=30, hour=2),
        "options": {"queue": "web"},
    },
    "weekly-delete-old-personal-audit-logs": {
        "task": "readthedocs.audit.tasks.delete_old_personal_audit_logs",
        "schedule": crontab(day_of_week="wed", minute=0, hour=7),
        "options": {"queue": "web"},
    },
    "every-day-resync-repositories-from-sso-organizations": {
        "task": "readthedocs.oauth.tasks.sync_remote_repositories_from_sso_organizations",
        "schedule": crontab(minute=0, hour=4),
        "options": {"queue": "web"},
    },
    "quarter-archive-builds": {
        "task": "readthedocs.builds.tasks.archive_builds_task",
        "schedule": crontab(minute="*/15"),
        "options": {"queue": "web"},
        "kwargs": {"days": 1, "limit": 500},
    },
    "every-30m-delete-inactive-external-versions": {
        "task": "readthedocs.builds.tasks.delete_closed_external_versions",
        "schedule": crontab(minute="*/30", hour="*"),
        "options": {"queue": "web"},
    },
    "every-day-resync-remote-repositories": {
        "task": "readthedocs.oauth.tasks.sync_active_users_remote_repositories",
        "schedule": crontab(minute=30, hour=2),
        "options": {"queue": "web"},
    },
    "every-day-email-pending-custom-domains": {
        "task": "readthedocs.domains.tasks.email_pending_custom_domains",
        "schedule": crontab(minute=0, hour=3),
        "options": {"queue": "web"},
    },
    "every-15m-delete-pidbox-objects": {
        "task": "readthedocs.core.tasks.cleanup_pidbox_keys",
        "schedule": crontab(minute="*/15"),
        "options": {"queue": "web"},
    },
    "every-day-delete-old-revoked-build-api-keys": {
        "task": "readthedocs.api.v2.tasks.delete_old_revoked_build_api_keys",
        "schedule": crontab(minute=0, hour=4),
        "options": {"queue": "web"},
    },
    "every-hour-delete-old-build-objects": {
        "task": "readthedocs.builds.tasks.delete_old_build_objects",
        "schedule": crontab(minute=22, hour="*"),
        "options": {"queue": "web"},
        "kwargs": {"days": 365 * 3, "keep_recent": 250, "limit": 10_000, "max_projects": 2_500},
    },
}

# No task_routes: queues are chosen in task decorators (queue="web") and, until 4725bf8f2, by the
# TaskRouter class; neither is a setting. Every name therefore routes to the default queue here.
TASK_NAMES = [
    "readthedocs.projects.tasks.builds.update_docs_task",
    "readthedocs.projects.tasks.builds.sync_repository_task",
    "worker.tasks.run_build",
    *sorted({entry["task"] for entry in beat_schedule.values()}),
    "no.such.task",
]
ENV = {"CELERY_BROKER_URL": "redis://127.0.0.1:6379/0", "CELERY_LOG_LEVEL": "info"}
