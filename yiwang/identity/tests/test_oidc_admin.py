"""Single sign-on clients in the admin site: a department's administrators register, change and
remove their department's clients only; the secret is shown once and stored hashed; every
change is audited."""

import pytest
from django.contrib.auth.hashers import identify_hasher
from oauth2_provider.models import Application

from yiwang.audit.models import AuditEntry
from yiwang.conftest import make_official, with_two_factor
from yiwang.identity import oidc_services
from yiwang.identity.models import OidcClient, Role

pytestmark = pytest.mark.django_db
ADD = "/admin/identity/oidcclient/add/"


def _form(department, **extra) -> dict:
    return {
        "name": "市场监管移动执法系统",
        "department": department.pk,
        "redirect_uris": "https://zhifa.example.org/callback",
        "post_logout_redirect_uris": "",
        **extra,
    }


def test_department_admin_registers_a_client_and_sees_the_secret_once(login, dept_admin, department_x):
    browser = login(dept_admin)
    page = browser.post(ADD, _form(department_x))
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    client = OidcClient.objects.select_related("application").get()
    secret = page.context["secret"]
    assert secret in page.content.decode() and client.application.client_id in page.content.decode()
    assert identify_hasher(client.application.client_secret)  # stored hashed only
    assert client.department == department_x and client.application.algorithm == "RS256"
    change = browser.get(f"/admin/identity/oidcclient/{client.pk}/change/")
    assert change.status_code == 200 and secret not in change.content.decode()
    entry = AuditEntry.objects.get(event="identity:oidc_client:create")
    assert secret not in str(entry.data) and entry.data["client_id"] == client.application.client_id


def test_bad_redirect_addresses_are_refused_with_a_message_and_nothing_saved(login, dept_admin, department_x):
    browser = login(dept_admin)
    for uris in (
        "ftp://x.example.org/cb",
        "https://x.example.org/cb#frag",
        "/relative",
        "https://*.example.org/cb",
        "",
    ):
        page = browser.post(ADD, _form(department_x, redirect_uris=uris))
        assert page.status_code == 200 and page.context["adminform"].form.errors, uris
    assert not OidcClient.objects.exists() and not Application.objects.exists()
    assert not AuditEntry.objects.filter(event__startswith="identity:oidc_client").exists()


def test_department_admin_sees_and_manages_only_their_departments_clients(
    login, dept_admin, department_x, department_y, superuser
):
    mine, _ = oidc_services.client_register(
        actor=dept_admin, department=department_x, name="X 系统", redirect_uris="https://x.example.org/cb"
    )
    theirs, _ = oidc_services.client_register(
        actor=superuser, department=department_y, name="Y 系统", redirect_uris="https://y.example.org/cb"
    )
    browser = login(dept_admin)
    listing = browser.get("/admin/identity/oidcclient/").content.decode()
    assert "X 系统" in listing and "Y 系统" not in listing
    assert browser.get(f"/admin/identity/oidcclient/{theirs.pk}/change/").status_code == 302  # not found
    assert browser.post(f"/admin/identity/oidcclient/{theirs.pk}/delete/", {"post": "yes"}).status_code == 302
    assert OidcClient.objects.filter(pk=theirs.pk).exists()
    page = browser.post(ADD, _form(department_y))  # another department's: not a choice
    assert "department" in page.context["adminform"].form.errors
    add_page = browser.get(ADD).content.decode()
    assert department_y.name not in add_page
    other_admin = with_two_factor(make_official("admin_y", department_y, [Role.ADMIN], is_staff=True))
    assert "X 系统" not in login(other_admin).get("/admin/identity/oidcclient/").content.decode()
    assert mine.pk


def test_change_reset_secret_and_delete_are_audited(login, dept_admin, department_x):
    client, old_secret = oidc_services.client_register(
        actor=dept_admin, department=department_x, name="X 系统", redirect_uris="https://x.example.org/cb"
    )
    browser = login(dept_admin)
    url = f"/admin/identity/oidcclient/{client.pk}/change/"
    page = browser.post(url, _form(department_x, name="X 系统二期", reset_secret="on"))
    assert page.status_code == 200 and page.context["secret"] != old_secret
    client.refresh_from_db()
    assert client.application.name == "X 系统二期"
    events = list(AuditEntry.objects.values_list("event", flat=True))
    assert "identity:oidc_client:update" in events and "identity:oidc_client:reset_secret" in events
    gone = browser.post(f"/admin/identity/oidcclient/{client.pk}/delete/", {"post": "yes"})
    assert gone.status_code == 302
    assert not OidcClient.objects.exists() and not Application.objects.exists()
    assert AuditEntry.objects.filter(event="identity:oidc_client:delete").exists()


def test_officials_without_the_admin_role_cannot_register_clients(official_x, department_x, login):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        oidc_services.client_register(
            actor=official_x, department=department_x, name="n", redirect_uris="https://x.example.org/cb"
        )
    assert login(official_x).get(ADD).status_code == 302  # the admin site sends non-staff to sign in


def test_django_oauth_toolkits_own_admin_pages_are_not_offered(login, superuser):
    browser = login(superuser)
    for model in ("application", "accesstoken", "grant", "idtoken", "refreshtoken"):
        assert browser.get(f"/admin/oauth2_provider/{model}/").status_code == 404
