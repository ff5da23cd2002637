"""Audit event types recorded by the requests app."""

from audit.registry import register

REQUEST_SUBMITTED = register("request.submitted", "{actor} filed request {number}")
REQUEST_ACKNOWLEDGED = register("request.acknowledged", "{actor} acknowledged a request")
REQUEST_ROUTED = register("request.routed", "{actor} routed a request")
REQUEST_MESSAGED = register("request.messaged", "{actor} added a {kind} message")
REQUEST_PAUSED = register("request.paused", "{actor} paused a request: {reason}")
REQUEST_DUE_DATE_CHANGED = register(
    "request.due_date_changed", "{actor} changed a due date from {from} to {to}: {reason}"
)
REQUEST_CLOSED = register("request.closed", "{actor} closed a request: {reason}")
REQUEST_REOPENED = register("request.reopened", "{actor} reopened a request: {reason}")
REQUEST_VISIBILITY_CHANGED = register(
    "request.visibility_changed", "{actor} changed a request's visibility from {from} to {to}"
)
REQUEST_PRIVACY_REQUESTED = register(
    "request.private_requested", "{actor} asked to keep request {number} private"
)
REQUEST_DESCRIPTION_HELD = register(
    "request.description_held",
    "Request {number} was kept from the public until staff review it: it may contain {found}",
)
REQUEST_DESCRIPTION_RELEASED = register(
    "request.description_released",
    "{actor} reviewed the description of request {number} and published it",
)
SETTINGS_CHANGED = register("agency.settings_changed", "{actor} changed the agency's settings")
TASK_ADDED = register("request.task_added", "{actor} added a task: {title}")
TASK_DONE = register("request.task_done", "{actor} marked a task done: {title}")
TAGS_CHANGED = register("request.tags_changed", "{actor} changed a request's tags")
TIME_LOGGED = register("request.time_logged", "{actor} logged {minutes} minutes")
TIME_CHANGED = register("request.time_changed", "{actor} changed a time entry")
NOTIFICATION_PREFERENCES_CHANGED = register(
    "notifications.preferences_changed", "{actor} changed which staff emails they get"
)
