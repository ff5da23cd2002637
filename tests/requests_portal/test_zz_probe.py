from tests.requests_portal.test_workflow import _intake_data, agency_defaults, fresh_rate_limits, file_request, requests_of  # noqa
from django.urls import reverse
def test_probe(tenant, client_for):
    existing = file_request(tenant, title="The real 26-1")
    c = client_for(tenant.staff, tenant.host)
    r = c.post(reverse("staff:request_new"), _intake_data(received_on="1926-03-02", title="Logged old letter"))
    print(r.status_code, r.get("Location"), existing.number, [(x.year, x.number, x.title) for x in requests_of(tenant)])
    page = c.get(r["Location"])
    print(page.status_code, "Logged old letter" in page.content.decode(), "The real 26-1" in page.content.decode())
