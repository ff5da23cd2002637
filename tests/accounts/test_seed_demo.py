from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Agency, Membership, User
from accounts.tenancy import agency_context
from requests_portal.models import Department


def counts():
    result = {"agencies": Agency.objects.count(), "users": User.objects.count()}
    for agency in Agency.objects.all():
        with agency_context(agency):
            result[agency.slug] = (Membership.objects.count(), Department.objects.count())
    return result


@pytest.mark.django_db
@pytest.mark.clock  # the demo requests are received so many days before the agency's today
def test_seed_demo_creates_both_agencies_and_is_safe_to_run_again():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    first = counts()
    call_command("seed_demo", stdout=StringIO())
    assert counts() == first
    assert first["springfield"] == (4, 3)
    assert first["shelbyville"] == (2, 2)
    text = out.getvalue()
    assert "http://springfield.localhost:8000/" in text
    assert "admin@springfield.example" in text


@pytest.mark.django_db
def test_seed_demo_refuses_to_run_in_production(settings):
    settings.IS_PRODUCTION = True
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="never runs in production"):
        call_command("seed_demo", stdout=StringIO())
    assert not Agency.objects.filter(slug="springfield").exists()
