"""Audit event types of a resident's own data: the download of everything the portal holds
about them, and the deletion of their account."""

from audit.registry import category, register, register_page_titles

OWN_DATA = category("own_data", "Residents' own data", 25)

EXPORT_ASKED = register(
    "own_data.export_asked",
    "{actor} asked for a download of their data",
    label="Asked for a download of their data",
    category=OWN_DATA,
)
EXPORT_BUILT = register(
    "own_data.export_built",
    "A download of {actor}'s data was made ({agencies} agencies, {files} files)",
    label="A download of a person's data was made",
    category=OWN_DATA,
)
EXPORT_FAILED = register(
    "own_data.export_failed",
    "A download of {actor}'s data could not be made",
    label="A download of a person's data failed",
    category=OWN_DATA,
)
EXPORT_DOWNLOADED = register(
    "own_data.export_downloaded",
    "{actor} downloaded their data",
    label="Downloaded their data",
    category=OWN_DATA,
)
EXPORT_EXPIRED = register(
    "own_data.export_expired",
    "A download of a person's data expired and was deleted",
    label="A download of a person's data expired",
    category=OWN_DATA,
)
ACCOUNT_DELETED = register(
    "own_data.account_deleted",
    "A person deleted their account ({requests} requests kept without their details)",
    label="Deleted their account",
    category=OWN_DATA,
)
REQUESTER_REMOVED = register(
    "own_data.requester_removed",
    "The requester's details were removed from {requests} requests (account deleted)",
    label="Requester's details removed (account deleted)",
    category=OWN_DATA,
)

register_page_titles(
    {
        "residents:data": "the page of their own data",
        "residents:export_status": "the progress of a download of their data",
        "residents:export_download": "the download of their data",
        "residents:account_delete": "the account deletion page",
    }
)
