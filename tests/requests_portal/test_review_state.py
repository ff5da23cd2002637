from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.tenancy import agency_context
from requests_portal.models import RequestSettings
from requests_portal.services import clock
from tests.requests_portal.helpers import file_request

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("agency_defaults", "fresh_rate_limits"),
]


def test_an_unknown_state_code_is_a_field_error(tenant, client_for):
    c = client_for(tenant.admin, tenant.host)
    with agency_context(tenant.agency):
        clock.settings_for(tenant.agency)
    data = {
        "response_days": 10,
        "response_method": "business",
        "acknowledge_days": 3,
        "acknowledge_method": "business",
        "cutoff": "17:00",
        "state": "ZZ",
        "default_visibility": "published",
        "embargo_days": 0,
    }
    resp = c.post(reverse("staff:settings"), data)
    # Refused on the state field (the settings form checks the code against the holiday
    # library's US subdivisions); nothing is saved, so the agency keeps its state.
    assert resp.status_code == 400, resp.status_code
    assert resp.context["form"].errors["state"] == ["Use a two-letter US state code, such as IL."]
    with agency_context(tenant.agency):
        assert RequestSettings.objects.get(agency=tenant.agency).state == "CA"
    # Loading the default holidays still works with the state the agency kept.
    resp = c.post(reverse("staff:holidays_load_defaults"), {"year": 2027})
    assert resp.status_code == 302, resp.status_code
    assert resp["Location"] == reverse("staff:holidays")


def test_a_department_admin_cannot_close_another_department_request_even_as_its_contact(
    tenant, client_for
):
    from requests_portal.models import ClosureReason

    r = file_request(tenant, point_of_contact=tenant.department_admin)
    with agency_context(tenant.agency):
        reason = ClosureReason.objects.get(agency=tenant.agency, name="No responsive records")
    resp = client_for(tenant.department_admin, tenant.host).post(
        reverse("staff:request_close", args=[r.number]), {"close-reason": reason.pk}
    )
    assert resp.status_code == 403, resp.status_code
