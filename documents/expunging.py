"""What an agency's expunge (ops/expunge.py) deletes from storage besides its rows: the
escrow keys of every version of its key (crypto-shredding), and the ciphertext of its
documents' versions and of its uploads. Registered with ops from DocumentsConfig.ready (ops
sits below documents and cannot import it)."""

from __future__ import annotations

from collections.abc import Iterator

from documents.keys import escrow_names
from documents.models import DocumentVersion, Upload


def agency_blobs(agency_id: int) -> Iterator[tuple[str, str]]:
    """(store, name) of every blob of the agency; read inside the expunge's transaction."""
    for name in escrow_names(agency_id):
        yield "keys", name
    for model in (DocumentVersion, Upload):
        for name in model.objects.filter(agency_id=agency_id).values_list(
            "storage_name", flat=True
        ):
            yield "documents", name
