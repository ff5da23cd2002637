def test_agency_home_answers(client_for, tenant):
    response = client_for(None, tenant.host).get("/")
    assert response.status_code == 200
    assert tenant.agency.name in response.content.decode()
