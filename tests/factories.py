import factory
from django.contrib.auth.hashers import make_password

from accounts.models import Agency, Membership, Role, User
from requests_portal.models import Department

TEST_PASSWORD = "correct-horse-battery-staple"
# Hashed once: hashing per user would dominate the suite's run time.
_TEST_PASSWORD_HASH = make_password(TEST_PASSWORD, hasher="pbkdf2_sha256")


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"agency{n}")
    name = factory.LazyAttribute(lambda o: f"{o.slug.title()} City")
    # Five or six hours behind UTC: from 6 PM (7 PM in summer) to midnight the server's date
    # is already tomorrow, and scripts/test-clocks runs the `clock` tests in those hours.
    time_zone = "America/Chicago"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    # Made-up names, not Faker's: a random "Dawn" or "River" once turned a test's password
    # ("a quiet river at dawn 42") into one that contains the user's name, and the password
    # rules rightly refused it.
    full_name = factory.Sequence(lambda n: f"Zuleika Quennell {n}")
    password = _TEST_PASSWORD_HASH


class MembershipFactory(factory.django.DjangoModelFactory):
    """Create inside accounts.tenancy.agency_context(agency): RLS refuses it otherwise."""

    class Meta:
        model = Membership

    agency = factory.SubFactory(AgencyFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.STAFF


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    agency = factory.SubFactory(AgencyFactory)
    name = factory.Sequence(lambda n: f"Department {n}")
