"""Records requests and what hangs off them: departments, settings, timeline, messages.

Single-row rules live here; every write that touches several rows (submitting, pausing,
closing...) is a service in the requests_portal/services/ package that writes its timeline
and audit events in the same transaction.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Agency, TenantOwned
from requests_portal.form_fragments import RenewingQuerySet


class CountingMethod(models.TextChoices):
    # The values are requests_portal.deadlines.CountingMethod's.
    CALENDAR = "calendar", "Calendar days"
    BUSINESS = "business", "Business days"
    CALENDAR_NEXT_BUSINESS = "calendar_next_business", "Calendar days, due on a business day"


class Visibility(models.TextChoices):
    PUBLISHED = "published", "Public"
    EMBARGOED = "embargoed", "Public some days after closing"
    ALL_STAFF = "all_staff", "All agency staff"
    DEPARTMENT = "department", "Staff of its departments"
    RESTRICTED = "restricted", "Point of contact and admins only"


class Department(TenantOwned):
    """A part of the agency that answers requests (Police, City Clerk, ...)."""

    objects = RenewingQuerySet.as_manager()  # bulk changes renew form_fragments

    name = models.CharField(max_length=200)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="DepartmentMember", related_name="departments"
    )
    # Overrides the agency's default for requests routed here (blank: the agency default).
    default_visibility = models.CharField(max_length=20, choices=Visibility.choices, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="department_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class DepartmentMember(TenantOwned):
    department = models.ForeignKey(Department, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    is_point_of_contact = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "department", "user"], name="department_member_unique"
            ),
        ]


class RequestSettings(TenantOwned):
    """One row per agency: its deadline rules and public-portal choices."""

    objects = RenewingQuerySet.as_manager()  # bulk changes renew form_fragments

    response_days = models.PositiveSmallIntegerField(default=10)
    response_method = models.CharField(
        max_length=32, choices=CountingMethod.choices, default=CountingMethod.BUSINESS
    )
    acknowledge_days = models.PositiveSmallIntegerField(default=3)
    acknowledge_method = models.CharField(
        max_length=32, choices=CountingMethod.choices, default=CountingMethod.BUSINESS
    )
    cutoff = models.TimeField(default=datetime.time(17, 0))
    state = models.CharField(max_length=2, blank=True, help_text="US state for default holidays")
    default_visibility = models.CharField(
        max_length=20, choices=Visibility.choices, default=Visibility.PUBLISHED
    )
    embargo_days = models.PositiveSmallIntegerField(default=0)
    show_department_picker = models.BooleanField(default=True)
    allow_anonymous = models.BooleanField(
        default=False, help_text="Let residents file without an email address"
    )
    # Where the agency's law allows it, a requester may ask for their request to stay
    # private: it then starts restricted, with their reason for staff to read.
    allow_private_requests = models.BooleanField(default=False)
    private_request_explanation = models.TextField(blank=True, max_length=1000)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency"], name="request_settings_one_per_agency"),
        ]


class Holiday(TenantOwned):
    date = models.DateField()
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "date"], name="holiday_one_per_day"),
        ]


class ClosureReason(TenantOwned):
    objects = RenewingQuerySet.as_manager()  # bulk changes renew form_fragments (close form)

    name = models.CharField(max_length=120)
    requires_citation = models.BooleanField(
        default=False, help_text="Closing with this reason needs an exemption citation"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="closure_reason_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class RequestCounter(TenantOwned):
    """The yearly request-number sequence of one agency. Numbers are handed out under a row
    lock (services.submission.next_request_number) and never reused, even after a rollback
    elsewhere."""

    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "year"], name="request_counter_per_year"),
        ]


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    OPEN = "open", _("In progress")
    PAUSED = "paused", _("Paused")
    CLOSED = "closed", _("Closed")


def status_labels() -> dict[str, str]:
    """Each status's label in the reader's language, made once for a page of rows (not a
    lookup and a translation per row)."""
    return {value: str(label) for value, label in Status.choices}


class Channel(models.TextChoices):
    WEB = "web", _("Web form")
    PHONE = "phone", _("Phone")
    MAIL = "mail", _("Mail")
    EMAIL = "email", _("Email")
    IN_PERSON = "in_person", _("In person")
    API = "api", _("API")


# Filed by the requesters themselves (the web form, or a program of theirs through the API):
# received the moment it is filed, confirmed to them by email. The other channels are staff
# logging a request that came in another way, on the day it came in.
SELF_FILED = frozenset({Channel.WEB, Channel.API})


class Delivery(models.TextChoices):
    ELECTRONIC = "electronic", _("Electronic copies (download or email)")
    MAIL = "mail", _("Paper copies by mail")
    PICKUP = "pickup", _("Pick up in person")
    INSPECT = "inspect", _("Inspect in person")


class RequestType(TenantOwned):
    """A kind of request with its own legal clock (e.g. "Police body-camera video": 30
    calendar days), overriding the agency's default rule."""

    objects = RenewingQuerySet.as_manager()  # bulk changes renew form_fragments

    name = models.CharField(max_length=120)
    response_days = models.PositiveSmallIntegerField()
    response_method = models.CharField(max_length=32, choices=CountingMethod.choices)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="request_type_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class CustomFieldKind(models.TextChoices):
    TEXT = "text", "Text"
    CHOICE = "choice", "Choice from a list"
    DATE = "date", "Date"


class CustomField(TenantOwned):
    """An extra question on the agency's public request form."""

    objects = RenewingQuerySet.as_manager()  # bulk changes renew form_fragments

    label = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=CustomFieldKind.choices)
    choices = models.TextField(blank=True, help_text="For a choice: one option per line")
    required = models.BooleanField(default=False)
    order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order", "pk"]

    def option_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]


class RecordsRequest(TenantOwned):
    year = models.PositiveSmallIntegerField()
    sequence = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    description = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    visibility = models.CharField(max_length=20, choices=Visibility.choices)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.WEB)
    delivery = models.CharField(
        max_length=16, choices=Delivery.choices, default=Delivery.ELECTRONIC
    )
    request_type = models.ForeignKey(RequestType, null=True, blank=True, on_delete=models.PROTECT)
    # Answers to the agency's custom fields: {"<field id>": {"label": ..., "value": ...}}.
    custom_data = models.JSONField(default=dict, blank=True)

    # Who asked. Never shown to the public; null for anonymous filings.
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="records_requests",
    )
    requester_name = models.CharField(max_length=200, blank=True)
    requester_email = models.EmailField(blank=True)
    # The language the request was filed in: every email to its requester is written in it
    # (a guest has no account to remember it).
    language = models.CharField(max_length=8, default="en")
    requester_phone = models.CharField(max_length=40, blank=True)
    requester_address = models.TextField(blank=True)
    point_of_contact = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    departments = models.ManyToManyField(Department, through="RequestDepartment", blank=True)

    # The legal clock (see requests_portal/deadlines.py).
    received_at = models.DateTimeField()
    day_zero = models.DateField()
    due_date = models.DateField()
    acknowledge_due_date = models.DateField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    # The agency's first word to the requester: acknowledgement, message, notice or closure.
    first_response_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    pause_reason = models.CharField(max_length=200, blank=True)
    remaining_days = models.PositiveSmallIntegerField(null=True, blank=True)
    counting_method = models.CharField(max_length=32, choices=CountingMethod.choices)

    closed_at = models.DateTimeField(null=True, blank=True)
    closure_reason = models.ForeignKey(
        ClosureReason, null=True, blank=True, on_delete=models.PROTECT
    )
    closure_citation = models.CharField(max_length=300, blank=True)
    # When an embargoed request becomes public (closed_at + the agency's embargo days).
    public_from = models.DateTimeField(null=True, blank=True)

    # The requester asked for the request to stay private (the agency allows it), and why.
    private_reason = models.TextField(blank=True)
    # Personal data found in the title or description (requests_portal.pii kinds, no values).
    personal_data_kinds = ArrayField(models.CharField(max_length=20), default=list, blank=True)
    # Held from every public page and the archive search until staff review the description:
    # it may hold personal data and would otherwise be public.
    description_held = models.BooleanField(default=False)
    description_reviewed_at = models.DateTimeField(null=True, blank=True)
    # Why released records are held back (a fee not yet paid; set by billing through
    # services.holds): while set, no document of the request is released to the requester
    # or the public.
    release_hold = models.CharField(max_length=200, blank=True)

    search_vector = SearchVectorField(null=True, editable=False)
    # The one-time key of the form that filed it: the same form sent twice (a double click, a
    # retried post) finds this request instead of filing another.
    submission_key = models.UUIDField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-year", "-sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "year", "sequence"], name="request_number_unique"
            ),
            models.UniqueConstraint(
                fields=["agency", "submission_key"],
                name="request_submission_key_unique",
                condition=models.Q(submission_key__isnull=False),
            ),
        ]
        indexes = [
            models.Index(fields=["agency", "status", "due_date"], name="request_queue"),
            # The staff queue's default view: everything not closed, soonest due first.
            models.Index(
                fields=["agency", "due_date", "created_at"],
                name="request_open_by_due",
                condition=~models.Q(status="closed"),
            ),
            models.Index(fields=["agency", "created_at"], name="request_created"),
            models.Index(fields=["agency", "requester"], name="request_requester"),
            # The API's request list, paged by key on id newest first (api.pagination): without
            # it the scan walks the whole table's id order, every agency's rows, to its own.
            models.Index(fields=["agency", "id"], name="request_agency_id"),
            # The same for the staff queue's default (not closed): its search's window of the
            # newest requests (search.newest_ranked_requests) reads only that window's open
            # rows, not every open request of the agency (1,000,000 requests: 22 -> 12 ms).
            models.Index(
                fields=["agency", "id"],
                name="request_open_newest",
                condition=~models.Q(status="closed"),
            ),
            # The public archive, newest number first (access.public_requests, paged by key):
            # only rows that may be public, with the columns its filters and the embargo test
            # read, so its capped count is an index-only scan that never visits the table.
            models.Index(
                fields=["agency", "year", "sequence"],
                name="request_public_listing",
                include=["visibility", "public_from", "status", "day_zero"],
                condition=models.Q(description_held=False)
                & models.Q(visibility__in=["published", "embargoed"]),
            ),
            GinIndex(fields=["search_vector"], name="request_search"),
        ]

    def __str__(self) -> str:
        return f"{self.number}: {self.title}"

    @property
    def number(self) -> str:
        """The public request number, YY-N."""
        return self.number_of(self.year, self.sequence)

    @staticmethod
    def number_of(year: int, sequence: int) -> str:
        """The public number of the request of ``year`` and ``sequence`` (for rows read
        without a model instance)."""
        return f"{year % 100:02d}-{sequence}"

    @property
    def is_closed(self) -> bool:
        return self.status == Status.CLOSED

    @property
    def self_filed(self) -> bool:
        """Filed by its requester (received to the second), not logged by staff (a day)."""
        return self.channel in SELF_FILED

    @property
    def is_paused(self) -> bool:
        return self.status == Status.PAUSED


class RequestDepartment(TenantOwned):
    request = models.ForeignKey(RecordsRequest, on_delete=models.CASCADE)
    department = models.ForeignKey(Department, on_delete=models.PROTECT)
    is_lead = models.BooleanField(default=False, help_text="The lead department; others support")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "request", "department"], name="request_department_unique"
            ),
        ]


class TimelineEvent(TenantOwned):
    """Everything that happened to a request, in order. Public events show to the requester
    (and, for a published request, to everyone); the rest is staff-only."""

    request = models.ForeignKey(RecordsRequest, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_public = models.BooleanField(default=False)
    summary = models.CharField(max_length=300)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["agency", "request", "created_at"], name="timeline_order")]


class MessageKind(models.TextChoices):
    INTERNAL = "internal", "Internal note (staff only)"
    TO_REQUESTER = "to_requester", "Message to the requester"
    FROM_REQUESTER = "from_requester", "Message from the requester"
    PUBLIC_NOTE = "public_note", "Public note (anyone can read it)"


class Message(TenantOwned):
    request = models.ForeignKey(RecordsRequest, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=20, choices=MessageKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["agency", "request", "created_at"], name="message_order")]

    @property
    def visible_to_requester(self) -> bool:
        return self.kind != MessageKind.INTERNAL


class NotificationPreference(TenantOwned):
    """What a staff member wants to be emailed about, in one agency (all on by default)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    new_requests = models.BooleanField(default=True, verbose_name="New requests in my departments")
    assignments = models.BooleanField(default=True, verbose_name="A request is assigned to me")
    requester_messages = models.BooleanField(
        default=True, verbose_name="A requester writes about my request"
    )
    daily_digest = models.BooleanField(
        default=True, verbose_name="Daily list of my requests due soon or overdue"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "user"], name="notification_pref_unique"),
        ]


class TemplateKind(models.TextChoices):
    MESSAGE = "message", "Message"
    CLOSURE = "closure", "Closing message"
    EXTENSION = "extension", "Extension notice"


class ResponseTemplate(TenantOwned):
    """Reusable text for messages, closing notes and extension notices. Placeholders in
    braces ({number}, {title}, {requester_name}, {due_date}, {agency}) are filled in."""

    kind = models.CharField(max_length=12, choices=TemplateKind.choices)
    name = models.CharField(max_length=120)
    body = models.TextField()

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "kind", "name"], name="template_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Task(TenantOwned):
    request = models.ForeignKey(RecordsRequest, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=200)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_date = models.DateField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["done_at", "due_date", "pk"]
        indexes = [models.Index(fields=["agency", "assignee", "done_at"], name="task_assignee")]


class Tag(TenantOwned):
    name = models.CharField(max_length=60)
    requests = models.ManyToManyField(RecordsRequest, through="RequestTag", related_name="tags")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["agency", "name"], name="tag_unique")]

    def __str__(self) -> str:
        return self.name


class RequestTag(TenantOwned):
    request = models.ForeignKey(RecordsRequest, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "request", "tag"], name="request_tag_unique")
        ]


class TimeEntry(TenantOwned):
    request = models.ForeignKey(
        RecordsRequest, on_delete=models.CASCADE, related_name="time_entries"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    minutes = models.PositiveIntegerField()
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["day", "pk"]


class PublicSearchEntry(TenantOwned):
    """The search index of the public archive: one row per request that is public right now
    (published, or embargoed and past its embargo), kept by database triggers.

    It holds nothing that is not already public, so its read policy lets any context read it
    (USING true) while writes stay bound to the agency. That is what lets PostgreSQL use the
    GIN index here: on the request table itself, row-level security must test each row
    before the (not leakproof) @@ operator, so full-text search there scans the agency's
    rows one by one. The vector also carries an "agency<id>" lexeme, so the index alone
    narrows a search to one agency."""

    request = models.OneToOneField(
        RecordsRequest, on_delete=models.CASCADE, related_name="public_search_entry"
    )
    year = models.PositiveSmallIntegerField()
    sequence = models.PositiveIntegerField()
    search_vector = SearchVectorField()
    # Text of the request's publicly released documents (kept by the documents app); the
    # trigger adds it to search_vector whenever the request itself is re-indexed.
    attachments_vector = SearchVectorField(null=True)

    class Meta:
        indexes = [
            GinIndex(fields=["search_vector"], name="public_search_vector"),
            # A common word's newest matches, walked newest first (search.newest_ranked).
            models.Index(fields=["agency", "year", "sequence"], name="public_search_newest"),
        ]


class StaffSearchTerm(TenantOwned):
    """The staff search's word index: one row per distinct lexeme of a request's
    search_vector, kept by a database trigger in the transaction that writes the request.

    The request table's GIN index cannot serve staff search: under FORCE row-level security
    PostgreSQL tests each row against the policy before the (not leakproof) @@ operator, so a
    rare word read every row of the agency. Here the lookup is plain text equality (texteq
    is leakproof), so the btree below finds a word's requests directly, policy or not; the
    rows stay the agency's own (tenant_isolation policy), and search.search still applies @@
    to the few candidate rows."""

    # No index of its own: the word index below leads with the agency and serves every
    # lookup by agency (the policy's, and the PROTECT check when an agency is deleted).
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, db_index=False)
    request = models.ForeignKey(
        RecordsRequest, on_delete=models.CASCADE, related_name="staff_search_terms"
    )
    lexeme = models.TextField()

    class Meta:
        indexes = [
            models.Index(fields=["agency", "lexeme", "request"], name="staff_search_term"),
        ]
