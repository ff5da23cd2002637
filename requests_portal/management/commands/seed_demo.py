"""Seed the demo agencies for the embedded default. Safe to run again: it adds what is
missing and changes nothing that exists, so a second ``make run`` keeps your data."""

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.local_time import agency_today
from accounts.models import Agency, Membership, Role, User
from accounts.tenancy import agency_context
from requests_portal.models import (
    ClosureReason,
    Department,
    DepartmentMember,
    RecordsRequest,
    RequestType,
    ResponseTemplate,
)
from requests_portal.services import agency_settings, lifecycle, submission

DEMO_PASSWORD = "demo-passphrase-2026"  # noqa: S105  # nosec B105  # development-only demo data

AGENCIES = [
    {
        "slug": "springfield",
        "name": "City of Springfield",
        "state": "IL",
        "time_zone": "America/Chicago",
        "departments": ["City Clerk", "Police Department", "Public Works"],
        "people": [
            ("admin@springfield.example", "Alice Admin", Role.ADMIN, None),
            (
                "deptadmin@springfield.example",
                "Dana Department",
                Role.DEPARTMENT_ADMIN,
                "Police Department",
            ),
            ("publisher@springfield.example", "Pat Publisher", Role.PUBLISHER, "City Clerk"),
            ("staff@springfield.example", "Sam Staff", Role.STAFF, "Public Works"),
        ],
    },
    {
        "slug": "shelbyville",
        "name": "Shelbyville County",
        "state": "IL",
        "time_zone": "America/Chicago",
        "departments": ["County Clerk", "Sheriff"],
        "people": [
            ("admin@shelbyville.example", "Olive Other-Admin", Role.ADMIN, None),
            ("staff@shelbyville.example", "Oscar Other-Staff", Role.STAFF, "Sheriff"),
        ],
    },
]
REQUESTER = ("resident@example.com", "Riley Resident")


class Command(BaseCommand):
    help = "Create the demo agencies (Springfield, Shelbyville), departments and users."

    def handle(self, *args, **options):
        if settings.IS_PRODUCTION:
            raise CommandError("seed_demo creates known passwords; it never runs in production.")
        with transaction.atomic():
            self._user(*REQUESTER)
            for spec in AGENCIES:
                self._agency(spec)
        self._print_summary()

    def _user(self, email: str, name: str) -> User:
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = User.objects.create_user(email, DEMO_PASSWORD, full_name=name)
        return user

    def _agency(self, spec: dict) -> None:
        agency, _ = Agency.objects.get_or_create(
            slug=spec["slug"], defaults={"name": spec["name"], "time_zone": spec["time_zone"]}
        )
        with agency_context(agency):
            agency_settings.agency_setup_defaults(agency=agency, state=spec["state"])
            departments = {
                name: Department.objects.get_or_create(agency=agency, name=name)[0]
                for name in spec["departments"]
            }
            for email, name, role, department in spec["people"]:
                user = self._user(email, name)
                Membership.objects.get_or_create(agency=agency, user=user, defaults={"role": role})
                if department:
                    DepartmentMember.objects.get_or_create(
                        agency=agency,
                        department=departments[department],
                        user=user,
                        defaults={"is_point_of_contact": True},
                    )
            self._examples(agency)  # get_or_create: adds only what is missing
            if not RecordsRequest.objects.filter(agency=agency).exists():
                self._requests(agency, departments)

    def _examples(self, agency: Agency) -> None:
        """A request type with its own clock, and templates staff can start from."""
        RequestType.objects.get_or_create(
            agency=agency,
            name="Police body-camera video",
            defaults={"response_days": 30, "response_method": "calendar"},
        )
        ResponseTemplate.objects.get_or_create(
            agency=agency,
            kind="message",
            name="Clarification needed",
            defaults={
                "body": "Dear {requester_name}, to search for the records in request {number} "
                "we need a narrower date range. Could you tell us which months you mean?"
            },
        )
        ResponseTemplate.objects.get_or_create(
            agency=agency,
            kind="closure",
            name="Released in full",
            defaults={
                "body": "The records for request {number} ({title}) are released in full. "
                "Thank you for your patience. {agency}"
            },
        )

    def _requests(self, agency: Agency, departments: dict) -> None:
        """A few requests in different states, made through the same services staff use."""
        staff = Membership.objects.filter(agency=agency, role=Role.ADMIN).first().user
        resident = User.objects.get(email__iexact=REQUESTER[0])
        today = agency_today(agency)  # the demo agency's calendar, not the server's
        samples = [
            (
                "Police reports for 742 Evergreen Terrace",
                "All incident reports for 742 "
                "Evergreen Terrace from January to March of this year.",
                "Police Department",
                3,
            ),
            (
                "Contract with the monorail vendor",
                "The signed contract, amendments and "
                "invoices between the city and the monorail vendor.",
                "City Clerk",
                25,
            ),
            (
                "Pothole complaints on Main Street",
                "Complaints received about potholes on "
                "Main Street and the work orders that followed.",
                "Public Works",
                12,
            ),
        ]
        made = []
        for title, description, department, days_ago in samples:
            if department not in departments:
                continue
            made.append(
                submission.request_submit(
                    agency=agency,
                    actor=staff,
                    title=title,
                    description=description,
                    contact=submission.Contact(name=resident.full_name, email=resident.email),
                    department=departments[department],
                    channel="email",
                    received_on=today - datetime.timedelta(days=days_ago),
                )
            )
        if len(made) >= 2:
            lifecycle.request_acknowledge(records_request=made[1], actor=staff)
            lifecycle.request_close(
                records_request=made[1],
                actor=staff,
                reason=ClosureReason.objects.get(agency=agency, name="Records released in full"),
                note="The contract and its amendments are attached.",
            )

    def _print_summary(self) -> None:
        port = "8000"
        out = self.stdout
        out.write("")
        out.write("Demo data is ready.")
        out.write(f"  Portal home:       http://{settings.PORTAL_BASE_DOMAIN}:{port}/")
        for spec in AGENCIES:
            out.write(
                f"  {spec['name']}: http://{spec['slug']}.{settings.PORTAL_BASE_DOMAIN}:{port}/"
            )
        out.write(f"  Every demo login uses the password: {DEMO_PASSWORD}")
        for spec in AGENCIES:
            for email, _name, role, _dept in spec["people"]:
                out.write(f"    {spec['slug']:<12} {role.label:<17} {email}")
        out.write(f"    {'(any agency)':<12} {'Requester':<17} {REQUESTER[0]}")
        out.write(
            "  Admins set up two-factor sign-in (any authenticator app) the first time they "
            "sign in."
        )
        out.write("")
