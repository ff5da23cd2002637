"""Audit event types recorded by the requests app, with the label, category and sentence the
audit log shows for each, and the titles of the requests pages."""

from collections.abc import Callable, Mapping
from typing import Any

from accounts.audit_events import SETTINGS
from audit.registry import Category, EventType, Sentence, category, register, register_page_titles
from requests_portal.models import Channel, MessageKind, Visibility

REQUESTS = category("requests", "Requests", 30)
MESSAGES = category("messages", "Messages", 40)


def _label(choices: Any, value: object) -> str:
    """A stored choice in words ("all_staff" → "All agency staff"); unknown values as they are."""
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def _event(code: str, template: Sentence, label: str, group: Category = REQUESTS) -> EventType:
    return register(code, template, label=label, category=group)


def _submitted(ctx: Mapping[str, Any]) -> str:
    channel = ctx.get("channel", Channel.WEB)
    if channel == Channel.WEB:
        return f"{ctx['actor']} filed request {ctx['number']} on the web form"
    if channel == Channel.API:
        return f"{ctx['actor']} filed request {ctx['number']} through the API"
    how = _label(Channel, channel).lower()
    return f"{ctx['actor']} entered request {ctx['number']}, received by {how}"


_MESSAGE_SENTENCES = {
    MessageKind.INTERNAL: "{actor} added an internal note on {target}",
    MessageKind.TO_REQUESTER: "{actor} sent a message to the requester on {target}",
    MessageKind.FROM_REQUESTER: "{actor} wrote to the agency on {target}",
    MessageKind.PUBLIC_NOTE: "{actor} added a public note on {target}",
}


def _messaged(ctx: Mapping[str, Any]) -> str:
    template = _MESSAGE_SENTENCES.get(ctx["kind"], "{actor} added a message on {target}")
    return template.format(actor=ctx["actor"], target=ctx["target"] or "a request")


def _visibility(ctx: Mapping[str, Any]) -> str:
    return (
        f"{ctx['actor']} changed who can see {ctx['target'] or 'a request'} from "
        f"“{_label(Visibility, ctx['from'])}” to “{_label(Visibility, ctx['to'])}”"
    )


def _active(ctx: Mapping[str, Any]) -> str:
    return "turned on" if ctx.get("active") else "turned off"


# Agency settings: one event code, one sentence per kind of change ("what").
_SETTINGS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "request_settings": lambda c: "changed the request settings",
    "holiday_added": lambda c: f"added the holiday {c['name']} ({c['date']})",
    "holiday_removed": lambda c: f"removed the holiday {c['name']} ({c['date']})",
    "closure_reason_added": lambda c: f"added the closing reason “{c['name']}”",
    "closure_reason_active": lambda c: f"{_active(c)} the closing reason “{c['name']}”",
    "department_created": lambda c: f"created the department {c['name']}",
    "department_changed": lambda c: f"changed the department {c['was']} (now {c['name']})",
    "department_member": lambda c: (
        f"{'added' if c['member'] else 'removed'} a member "
        f"{'to' if c['member'] else 'from'} the department {c['department']}"
    ),
    "template_saved": lambda c: f"saved the response template “{c['name']}”",
    "template_deleted": lambda c: f"deleted the response template “{c['name']}”",
    "request_type_saved": lambda c: f"saved the request type “{c['name']}”",
    "request_type_active": lambda c: f"{_active(c)} the request type “{c['name']}”",
    "custom_field_added": lambda c: f"added the form field “{c['label']}”",
    "custom_field_active": lambda c: f"{_active(c)} the form field “{c['label']}”",
}


def _settings_changed(ctx: Mapping[str, Any]) -> str:
    if "holidays_added" in ctx:
        return f"{ctx['actor']} added {ctx['holidays_added']} standard holidays"
    change = _SETTINGS.get(str(ctx.get("what", "")))
    return f"{ctx['actor']} {change(ctx) if change else 'changed the agency settings'}"


def _minutes(value: object) -> str:
    minutes = int(str(value))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


REQUEST_SUBMITTED = _event("request.submitted", _submitted, "Filed a request")
REQUEST_ACKNOWLEDGED = _event(
    "request.acknowledged", "{actor} acknowledged {target}", "Acknowledged a request"
)
REQUEST_ROUTED = _event(
    "request.routed", "{actor} routed {target} to departments", "Routed a request"
)
REQUEST_MESSAGED = _event("request.messaged", _messaged, "Wrote a message or note", MESSAGES)
REQUEST_PAUSED = _event("request.paused", "{actor} paused {target}: {reason}", "Paused a request")
REQUEST_DUE_DATE_CHANGED = _event(
    "request.due_date_changed",
    lambda c: (
        f"{c['actor']} moved the due date of {c['target']} from {c['from']} to {c['to']}: "
        f"{c['reason']}"
    ),
    "Changed a due date",
)
REQUEST_CLOSED = _event("request.closed", "{actor} closed {target}: {reason}", "Closed a request")
REQUEST_REOPENED = _event(
    "request.reopened", "{actor} reopened {target}: {reason}", "Reopened a request"
)
REQUEST_VISIBILITY_CHANGED = _event(
    "request.visibility_changed", _visibility, "Changed who can see a request"
)
REQUEST_PRIVACY_REQUESTED = _event(
    "request.private_requested",
    "{actor} asked to keep request {number} private",
    "Asked to keep a request private",
)
REQUEST_DESCRIPTION_HELD = _event(
    "request.description_held",
    "Request {number} was kept from the public until staff review it: it may contain {found}",
    "Held a description from the public",
)
REQUEST_DESCRIPTION_RELEASED = _event(
    "request.description_released",
    "{actor} reviewed the description of request {number} and published it",
    "Published a reviewed description",
)
SETTINGS_CHANGED = _event(
    "agency.settings_changed", _settings_changed, "Changed the agency's settings", SETTINGS
)
TASK_ADDED = _event(
    "request.task_added", "{actor} added the task “{title}” to {target}", "Added a task"
)
TASK_DONE = _event(
    "request.task_done",
    lambda c: (
        f"{c['actor']} marked the task “{c['title']}” on {c['target']} "
        f"{'done' if c.get('done', True) else 'not done'}"
    ),
    "Marked a task done",
)
TAGS_CHANGED = _event(
    "request.tags_changed", "{actor} changed the tags of {target}", "Changed tags"
)
TIME_LOGGED = _event(
    "request.time_logged",
    lambda c: f"{c['actor']} logged {_minutes(c['minutes'])} of work on {c['target']}",
    "Logged time",
)
TIME_CHANGED = _event(
    "request.time_changed", "{actor} changed a time entry on {target}", "Changed a time entry"
)
NOTIFICATION_PREFERENCES_CHANGED = _event(
    "notifications.preferences_changed",
    "{actor} changed which staff emails they get",
    "Changed their email notifications",
    SETTINGS,
)

register_page_titles(
    {
        "archive": "the public archive",
        "my_requests": "their list of requests",
        "request_new": "the request form",
        "request_similar": "the search for similar requests",
        "request_detail": "the public page of request {number}",
        "request_reply": "the form to reply on request {number}",
        "staff:request_queue": "the request queue",
        "staff:request_new": "the form to enter a request",
        "staff:request_detail": "request {number}",
        "staff:request_acknowledge": "the form to acknowledge request {number}",
        "staff:request_close": "the form to close request {number}",
        "staff:request_description_review": (
            "the form to publish the reviewed description of request {number}"
        ),
        "staff:request_reopen": "the form to reopen request {number}",
        "staff:request_due_date": "the form to change the due date of request {number}",
        "staff:request_extend": "the form to extend request {number}",
        "staff:request_pause": "the form to pause request {number}",
        "staff:request_resume": "the form to resume request {number}",
        "staff:request_route": "the form to route request {number}",
        "staff:request_message": "the message form of request {number}",
        "staff:request_tags": "the tags of request {number}",
        "staff:request_task_add": "the form to add a task to request {number}",
        "staff:request_task_done": "the form to mark a task of request {number} done",
        "staff:request_time_log": "the form to log time on request {number}",
        "staff:request_time_update": "the form to change time logged on request {number}",
        "staff:request_visibility": "the form to change who can see request {number}",
        "staff:department_list": "the list of departments",
        "staff:department_new": "the page to create a department",
        "staff:department_detail": "a department's page",
        "staff:department_edit": "the page to change a department",
        "staff:department_member": "the members of a department",
        "staff:settings": "the agency settings",
        "staff:notifications": "their email notification settings",
        "staff:report": "the reports page",
        "staff:holidays": "the holiday settings",
        "staff:holidays_load_defaults": "the form to add the standard holidays",
        "staff:holiday_remove": "the form to remove a holiday",
        "staff:closure_reasons": "the closing reason settings",
        "staff:closure_reason_toggle": "the form to turn a closing reason on or off",
        "staff:custom_fields": "the request form field settings",
        "staff:custom_field_toggle": "the form to turn a form field on or off",
        "staff:request_types": "the request type settings",
        "staff:request_type_toggle": "the form to turn a request type on or off",
        "staff:templates": "the response template settings",
        "staff:template_delete": "the form to delete a response template",
    }
)
