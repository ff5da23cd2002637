"""Seed the demo agencies for the embedded default. Safe to run again: it adds what is
missing and changes nothing that exists, so a second ``make run`` keeps your data."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Agency, Membership, Role, User
from accounts.tenancy import agency_context
from requests_portal.models import Department, DepartmentMember

DEMO_PASSWORD = "demo-password-springfield"  # noqa: S105 (development-only demo data)

AGENCIES = [
    {
        "slug": "springfield",
        "name": "City of Springfield",
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
        agency, _ = Agency.objects.get_or_create(slug=spec["slug"], defaults={"name": spec["name"]})
        with agency_context(agency):
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
        out.write("")
