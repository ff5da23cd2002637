"""What a service raises when one of its rules refuses a change."""

from __future__ import annotations


class ServiceError(Exception):
    """A rule refused the change; the message is for the person who asked."""


class ServiceFieldError(ServiceError):
    """A refusal about one field of the form that asked (``field``)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
