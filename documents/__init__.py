"""Documents: encryption, storage, download tokens, scans and redaction (issue 5)."""
