from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        # the reports' event types and page titles register themselves
        from billing import report_events  # noqa: F401
