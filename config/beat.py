"""The periodic tasks Celery beat sends (settings.CELERY_BEAT_SCHEDULE). Each is a thin task
that fans out one task per active agency (accounts.tenancy.for_each_active_agency) or works
on the platform as a whole; times are UTC."""

from celery.schedules import crontab

from config.env import env_int, env_str

# Where beat keeps each entry's last run (a dyno's disk is thrown away on restart, which only
# means an entry may run once more).
BEAT_SCHEDULE_FILENAME = env_str("CELERY_BEAT_SCHEDULE_FILENAME", "celerybeat-schedule")
# How often beat proves it is alive: the worker writes the time to the cache
# (accounts.tasks.beat_heartbeat), for monitoring and the Procfile test.
HEARTBEAT_SECONDS = env_int("BEAT_HEARTBEAT_SECONDS", 60, minimum=1)

_PLATFORM = {"kwargs": {"agency_id": None}}  # a platform-wide task, outside any agency
_NIGHTLY = crontab(hour=8, minute=40)  # early morning in every US time zone
BEAT_SCHEDULE = {
    # 13:00 UTC is early morning in every US time zone.
    "daily-digests": {
        "task": "requests_portal.tasks.queue_daily_digests",
        "schedule": crontab(hour=13, minute=0),
        "kwargs": {"agency_id": None},
    },
    "documents-upkeep": {
        "task": "documents.tasks.queue_upkeep",
        "schedule": crontab(minute=35),
        "kwargs": {"agency_id": None},
    },
    "forget-sent-forms": {
        "task": "accounts.tasks.queue_upkeep",
        "schedule": crontab(minute=45),
        "kwargs": {"agency_id": None},
    },
    # Seal every audit chain whose head moved; nightly, check every chain against its seals.
    "audit-seal": {"task": "audit.tasks.seal_chains", "schedule": crontab(minute=15), **_PLATFORM},
    "audit-verify": {"task": "audit.tasks.verify_chains", "schedule": _NIGHTLY, **_PLATFORM},
    # Next months' audit partitions; months past the year online archived, then dropped.
    "audit-retention": {
        "task": "audit.tasks.maintain_retention",
        "schedule": crontab(hour=9, minute=20),
        **_PLATFORM,
    },
    # The database backup (ops/backups.py): monthly on the 1st, weekly on Mondays, daily
    # otherwise; rotation after each. 07:10 UTC is the middle of the night in the US.
    "database-backup": {
        "task": "ops.tasks.backup_database",
        "schedule": crontab(hour=7, minute=10),
        **_PLATFORM,
    },
    # The weekly self-scan (ops/selfscan/): Sundays at 06:30 UTC, before the backup.
    "self-scan": {
        "task": "ops.tasks.self_scan",
        "schedule": crontab(day_of_week=0, hour=6, minute=30),
        **_PLATFORM,
    },
    "embargo-publication": {
        "task": "requests_portal.tasks.queue_embargo_publication",
        "schedule": crontab(minute=5),
        "kwargs": {"agency_id": None},
    },
    # Send what the outbox still holds (tasks whose broker was away at commit time).
    "outbox-relay": {
        "task": "accounts.outbox.tasks.relay_outbox",
        "schedule": 60.0,
        **_PLATFORM,
    },
    "beat-heartbeat": {
        "task": "accounts.tasks.beat_heartbeat",
        "schedule": float(HEARTBEAT_SECONDS),
        **_PLATFORM,
    },
    "support-access-expiries": {
        "task": "accounts.tasks.queue_support_expiries",
        "schedule": crontab(minute="*/15"),
        "kwargs": {"agency_id": None},
    },
    # Stripe events left unprocessed (Stripe did not answer while one was applied).
    "stripe-webhook-retries": {
        "task": "billing.tasks.queue_webhook_retries",
        "schedule": crontab(minute="*/10"),
        **_PLATFORM,
    },
    # Outgoing webhooks whose next try is due (webhooks/services.py: backoff after a failure).
    "webhook-retries": {
        "task": "webhooks.tasks.queue_due_deliveries",
        "schedule": crontab(),
        **_PLATFORM,
    },
    # Residents' data downloads past their time (residents/services/exports.py).
    "expire-data-exports": {
        "task": "residents.tasks.expire_exports",
        "schedule": crontab(minute=50),
        **_PLATFORM,
    },
    # Replies by email in agencies' own mailboxes (IMAP): one task per agency.
    "poll-reply-mailboxes": {
        "task": "mailin.tasks.poll_mailboxes",
        "schedule": crontab(minute="*/5"),
        **_PLATFORM,
    },
}
