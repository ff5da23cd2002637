"""The one exception every documents service raises when a rule refuses a change. It lives
apart so that uploads, versions, release, redaction and the settings page can all raise (and
views catch) it without importing each other."""


class DocumentError(Exception):
    """A rule refused the change; the message is for the person who asked."""


class RedactionRefused(DocumentError):
    """A redaction step refused (nothing to apply, a box off the page, a file that can't be
    redacted here); the message is for the person who asked."""
