"""Mayan EDMS's Celery settings as its CeleryQueue classes leave them, as plain Celery settings.

From mayan-edms/Mayan-EDMS at 71788a5196547c61c1ee457ba386cfee98b77daf: mayan/settings/base.py
(CELERY_*), then mayan/apps/task_manager/classes.py CeleryQueue._update_celery applied to every
mayan/apps/*/queues.py: one Queue per CeleryQueue, one task_routes entry per task type, one
beat_schedule entry per task type with a schedule.
"""

from datetime import timedelta

from kombu import Exchange, Queue

task_default_queue = "celery"
task_create_missing_queues = True
task_serializer = "json"
result_serializer = "json"
accept_content = ("json",)
worker_disable_rate_limits = True
timezone = "UTC"
enable_utc = True

task_queues = [
    Queue(name="converter", exchange=Exchange("converter"), routing_key="converter", delivery_mode=1),
    Queue(name="sources_fast", exchange=Exchange("sources_fast"), routing_key="sources_fast", delivery_mode=1),
    Queue(name="indexing", exchange=Exchange("indexing"), routing_key="indexing"),
    Queue(name="parsing", exchange=Exchange("parsing"), routing_key="parsing"),
    Queue(
        name="document_states_medium", exchange=Exchange("document_states_medium"), routing_key="document_states_medium"
    ),
    Queue(name="documents", exchange=Exchange("documents"), routing_key="documents"),
    Queue(name="duplicates", exchange=Exchange("duplicates"), routing_key="duplicates"),
    Queue(name="search", exchange=Exchange("search"), routing_key="search"),
    Queue(name="search_slow", exchange=Exchange("search_slow"), routing_key="search_slow"),
    Queue(name="file_caching", exchange=Exchange("file_caching"), routing_key="file_caching"),
    Queue(name="file_metadata", exchange=Exchange("file_metadata"), routing_key="file_metadata"),
    Queue(name="metadata", exchange=Exchange("metadata"), routing_key="metadata"),
    Queue(name="sources", exchange=Exchange("sources"), routing_key="sources"),
    Queue(
        name="checkouts_periodic",
        exchange=Exchange("checkouts_periodic"),
        routing_key="checkouts_periodic",
        delivery_mode=1,
    ),
    Queue(name="signatures", exchange=Exchange("signatures"), routing_key="signatures"),
    Queue(
        name="documents_periodic",
        exchange=Exchange("documents_periodic"),
        routing_key="documents_periodic",
        delivery_mode=1,
    ),
    Queue(name="uploads", exchange=Exchange("uploads"), routing_key="uploads"),
    Queue(name="events", exchange=Exchange("events"), routing_key="events", delivery_mode=1),
    Queue(name="mailing", exchange=Exchange("mailing"), routing_key="mailing"),
    Queue(name="statistics", exchange=Exchange("statistics"), routing_key="statistics", delivery_mode=1),
    Queue(
        name="sources_periodic", exchange=Exchange("sources_periodic"), routing_key="sources_periodic", delivery_mode=1
    ),
    Queue(name="tools", exchange=Exchange("tools"), routing_key="tools"),
    Queue(name="ocr", exchange=Exchange("ocr"), routing_key="ocr"),
    Queue(
        name="storage_periodic", exchange=Exchange("storage_periodic"), routing_key="storage_periodic", delivery_mode=1
    ),
]

task_routes = {
    "mayan.apps.converter.tasks.task_content_object_image_generate": {"queue": "converter"},
    "mayan.apps.document_indexing.tasks.task_index_instance_node_delete_empty": {"queue": "indexing"},
    "mayan.apps.document_indexing.tasks.task_index_instance_document_remove": {"queue": "indexing"},
    "mayan.apps.document_indexing.tasks.task_index_instance_document_add": {"queue": "indexing"},
    "mayan.apps.document_parsing.tasks.task_parse_document_file": {"queue": "parsing"},
    "mayan.apps.document_states.tasks.task_launch_workflow_for": {"queue": "document_states_medium"},
    "mayan.apps.document_states.tasks.task_launch_all_workflow_for": {"queue": "document_states_medium"},
    "mayan.apps.document_states.tasks.task_workflow_instance_check_escalation": {"queue": "document_states_medium"},
    "mayan.apps.document_states.tasks.task_workflow_instance_check_escalation_all": {"queue": "document_states_medium"},
    "mayan.apps.documents.tasks.task_trash_can_empty": {"queue": "documents"},
    "mayan.apps.documents.tasks.task_trashed_document_delete": {"queue": "documents"},
    "mayan.apps.documents.tasks.task_document_version_page_list_append": {"queue": "documents"},
    "mayan.apps.documents.tasks.task_document_version_page_list_reset": {"queue": "documents"},
    "mayan.apps.documents.tasks.task_document_version_delete": {"queue": "documents"},
    "mayan.apps.documents.tasks.task_document_version_export": {"queue": "documents"},
    "mayan.apps.duplicates.tasks.task_duplicates_clean_empty_lists": {"queue": "duplicates"},
    "mayan.apps.duplicates.tasks.task_duplicates_scan_for": {"queue": "duplicates"},
    "mayan.apps.dynamic_search.tasks.task_deindex_instance": {"queue": "search"},
    "mayan.apps.dynamic_search.tasks.task_index_instance": {"queue": "search"},
    "mayan.apps.dynamic_search.tasks.task_index_instances": {"queue": "search"},
    "mayan.apps.dynamic_search.tasks.task_index_related_instance_m2m": {"queue": "search"},
    "mayan.apps.dynamic_search.tasks.task_reindex_backend": {"queue": "search_slow"},
    "mayan.apps.file_caching.tasks.task_cache_partition_purge": {"queue": "file_caching"},
    "mayan.apps.file_metadata.tasks.task_process_document_file": {"queue": "file_metadata"},
    "mayan.apps.metadata.tasks.task_remove_metadata_type": {"queue": "metadata"},
    "mayan.apps.metadata.tasks.task_add_required_metadata_type": {"queue": "metadata"},
    "mayan.apps.sources.tasks.task_process_document_upload": {"queue": "sources"},
    "mayan.apps.checkouts.tasks.task_check_expired_check_outs": {"queue": "checkouts_periodic"},
    "mayan.apps.document_signatures.tasks.task_verify_key_signatures": {"queue": "signatures"},
    "mayan.apps.document_signatures.tasks.task_unverify_key_signatures": {"queue": "signatures"},
    "mayan.apps.document_signatures.tasks.task_verify_document_file": {"queue": "signatures"},
    "mayan.apps.documents.tasks.task_document_type_document_trash_periods_check": {"queue": "documents_periodic"},
    "mayan.apps.documents.tasks.task_document_stubs_delete": {"queue": "documents_periodic"},
    "mayan.apps.documents.tasks.task_document_type_trashed_document_delete_periods_check": {
        "queue": "documents_periodic"
    },
    "mayan.apps.documents.tasks.task_document_file_page_count_update": {"queue": "uploads"},
    "mayan.apps.documents.tasks.task_document_file_upload": {"queue": "uploads"},
    "mayan.apps.documents.tasks.task_document_upload": {"queue": "uploads"},
    "mayan.apps.events.tasks.task_event_queryset_clear": {"queue": "events"},
    "mayan.apps.events.tasks.task_event_queryset_export": {"queue": "events"},
    "mayan.apps.mailer.tasks.task_send_object": {"queue": "mailing"},
    "mayan.apps.mayan_statistics.tasks.task_execute_statistic": {"queue": "statistics"},
    "mayan.apps.sources.tasks.task_source_process_document": {"queue": "sources_periodic"},
    "mayan.apps.document_indexing.tasks.task_index_template_rebuild": {"queue": "tools"},
    "mayan.apps.document_signatures.tasks.task_verify_missing_embedded_signature": {"queue": "tools"},
    "mayan.apps.document_signatures.tasks.task_refresh_signature_information": {"queue": "tools"},
    "mayan.apps.document_states.tasks.task_launch_all_workflows": {"queue": "tools"},
    "mayan.apps.document_states.tasks.task_launch_workflow": {"queue": "tools"},
    "mayan.apps.duplicates.tasks.task_duplicates_scan_all": {"queue": "tools"},
    "mayan.apps.file_caching.tasks.task_cache_purge": {"queue": "tools"},
    "mayan.apps.ocr.tasks.task_document_version_ocr_finished": {"queue": "ocr"},
    "mayan.apps.ocr.tasks.task_document_version_page_ocr_process": {"queue": "ocr"},
    "mayan.apps.ocr.tasks.task_document_version_ocr_process": {"queue": "ocr"},
    "mayan.apps.storage.tasks.task_shared_upload_stale_delete": {"queue": "storage_periodic"},
    "mayan.apps.storage.tasks.task_download_files_stale_delete": {"queue": "storage_periodic"},
}

beat_schedule = {
    "task_check_expired_check_outs": {
        "task": "mayan.apps.checkouts.tasks.task_check_expired_check_outs",
        "schedule": timedelta(seconds=60),
    },
    "task_workflow_instance_check_escalation_all": {
        "task": "mayan.apps.document_states.tasks.task_workflow_instance_check_escalation_all",
        "schedule": timedelta(seconds=300),
    },
    "task_document_type_document_trash_periods_check": {
        "task": "mayan.apps.documents.tasks.task_document_type_document_trash_periods_check",
        "schedule": timedelta(seconds=60),
    },
    "task_document_stubs_delete": {
        "task": "mayan.apps.documents.tasks.task_document_stubs_delete",
        "schedule": timedelta(seconds=600),
    },
    "task_document_type_trashed_document_delete_periods_check": {
        "task": "mayan.apps.documents.tasks.task_document_type_trashed_document_delete_periods_check",
        "schedule": timedelta(seconds=60),
    },
    "task_shared_upload_stale_delete": {
        "task": "mayan.apps.storage.tasks.task_shared_upload_stale_delete",
        "schedule": timedelta(seconds=600),
    },
    "task_download_files_stale_delete": {
        "task": "mayan.apps.storage.tasks.task_download_files_stale_delete",
        "schedule": timedelta(seconds=600),
    },
}

TASK_NAMES = [*task_routes, "mayan.apps.no_such_app.tasks.task_nothing"]
ENV = {
    "MAYAN_CELERY_BROKER_URL": "amqp://guest@127.0.0.1:5672/mayan",
    "MAYAN_CELERY_RESULT_BACKEND": "redis://127.0.0.1:6379/1",
}
