from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = "Documents"

    def ready(self) -> None:
        # event types, the new-agency hook and tasks (by name, for documents.jobs) register
        # themselves
        from audit.archive_keys import AgencyWrapping, register_agency_wrapping
        from audit.registry import register_target_namer
        from documents import access, audit_events, keys, selfscan_access, signals, tasks  # noqa: F401
        from ops import selfscan

        selfscan.register(
            "public_documents", "Public documents: personal data", selfscan_access.sweep
        )
        register_target_namer("documents.document", access.document_names, fallback="a document")
        # The audit log's monthly archives are encrypted under the agency's key, so shredding
        # the agency's keys shreds its archived log too.
        register_agency_wrapping(AgencyWrapping(keys.wrap_archive_key, keys.unwrap_archive_key))
        # An agency's expunge deletes its escrow keys and documents' ciphertext too.
        from documents.expunging import agency_blobs
        from ops.expunge import register_blob_source

        register_blob_source(agency_blobs)
