import datetime as dt

import pyotp
import pytest
from django.test import Client
from django.urls import reverse

from yiwang.audit.models import AuditEntry
from yiwang.conftest import PERSONA_PASSWORD, make_person
from yiwang.core.models import ThrottleCounter
from yiwang.identity import pii, services
from yiwang.identity.models import (
    Enterprise,
    Person,
    RealNameLevel,
    Role,
    RoleGrant,
    User,
)
from yiwang.identity.permissions import ACTING_ENTERPRISE_SESSION_KEY
from yiwang.identity.tests.registers import put_legal_entity, put_resident
from yiwang.lib.idnumbers import make_id_number
from yiwang.lib.uscc import make_credit_code

pytestmark = pytest.mark.django_db

NEW_ID = make_id_number("610104", dt.date(1995, 7, 1), 222)


def en_client() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def sign_in(client: Client, username: str, password: str = PERSONA_PASSWORD, **extra):
    return client.post(reverse("identity:login"), {"username": username, "password": password, **extra})


def registration(**overrides):
    data = {
        "name": "刘八",
        "id_number": NEW_ID,
        "phone": "13511112222",
        "email": "",
        "username": "liuba",
        "password1": "a-long-enough-pass",
        "password2": "a-long-enough-pass",
    }
    data.update(overrides)
    return data


# --- registration --------------------------------------------------------------------------


def test_registration_creates_the_account_and_signs_in():
    client = Client()
    response = client.post(reverse("identity:register"), registration())
    assert response.status_code == 302 and response["Location"] == reverse("identity:account")
    person = Person.objects.get(user__username="liuba")
    assert pii.id_number_of(person) == NEW_ID
    page = client.get(reverse("identity:account"))
    assert person.id_number_masked in page.content.decode()


def test_registration_with_bad_input_shows_the_error_summary_and_saves_nothing():
    client = en_client()
    response = client.post(
        reverse("identity:register"),
        registration(
            id_number=NEW_ID[:-1] + ("1" if NEW_ID[-1] != "1" else "2"), phone="123", password2="other"
        ),
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="error-summary"' in html
    assert 'href="#id_id_number"' in html and 'href="#id_phone"' in html and 'href="#id_password2"' in html
    assert 'id="id_id_number_error"' in html and 'aria-invalid="true"' in html
    assert "does not match" in html
    assert not User.objects.exists() and not Person.objects.exists()


def test_registration_errors_are_in_chinese_by_default():
    response = Client().post(reverse("identity:register"), registration(id_number="123"))
    html = response.content.decode()
    assert "身份证号码" in html or "公民身份号码" in html


def test_registering_a_known_identity_number_creates_an_unverified_account(citizen):
    number = pii.id_number_of(citizen.person)
    response = en_client().post(reverse("identity:register"), registration(id_number=number))
    assert response.status_code == 302 and response["Location"] == reverse("identity:account")
    assert Person.objects.get(user__username="liuba").realname_level == RealNameLevel.SELF_DECLARED


# --- sign-in -------------------------------------------------------------------------------


def test_sign_in_rotates_the_session_and_goes_to_the_account(citizen):
    client = Client()
    client.get(reverse("identity:login"))
    client.session.save()
    before = client.session.session_key
    response = sign_in(client, "citizen")
    assert response.status_code == 302 and response["Location"] == reverse("identity:account")
    assert client.session.session_key != before
    assert AuditEntry.objects.filter(event="identity:session:login", actor_id=str(citizen.pk)).exists()


def test_sign_in_follows_a_safe_next_and_ignores_an_outside_one(citizen):
    response = sign_in(Client(), "citizen", next="/account/two-factor")
    assert response["Location"] == "/account/two-factor"
    response = sign_in(Client(), "citizen", next="https://evil.example.com/")
    assert response["Location"] == reverse("identity:account")


def test_a_wrong_password_and_an_unknown_user_get_the_same_message(citizen):
    wrong = sign_in(en_client(), "citizen", "not-the-password").content.decode()
    unknown = sign_in(en_client(), "nobody", "not-the-password").content.decode()
    message = "The user name or password is wrong."
    assert message in wrong and message in unknown


def test_sign_in_is_throttled_after_the_limit_even_with_the_right_password(settings, citizen):
    settings.THROTTLES = {**settings.THROTTLES, "login-account": (3, 900)}
    client = en_client()
    for _ in range(2):
        sign_in(client, "citizen", "wrong")
    third = sign_in(client, "citizen", "wrong")
    assert "Too many failed attempts. Try again in" in third.content.decode()
    right = sign_in(client, "citizen")
    assert right.status_code == 429 and "Too many failed attempts" in right.content.decode()
    assert "_auth_user_id" not in client.session
    ThrottleCounter.objects.all().delete()
    assert sign_in(client, "citizen").status_code == 302


def test_sign_out_is_post_only_and_audited(login, citizen):
    client = login(citizen)
    assert client.get(reverse("identity:logout")).status_code == 405
    response = client.post(reverse("identity:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(event="identity:session:logout").exists()


# --- two-factor ----------------------------------------------------------------------------


def enable_totp(user: User) -> str:
    secret = services.totp_begin(user=user, actor=user)
    services.totp_enable(user=user, code=pyotp.TOTP(secret).now(), actor=user)
    return secret


def test_two_factor_sign_in_needs_the_code_after_the_password(citizen):
    secret = enable_totp(citizen)
    client = en_client()
    response = sign_in(client, "citizen")
    assert response["Location"] == reverse("identity:login_totp")
    assert "_auth_user_id" not in client.session
    bad = client.post(reverse("identity:login_totp"), {"code": "000000"})
    assert bad.status_code == 200 and "That code is not right" in bad.content.decode()
    # The code used to enable is spent; the next step's code signs in.
    import time

    good = client.post(reverse("identity:login_totp"), {"code": pyotp.TOTP(secret).at(time.time() + 30)})
    assert good.status_code == 302 and good["Location"] == reverse("identity:account")
    assert client.session["_auth_user_id"] == str(citizen.pk)
    entry = AuditEntry.objects.filter(event="identity:session:login").last()
    assert entry.data == {"method": "password+totp"}


def test_the_code_step_is_throttled_too(settings, citizen):
    settings.THROTTLES = {**settings.THROTTLES, "login-account-client": (3, 900)}  # password + 2 codes
    secret = enable_totp(citizen)
    client = en_client()
    sign_in(client, "citizen")
    for _ in range(2):
        client.post(reverse("identity:login_totp"), {"code": "000000"})
    import time

    blocked = client.post(reverse("identity:login_totp"), {"code": pyotp.TOTP(secret).at(time.time() + 30)})
    assert "Too many failed attempts" in blocked.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_code_step_without_a_password_step_goes_back_to_sign_in():
    response = Client().get(reverse("identity:login_totp"))
    assert response["Location"] == reverse("identity:login")


def test_two_factor_set_up_shows_an_inline_qr_code_and_confirms_with_a_code(login, citizen):
    client = login(citizen)
    client.post(reverse("identity:two_factor"), {"action": "begin"})
    page = client.get(reverse("identity:two_factor")).content.decode()
    citizen.refresh_from_db()
    secret = services.totp_secret_of(citizen)
    assert "<svg" in page and "<title>" in page
    assert secret[:4] in page
    assert "http://" not in page.split("<svg", 1)[1].split("</svg>", 1)[0]
    wrong = client.post(reverse("identity:two_factor"), {"action": "confirm", "confirm-code": "abc"})
    assert 'class="error-summary"' in wrong.content.decode()
    response = client.post(
        reverse("identity:two_factor"), {"action": "confirm", "confirm-code": pyotp.TOTP(secret).now()}
    )
    assert response.status_code == 302
    citizen.refresh_from_db()
    assert citizen.totp_enabled


def test_two_factor_is_turned_off_with_the_password_and_the_session_survives(login, citizen):
    enable_totp(citizen)
    client = login(citizen)
    refused = client.post(reverse("identity:two_factor"), {"action": "disable", "disable-password": "wrong"})
    assert refused.status_code == 200
    response = client.post(
        reverse("identity:two_factor"), {"action": "disable", "disable-password": PERSONA_PASSWORD}
    )
    assert response.status_code == 302
    citizen.refresh_from_db()
    assert not citizen.totp_enabled
    assert client.get(reverse("identity:account")).status_code == 200


# --- account page --------------------------------------------------------------------------


def test_the_account_page_shows_the_identity_number_and_phone_masked_only(login, citizen):
    html = login(citizen).get(reverse("identity:account")).content.decode()
    number = pii.id_number_of(citizen.person)
    assert citizen.person.id_number_masked in html
    assert number not in html
    assert "138****1111" in html and "13800001111" not in html


def test_the_account_page_needs_sign_in():
    response = Client().get(reverse("identity:account"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("identity:login"))


def test_an_official_sees_their_department_roles_and_what_they_allow(login, official_x):
    html = en_client()
    html.force_login(official_x)
    content = html.get(reverse("identity:account")).content.decode()
    assert "西安市市场监督管理局" in content
    assert "Approve or refuse reviewed applications" in content


def test_an_agent_switches_to_act_for_the_enterprise_and_back(login, agent, enterprise):
    client = login(agent)
    response = client.post(reverse("identity:act_as"), {"enterprise": enterprise.pk})
    assert response.status_code == 302
    assert client.session[ACTING_ENTERPRISE_SESSION_KEY] == enterprise.pk
    assert 'id="acting-for"' in client.get(reverse("identity:account")).content.decode()
    client.post(reverse("identity:act_as"), {"enterprise": ""})
    assert ACTING_ENTERPRISE_SESSION_KEY not in client.session


def test_acting_for_an_enterprise_one_is_not_agent_of_gives_404(login, citizen, enterprise):
    client = login(citizen)
    assert client.post(reverse("identity:act_as"), {"enterprise": enterprise.pk}).status_code == 404
    assert client.post(reverse("identity:act_as"), {"enterprise": "abc"}).status_code == 404
    assert ACTING_ENTERPRISE_SESSION_KEY not in client.session


def test_the_register_decides_who_acts_for_an_enterprise_from_the_page(login, citizen):
    client = login(citizen)
    assert client.get(reverse("identity:enterprise_register")).status_code == 200
    code = make_credit_code("610113", 4242)
    bad = client.post(
        reverse("identity:enterprise_register"),
        {"credit_code": code[:-1] + ("0" if code[-1] != "0" else "1")},
    )
    assert 'href="#id_credit_code"' in bad.content.decode()
    put_legal_entity(code, "页面公司", "张三", pii.id_number_of(citizen.person))
    ok = client.post(reverse("identity:enterprise_register"), {"credit_code": code})
    assert ok.status_code == 302
    assert Enterprise.objects.get(credit_code=code).agents.get().person == citizen.person


def test_a_person_verifies_their_identity_from_the_page(login):
    person = make_person("l1_page", "刘八", seq=55, level=RealNameLevel.SELF_DECLARED)
    number = pii.id_number_of(person)
    put_resident("刘八", number)
    client = login(person.user)
    assert client.get(reverse("identity:verify")).status_code == 200
    wrong = client.post(reverse("identity:verify"), {"name": "刘九", "id_number": number})
    assert wrong.status_code == 200 and 'href="#id_id_number"' in wrong.content.decode()
    ok = client.post(reverse("identity:verify"), {"name": "刘八", "id_number": number, "next": "/services/"})
    assert ok.status_code == 302 and ok["Location"] == "/services/"
    assert Person.objects.get(pk=person.pk).realname_level == RealNameLevel.REGISTER


def test_only_clerks_open_the_in_person_check(login, citizen, inspector, official_x):
    assert login(citizen).get(reverse("identity:verify_in_person")).status_code == 403
    assert login(inspector).get(reverse("identity:verify_in_person")).status_code == 403
    assert login(official_x).get(reverse("identity:verify_in_person")).status_code == 200


def test_a_clerk_records_a_check_in_person_from_the_page(login, official_x):
    person = make_person("l1_hall", "刘八", seq=56, level=RealNameLevel.SELF_DECLARED)
    number = pii.id_number_of(person)
    put_resident("刘八", number)
    data = {"username": "l1_hall", "name": "刘八", "id_number": number}
    response = login(official_x).post(reverse("identity:verify_in_person"), data)
    assert response.status_code == 302
    assert Person.objects.get(pk=person.pk).realname_level == RealNameLevel.IN_PERSON
    unknown = login(official_x).post(reverse("identity:verify_in_person"), {**data, "username": "nobody"})
    assert 'href="#id_username"' in unknown.content.decode()


def test_officials_without_a_person_cannot_register_enterprises(login, official_x):
    assert login(official_x).get(reverse("identity:enterprise_register")).status_code == 403


# --- role management -----------------------------------------------------------------------


def test_role_changes_need_the_admins_password(login, dept_admin, inspector):
    client = login(dept_admin)
    listing = client.get(reverse("identity:officials")).content.decode()
    assert "inspector" in listing
    url = reverse("identity:official_roles", args=[inspector.official.pk, "grant"])
    refused = client.post(url, {"role": Role.REVIEWER, "password": "wrong"})
    assert refused.status_code == 200
    assert not RoleGrant.objects.filter(official=inspector.official, role=Role.REVIEWER).exists()
    assert client.post(url, {"role": Role.REVIEWER, "password": PERSONA_PASSWORD}).status_code == 302
    assert RoleGrant.objects.filter(official=inspector.official, role=Role.REVIEWER).exists()


def test_role_pages_refuse_others(login, official_x, official_y, dept_admin, citizen):
    assert login(citizen).get(reverse("identity:officials")).status_code == 403
    assert login(official_x).get(reverse("identity:officials")).status_code == 403
    url = reverse("identity:official_roles", args=[official_y.official.pk, "grant"])
    assert login(dept_admin).post(url, {"role": Role.ADMIN, "password": PERSONA_PASSWORD}).status_code == 404
    own = reverse("identity:official_roles", args=[dept_admin.official.pk, "revoke"])
    assert login(dept_admin).get(own).status_code == 404
    assert (
        login(dept_admin)
        .get(reverse("identity:official_roles", args=[official_x.official.pk, "x"]))
        .status_code
        == 404
    )


# --- every page ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["login", "register"])
def test_public_pages_render_in_both_languages(name):
    assert Client().get(reverse(f"identity:{name}")).status_code == 200
    assert en_client().get(reverse(f"identity:{name}")).status_code == 200


@pytest.mark.parametrize(
    "name", ["account", "two_factor", "password_change", "enterprise_register", "officials"]
)
def test_private_pages_send_anonymous_users_to_sign_in(name):
    response = Client().get(reverse(f"identity:{name}"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("identity:login"))


def test_a_password_change_needs_the_current_password_and_keeps_the_session(login, citizen):
    client = en_client()
    client.force_login(citizen)
    url = reverse("identity:password_change")
    new = "another-long-pass-2027"
    refused = client.post(url, {"old_password": "wrong", "new_password1": new, "new_password2": new})
    assert 'href="#id_old_password"' in refused.content.decode()
    weak = client.post(
        url, {"old_password": PERSONA_PASSWORD, "new_password1": "123", "new_password2": "123"}
    )
    assert 'href="#id_new_password1"' in weak.content.decode()
    ok = client.post(url, {"old_password": PERSONA_PASSWORD, "new_password1": new, "new_password2": new})
    assert ok.status_code == 302
    citizen.refresh_from_db()
    assert citizen.check_password(new)
    assert client.get(reverse("identity:account")).status_code == 200
    assert AuditEntry.objects.filter(event="identity:password:change", target_id=str(citizen.pk)).exists()
