"""The audit-log viewer and its export only read: anything but GET and HEAD is refused."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["staff:audit_log", "staff:audit_export"])
def test_the_log_and_its_export_answer_405_to_a_post(tenant, client_for, name):
    client = client_for(tenant.admin, tenant.host)
    assert client.get(reverse(name)).status_code == 200
    response = client.post(reverse(name), {"action": "auth.login"})
    assert response.status_code == 405
    assert sorted(response["Allow"].split(", ")) == ["GET", "HEAD"]
