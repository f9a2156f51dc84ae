"""Saleor's own Celery settings, as plain Celery settings, for comparing routing and beat.

From saleor/saleor saleor/settings.py at 723cd4eba87dfc72822ade45dc08a3caa548428d, with the
environment of ENV below (every optional queue unset, observability on). The entries whose
schedule is an object in Saleor's code (saleor.core.schedules) are listed in CUSTOM_SCHEDULES
instead: this module may import only celery, kombu and datetime.
"""

import datetime

from celery.schedules import crontab

task_default_queue = "celery"
task_serializer = "json"
result_serializer = "json"
accept_content = ["json"]
timezone = "UTC"
worker_prefetch_multiplier = 1
beat_max_loop_interval = 300

BEAT_EXPIRE_ORDERS_AFTER_TIMEDELTA = datetime.timedelta(seconds=300)  # "5 minutes"
BEAT_PRICE_RECALCULATION_SCHEDULE = 30  # "30 seconds"
BEAT_PRICE_RECALCULATION_SCHEDULE_EXPIRE_AFTER_SEC = BEAT_PRICE_RECALCULATION_SCHEDULE
OBSERVABILITY_REPORT_PERIOD = datetime.timedelta(seconds=20)  # "20 seconds"

beat_schedule = {
    "delete-empty-allocations": {
        "task": "saleor.warehouse.tasks.delete_empty_allocations_task",
        "schedule": datetime.timedelta(days=1),
    },
    "deactivate-preorder-for-variants": {
        "task": "saleor.product.tasks.deactivate_preorder_for_variants_task",
        "schedule": datetime.timedelta(hours=1),
    },
    "delete-expired-reservations": {
        "task": "saleor.warehouse.tasks.delete_expired_reservations_task",
        "schedule": datetime.timedelta(days=1),
    },
    "delete-expired-checkouts": {
        "task": "saleor.checkout.tasks.delete_expired_checkouts",
        "schedule": crontab(hour=0, minute=0),
    },
    "delete_expired_orders": {
        "task": "saleor.order.tasks.delete_expired_orders_task",
        "schedule": crontab(hour=2, minute=0),
    },
    "delete-outdated-event-data": {
        "task": "saleor.core.tasks.delete_event_payloads_task",
        "schedule": datetime.timedelta(days=1),
    },
    "deactivate-expired-gift-cards": {
        "task": "saleor.giftcard.tasks.deactivate_expired_cards_task",
        "schedule": crontab(hour=0, minute=0),
    },
    "update-stocks-quantity-allocated": {
        "task": "saleor.warehouse.tasks.update_stocks_quantity_allocated_task",
        "schedule": crontab(hour=0, minute=0),
    },
    "delete-old-export-files": {
        "task": "saleor.csv.tasks.delete_old_export_files",
        "schedule": crontab(hour=1, minute=0),
    },
    "expire-orders": {
        "task": "saleor.order.tasks.expire_orders_task",
        "schedule": BEAT_EXPIRE_ORDERS_AFTER_TIMEDELTA,
    },
    "remove-apps-marked-as-removed": {
        "task": "saleor.app.tasks.remove_apps_task",
        "schedule": crontab(hour=3, minute=0),
    },
    "release-funds-for-abandoned-checkouts": {
        "task": "saleor.payment.tasks.transaction_release_funds_for_checkout_task",
        "schedule": datetime.timedelta(minutes=10),
    },
    "recalculate-promotion-rules": {
        "task": "saleor.product.tasks.update_variant_relations_for_active_promotion_rules_task",
        "schedule": datetime.timedelta(seconds=BEAT_PRICE_RECALCULATION_SCHEDULE),
        "options": {"expires": BEAT_PRICE_RECALCULATION_SCHEDULE_EXPIRE_AFTER_SEC},
    },
    "recalculate-discounted-price-for-products": {
        "task": "saleor.product.tasks.recalculate_discounted_price_for_products_task",
        "schedule": datetime.timedelta(seconds=BEAT_PRICE_RECALCULATION_SCHEDULE),
        "options": {"expires": BEAT_PRICE_RECALCULATION_SCHEDULE_EXPIRE_AFTER_SEC},
    },
    # `if OBSERVABILITY_ACTIVE:` in Saleor; ENV turns it on
    "observability-reporter": {
        "task": "saleor.webhook.transport.asynchronous.transport.observability_reporter_task",
        "schedule": OBSERVABILITY_REPORT_PERIOD,
        "options": {"expires": OBSERVABILITY_REPORT_PERIOD.total_seconds()},
    },
}

# entry name -> (task, the schedule object's import path in Saleor's code)
CUSTOM_SCHEDULES = {
    "handle-promotion-toggle": (
        "saleor.discount.tasks.handle_promotion_toggle",
        "saleor.core.schedules:initiated_promotion_webhook_schedule",
    ),
    "update-products-search-vectors": (
        "saleor.product.tasks.update_products_search_vector_task",
        "saleor.core.schedules:initiated_product_search_update_schedule",
    ),
    "update-gift-cards-search-vectors": (
        "saleor.giftcard.tasks.update_gift_cards_search_vector_task",
        "saleor.core.schedules:initiated_gift_card_search_update_schedule",
    ),
    "update-pages-search-vectors": (
        "saleor.page.tasks.update_pages_search_vector_task",
        "saleor.core.schedules:initiated_page_search_update_schedule",
    ),
    "update-checkouts-search-vectors": (
        "saleor.checkout.tasks.update_checkouts_search_vector_task",
        "saleor.core.schedules:initiated_checkout_search_update_schedule",
    ),
    "checkout-automatic-completion": (
        "saleor.checkout.tasks.trigger_automatic_checkout_completion_task",
        "saleor.core.schedules:initiated_checkout_automatic_completion_schedule",
    ),
}

# No task_routes: Saleor passes queue= at apply_async time; every name routes to the default queue.
TASK_NAMES = [
    "saleor.webhook.transport.asynchronous.transport.send_webhook_request_async",
    *sorted({entry["task"] for entry in beat_schedule.values()}),
    *sorted(task for task, _ in CUSTOM_SCHEDULES.values()),
    "no.such.task",
]
ENV = {"CELERY_BROKER_URL": "redis://127.0.0.1:6379/0", "OBSERVABILITY_ACTIVE": "true"}
