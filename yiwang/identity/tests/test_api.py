import pytest
from django.urls import path
from ninja import NinjaAPI

from config.api import api as project_api
from yiwang.core.api import install_error_handlers
from yiwang.identity import pii
from yiwang.identity.api import router
from yiwang.identity.models import RealNameLevel

# Until config/api.py mounts the identity router, test it on an API of its own (same error handlers).
if any(r is router for _prefix, r in project_api._routers):
    pytestmark = [pytest.mark.django_db]
else:
    api = NinjaAPI(urls_namespace="identity_api_test")
    install_error_handlers(api)
    api.add_router("/identity/", router)
    urlpatterns = [path("api/", api.urls)]
    pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def test_me_describes_the_caller_with_masked_identifiers(login, agent, enterprise):
    body = login(agent).get("/api/identity/me").json()
    assert body["username"] == "agent" and body["name"] == "王五"
    assert body["id_number_masked"] == agent.person.id_number_masked
    assert pii.id_number_of(agent.person) not in str(body)
    assert body["phone_masked"] == "137****3333"
    assert (body["realname_level"], body["realname_level_label"]) == (2, str(RealNameLevel.REGISTER.label))
    assert body["enterprises"] == [
        {
            "id": enterprise.pk,
            "name": enterprise.name,
            "credit_code": enterprise.credit_code,
            "role": "legal_rep",
            "scope": "apply",
            "valid_until": None,
        }
    ]
    assert body["official"] is None


def test_me_lists_an_officials_department_and_roles(login, official_x):
    body = login(official_x).get("/api/identity/me").json()
    assert body["official"] == {
        "department_code": "610100-SCJG",
        "department_name": "西安市市场监督管理局",
        "roles": ["approver", "clerk", "reviewer"],
    }
    assert body["id_number_masked"] is None


def test_me_refuses_anonymous_callers_in_the_error_shape(login):
    response = login(None).get("/api/identity/me")
    assert response.status_code == 401
    assert set(response.json()) == {"detail", "errors"}
