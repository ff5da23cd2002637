"""Uploading files to a request: the resumable protocol its script speaks and the form that
works without JavaScript. Files are encrypted as they arrive, stored chunk by chunk, and end
as a quarantined document whose scan is queued (documents.scan)."""
