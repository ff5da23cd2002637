from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = "Documents"

    def ready(self) -> None:
        # event types, the new-agency hook and tasks (by name, for documents.jobs) register
        # themselves
        from audit.registry import register_target_namer
        from documents import access, audit_events, signals, tasks  # noqa: F401

        register_target_namer("documents.document", access.document_names, fallback="a document")
