from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = "Documents"

    def ready(self) -> None:
        # event types and tasks (by name, for documents.jobs) register themselves
        from documents import audit_events, tasks  # noqa: F401
