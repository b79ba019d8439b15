"""Security regressions of the one sign-in door (issue 8, sections 2 and 6).

Each test reproduces an attack that once worked — password-only entry at /admin/login/,
administrator powers without a second factor, throttles raced, turned against a kiosk or
dodged behind a proxy — and checks that it now fails."""

import ast
import ipaddress
import threading
import time
from pathlib import Path

import pyotp
import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import translation

from yiwang.audit.models import AuditEntry
from yiwang.conftest import PERSONA_PASSWORD, PERSONA_TOTP_SECRET, make_official, with_two_factor
from yiwang.identity import permissions, services
from yiwang.identity.models import Role, User
from yiwang.identity.signin import SECOND_FACTOR_SESSION_KEY

pytestmark = pytest.mark.django_db
ON_POSTGRES = "postgresql" in django_settings.DATABASES["default"]["ENGINE"]


def en_client(**extra) -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en", **extra)


def sign_in(client: Client, username: str, password: str = PERSONA_PASSWORD, **extra):
    return client.post(reverse("identity:login"), {"username": username, "password": password, **extra})


def next_code(secret: str = PERSONA_TOTP_SECRET) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30)


def password_only_session(user: User) -> Client:
    """What /admin/login/ used to hand out: a session made with the password alone."""
    client = en_client()
    client.force_login(user)
    return client


# --- section 2: one door -------------------------------------------------------------------


def test_the_admin_login_page_sends_to_the_platforms_sign_in():
    response = Client().get("/admin/login/?next=/admin/identity/user/")
    assert response.status_code == 302
    assert response["Location"] == "/login?next=/admin/identity/user/"


def test_posting_a_password_to_the_admin_login_page_signs_nobody_in(superuser):
    client = Client()
    response = client.post("/admin/login/", {"username": "superuser", "password": PERSONA_PASSWORD})
    assert response.status_code == 302 and response["Location"].startswith("/login")
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_an_admin_signs_in_through_the_door_with_the_code_and_reaches_the_admin_site(superuser):
    client = en_client()
    response = sign_in(client, "superuser", next="/admin/")
    assert response["Location"] == reverse("identity:login_totp")
    assert client.get("/admin/").status_code == 302  # the password alone opens nothing
    response = client.post(reverse("identity:login_totp"), {"code": next_code()})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    entry = AuditEntry.objects.filter(event="identity:session:login").last()
    assert entry.data == {"method": "password+totp"}


def test_a_password_only_session_cannot_use_the_admin_site_even_with_two_factor_on(superuser):
    client = password_only_session(superuser)
    response = client.get("/admin/identity/user/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/login?next=")
    assert "Sign in again with your two-factor code" in response.content.decode()


def test_the_admin_lockout_is_the_sign_in_lockout(settings, superuser):
    settings.THROTTLES = {**settings.THROTTLES, "login-account": (3, 900)}
    client = en_client()
    for _ in range(3):
        sign_in(client, "superuser", "wrong", next="/admin/")
    # No other way in: the admin site only points back at the locked door.
    assert (
        Client()
        .post("/admin/login/", {"username": "superuser", "password": PERSONA_PASSWORD})["Location"]
        .startswith("/login")
    )
    assert sign_in(client, "superuser", next="/admin/").status_code == 429


def test_a_superuser_without_two_factor_is_sent_to_turn_it_on_and_has_no_powers(superuser, citizen):
    superuser.totp_enabled = False
    superuser.save(update_fields=["totp_enabled"])
    client = en_client()
    response = sign_in(client, "superuser", next="/admin/")
    assert response["Location"] == reverse("identity:two_factor")
    page = client.get(reverse("identity:two_factor")).content.decode()
    assert "Turn on two-factor sign-in to use them" in page
    assert client.get("/admin/").status_code == 302
    assert not permissions.has_role(client_user(client), Role.AUDITOR)


def client_user(client: Client) -> User:
    user = User.objects.get(pk=client.session["_auth_user_id"])
    setattr(user, permissions.SECOND_FACTOR_ATTR, client.session.get(SECOND_FACTOR_SESSION_KEY) == user.pk)
    return user


def test_a_department_admin_without_two_factor_is_refused_role_management(department_x, inspector):
    make_official("newadmin", department_x, [Role.ADMIN])
    client = en_client()
    assert sign_in(client, "newadmin")["Location"] == reverse("identity:two_factor")
    officials = client.get(reverse("identity:officials"))
    assert officials.status_code == 302 and officials["Location"] == reverse("identity:two_factor")
    grant = client.post(
        reverse("identity:official_roles", args=[inspector.official.pk, "grant"]),
        {"role": Role.AUDITOR, "password": PERSONA_PASSWORD},
    )
    assert grant.status_code == 302
    assert not inspector.official.roles.filter(role=Role.AUDITOR).exists()


def test_turning_two_factor_on_unlocks_the_powers_in_this_session(department_x):
    user = make_official("newadmin", department_x, [Role.ADMIN])
    client = en_client()
    sign_in(client, "newadmin")
    client.post(reverse("identity:two_factor"), {"action": "begin"})
    secret = services.totp_secret_of(User.objects.get(pk=user.pk))
    confirm = client.post(
        reverse("identity:two_factor"), {"action": "confirm", "confirm-code": pyotp.TOTP(secret).now()}
    )
    assert confirm.status_code == 302
    assert client.get(reverse("identity:officials")).status_code == 200


def test_a_department_admin_signed_in_with_the_code_manages_roles(dept_admin):
    client = en_client()
    sign_in(client, "dept_admin")
    client.post(reverse("identity:login_totp"), {"code": next_code()})
    assert client.get(reverse("identity:officials")).status_code == 200


def test_services_refuse_locked_admin_powers_with_a_clear_reason(dept_admin, inspector):
    setattr(dept_admin, permissions.SECOND_FACTOR_ATTR, False)  # as a password-only session sets it
    with pytest.raises(permissions.SecondFactorRequired) as refused:
        services.role_grant(official=inspector.official, role=Role.AUDITOR, actor=dept_admin)
    with translation.override("en"):  # the message is read in the reader's language
        assert "two-factor" in str(refused.value.user_message)
    assert not inspector.official.roles.filter(role=Role.AUDITOR).exists()


def test_the_api_answers_locked_admin_powers_with_403_and_the_reason(dept_admin):
    from ninja import NinjaAPI
    from ninja.testing import TestClient

    from yiwang.core.api import install_error_handlers

    api = NinjaAPI(urls_namespace="test-locked")
    install_error_handlers(api)

    @api.get("/admin-only")
    def admin_only(request):
        permissions.ensure_role(request.user, Role.ADMIN)
        return {"ok": True}

    setattr(dept_admin, permissions.SECOND_FACTOR_ATTR, False)
    with translation.override("en"):
        response = TestClient(api).get("/admin-only", user=dept_admin)
    assert response.status_code == 403 and "two-factor" in response.json()["detail"]
    setattr(dept_admin, permissions.SECOND_FACTOR_ATTR, True)
    assert TestClient(api).get("/admin-only", user=dept_admin).status_code == 200


def test_a_session_that_did_not_pass_the_code_keeps_only_ordinary_roles(department_x):
    user = with_two_factor(make_official("mixed", department_x, [Role.ADMIN, Role.CLERK]))
    marked = password_only_session(user)
    response = marked.get(reverse("applications:workbench"))
    assert response.status_code == 200  # the clerk's work goes on
    assert not permissions.has_role(client_user(marked), Role.ADMIN)
    assert permissions.has_role(client_user(marked), Role.CLERK)


def test_turning_two_factor_off_locks_the_powers_again(dept_admin, login):
    client = login(dept_admin)
    assert client.get(reverse("identity:officials")).status_code == 200
    client.post(reverse("identity:two_factor"), {"action": "disable", "disable-password": PERSONA_PASSWORD})
    assert client.get(reverse("identity:officials")).status_code == 302


def test_outside_a_request_the_accounts_two_factor_setting_decides(dept_admin, department_x):
    assert permissions.has_role(dept_admin, Role.ADMIN)
    no_2fa = make_official("plainadmin", department_x, [Role.ADMIN])
    assert not permissions.has_role(no_2fa, Role.ADMIN)


def _uses_djangos_login(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        imported = isinstance(node, ast.ImportFrom) and node.module == "django.contrib.auth"
        if imported and any(alias.name == "login" for alias in node.names):
            return True
        called = isinstance(node, ast.Attribute) and node.attr == "login"
        if called and isinstance(node.value, ast.Name) and node.value.id == "auth":
            return True
    return False


def test_nothing_but_the_door_calls_djangos_login():
    """A second caller of django.contrib.auth.login would be a second door (no throttle, no
    second factor, no audit)."""
    repo = Path(__file__).resolve().parents[3]
    door = repo / "yiwang" / "identity" / "signin.py"
    sources = [*(repo / "yiwang").rglob("*.py"), *(repo / "config").rglob("*.py")]
    offenders = [
        str(path.relative_to(repo))
        for path in sources
        if "tests" not in path.parts
        and path != door
        and _uses_djangos_login(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert offenders == []
    assert _uses_djangos_login(ast.parse(door.read_text(encoding="utf-8")))  # the scan sees the door


# --- audit -----------------------------------------------------------------------------------


def test_failures_and_lockouts_are_audited_without_what_was_typed(settings, citizen):
    settings.THROTTLES = {**settings.THROTTLES, "login-account": (2, 900)}
    client = en_client()
    for _ in range(3):
        sign_in(client, "citizen", "wrong-guess")
    failed = AuditEntry.objects.filter(event="identity:session:login_failed")
    assert failed.count() == 2 and failed.first().data == {"step": "password"}
    assert failed.first().target_id == str(citizen.pk)
    locked = AuditEntry.objects.get(event="identity:session:locked")
    for entry in [*failed, locked]:
        assert "citizen" not in str(entry.data) and "wrong-guess" not in str(entry.data)
    for _ in range(10):  # refusals cost the guesser nothing, so they do not grow the log
        sign_in(client, "citizen", "wrong-guess")
    assert AuditEntry.objects.filter(event__startswith="identity:session:").count() == 3
    sign_in(client, "nobody-here", "x")
    unknown = AuditEntry.objects.filter(event="identity:session:login_failed").last()
    assert unknown.target_id in ("", None) and "nobody" not in str(unknown.data)


# --- section 6: sign-in throttles ------------------------------------------------------------


def test_five_wrong_guesses_at_a_kiosk_lock_only_that_account(citizen, other_citizen):
    kiosk = {"REMOTE_ADDR": "203.0.113.50"}
    visitor = en_client(**kiosk)
    for _ in range(django_settings.THROTTLES["login-account"][0]):
        sign_in(visitor, "citizen", "wrong")
    assert sign_in(visitor, "citizen").status_code == 429
    next_visitor = en_client(**kiosk)
    assert sign_in(next_visitor, "other_citizen").status_code == 302


def test_the_per_address_and_per_account_limits_are_far_above_the_strict_one():
    strict, _w = django_settings.THROTTLES["login-account-client"]
    account, _w = django_settings.THROTTLES["login-account"]
    address, _w = django_settings.THROTTLES["login-address"]
    assert address >= 10 * strict and account >= 10 * strict


def test_a_strangers_wrong_passwords_never_lock_the_owner_out(citizen):
    stranger = en_client(REMOTE_ADDR="203.0.113.9")
    for _ in range(5):
        sign_in(stranger, "citizen", "wrong")
    assert sign_in(stranger, "citizen", "wrong").status_code == 429  # the stranger is stopped
    assert sign_in(en_client(REMOTE_ADDR="198.51.100.20"), "citizen").status_code == 302  # the owner is not


def test_spraying_one_account_from_many_addresses_is_stopped_at_the_account_limit(settings, citizen):
    settings.THROTTLES = {**settings.THROTTLES, "login-account": (8, 900)}
    for i in range(8):
        sign_in(en_client(REMOTE_ADDR=f"203.0.113.{i + 1}"), "citizen", "wrong")
    assert sign_in(en_client(REMOTE_ADDR="203.0.113.100"), "citizen", "wrong").status_code == 429


def test_right_passwords_do_not_use_up_the_addresss_allowance(settings, citizen):
    settings.THROTTLES = {**settings.THROTTLES, "login-address": (3, 900)}
    for _ in range(6):
        assert sign_in(en_client(REMOTE_ADDR="203.0.113.60"), "citizen").status_code == 302


def test_behind_a_trusted_proxy_each_client_has_its_own_address_allowance(settings, citizen, other_citizen):
    settings.TRUSTED_PROXIES = (ipaddress.ip_network("10.0.0.0/8"),)
    settings.THROTTLES = {**settings.THROTTLES, "login-address": (3, 900)}
    attacker = en_client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.66")
    for name in ("a", "b", "c"):
        sign_in(attacker, name, "wrong")
    assert sign_in(attacker, "d", "wrong").status_code == 429
    someone_else = en_client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.77")
    assert sign_in(someone_else, "other_citizen").status_code == 302


def test_a_forged_forwarded_for_from_an_untrusted_peer_does_not_dodge_the_address_limit(settings):
    settings.THROTTLES = {**settings.THROTTLES, "login-address": (3, 900)}
    for i in range(3):
        sign_in(en_client(REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}"), f"u{i}", "x")
    blocked = en_client(REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR="192.0.2.99")
    assert sign_in(blocked, "u9", "x").status_code == 429


def test_a_user_name_typed_differently_shares_the_accounts_counter(settings, citizen):
    settings.THROTTLES = {**settings.THROTTLES, "login-account": (3, 900)}
    client = en_client()
    for typed in (" citizen", "CITIZEN", "ｃｉｔｉｚｅｎ"):
        sign_in(client, typed, "wrong")
    assert sign_in(client, "citizen").status_code == 429


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not ON_POSTGRES, reason="parallel writers need PostgreSQL; SQLite serialises them")
def test_forty_parallel_password_guesses_try_only_the_attempts_left(settings, citizen):
    """The reported race: with 2 attempts left, 40 parallel guesses tried 6 passwords."""
    settings.THROTTLES = {**settings.THROTTLES, "login-account": (5, 900), "login-address": (1000, 900)}
    for _ in range(3):
        services.login_attempt(username="citizen", client_ip="192.0.2.1")
    barrier = threading.Barrier(40)
    tried = []

    def guess(i):
        try:
            barrier.wait(timeout=20)
            if services.login_attempt(username="citizen", client_ip=f"192.0.2.{i + 2}").allowed:
                tried.append(i)
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(tried) == 2


# --- demo administrators ---------------------------------------------------------------------


def test_the_demo_administrators_sign_in_with_the_published_secret(settings):
    from yiwang.identity import demo

    demo.build()
    for username in ("admin", "deptadmin"):
        client = en_client()
        response = sign_in(client, username, demo.DEMO_PASSWORD)
        assert response["Location"] == reverse("identity:login_totp"), username
        code = pyotp.TOTP(services.DEMO_TOTP_SECRET).at(time.time() + 30)
        assert client.post(reverse("identity:login_totp"), {"code": code}).status_code == 302
    assert client.get(reverse("identity:officials")).status_code == 200


def test_the_demo_secret_is_refused_outside_development(settings):
    from yiwang.identity import demo

    demo.build()
    settings.DEV = False
    client = en_client()
    sign_in(client, "admin", demo.DEMO_PASSWORD)
    code = pyotp.TOTP(services.DEMO_TOTP_SECRET).at(time.time() + 30)
    assert client.post(reverse("identity:login_totp"), {"code": code}).status_code == 200
    assert "_auth_user_id" not in client.session


def test_the_demo_code_command_prints_a_working_code_in_development_only(settings, capsys):
    call_command("demo_totp")
    printed = capsys.readouterr().out.split()[0]
    assert pyotp.TOTP(services.DEMO_TOTP_SECRET).verify(printed, valid_window=1)
    settings.DEV = False
    with pytest.raises(CommandError):
        call_command("demo_totp")


# --- registration per client -----------------------------------------------------------------


def test_registration_is_throttled_per_client_before_the_service_answers(settings, monkeypatch):
    settings.THROTTLES = {**settings.THROTTLES, "register": (2, 3600)}
    calls = []

    def fake_register(**kwargs):
        calls.append(kwargs)
        from django.core.exceptions import ValidationError

        raise ValidationError({"id_number": ["some answer"]})

    monkeypatch.setattr(services, "person_register", fake_register)
    data = {
        "name": "刘八",
        "id_number": "11010519491231002X",
        "phone": "13511112222",
        "username": "liuba",
        "password1": "a-long-enough-pass",
        "password2": "a-long-enough-pass",
    }
    for _ in range(2):
        en_client(REMOTE_ADDR="198.51.100.5").post(reverse("identity:register"), data)
    refused = en_client(REMOTE_ADDR="198.51.100.5").post(reverse("identity:register"), data)
    assert refused.status_code == 429 and "Too many registrations" in refused.content.decode()
    assert len(calls) == 2
    assert en_client(REMOTE_ADDR="198.51.100.6").post(reverse("identity:register"), data).status_code == 200


def test_the_admin_sites_sign_out_is_the_platforms_audited_one(login, superuser):
    client = login(superuser)
    assert client.get("/admin/").status_code == 200
    response = client.post("/admin/logout/")
    assert response.status_code == 302 and "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(event="identity:session:logout").exists()


def test_an_account_without_admin_access_is_refused_at_the_admin_login(login, citizen):
    response = login(citizen).get("/admin/login/")
    assert response.status_code == 403


def test_the_two_factor_requirement_is_explained_in_chinese_by_default(department_x):
    make_official("newadmin", department_x, [Role.ADMIN])
    client = Client()
    sign_in(client, "newadmin")
    assert "请先开启双因素登录才能使用这些权限" in client.get(reverse("identity:two_factor")).content.decode()


@pytest.mark.parametrize(
    ("persona", "landing"),
    [("official_x", "/workbench/"), ("auditor", "/transparency/records/"), ("citizen", "/account")],
)
def test_signing_in_lands_each_role_where_its_work_is(request, persona, landing):
    # Issue 9 §1: officials landed on "My account" instead of their work.
    request.getfixturevalue(persona)
    response = sign_in(en_client(), persona)
    assert response.status_code == 302 and response["Location"] == landing
    assert sign_in(en_client(), persona, next="/services/")["Location"] == "/services/"
