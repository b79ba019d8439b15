import datetime as dt
from datetime import timedelta

import pyotp
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from yiwang.audit.models import AuditEntry
from yiwang.conftest import make_person
from yiwang.identity import pii, realname, selectors, services
from yiwang.identity.models import (
    Enterprise,
    Person,
    RealNameLevel,
    Role,
    RoleGrant,
    User,
)
from yiwang.identity.tests.registers import put_resident
from yiwang.lib.idnumbers import make_id_number
from yiwang.lib.uscc import make_credit_code

ID_NUMBER = make_id_number("610113", dt.date(1992, 2, 29), 457)


def register(**overrides):
    values = {
        "name": "陈七",
        "id_number": ID_NUMBER,
        "phone": "13612345678",
        "username": "chenqi",
        "password": "a-long-enough-pass",
        "email": "chenqi@example.org",
    }
    values.update(overrides)
    return services.person_register(**values)


def totp_now(user: User) -> str:
    return pyotp.TOTP(services.totp_secret_of(user)).now()


# --- registration --------------------------------------------------------------------------


@pytest.mark.django_db
def test_registration_stores_the_identity_number_encrypted_indexed_and_masked():
    person = register(id_number=ID_NUMBER.lower())
    person.refresh_from_db()
    assert person.user.check_password("a-long-enough-pass")
    assert person.id_number_masked == ID_NUMBER[:4] + "*" * 10 + ID_NUMBER[-4:]
    assert ID_NUMBER.encode() not in bytes(person.id_number_ciphertext)
    assert pii.id_number_of(person) == ID_NUMBER
    assert person.id_number_index == pii.id_number_index(ID_NUMBER)


@pytest.mark.django_db
def test_registration_creates_a_self_declared_account_that_nobody_has_verified():
    person = register()
    assert person.realname_level == RealNameLevel.SELF_DECLARED
    assert person.verified_at is None and not person.is_verified
    # Unverified identities are not found by number: they prove nothing.
    assert selectors.person_lookup_by_id_number(ID_NUMBER) is None


@pytest.mark.django_db
def test_registration_is_audited_in_the_same_transaction_without_personal_data():
    person = register()
    entry = AuditEntry.objects.get(event="identity:person:register", target_id=str(person.pk))
    assert entry.actor_id == str(person.user.pk)
    for secret in (ID_NUMBER, person.id_number_masked, ID_NUMBER[-4:], "chenqi", "陈七", "1361"):
        assert secret not in str(entry.data)


@pytest.mark.django_db
def test_an_invalid_identity_number_is_refused_and_nothing_is_saved():
    with pytest.raises(ValidationError) as excinfo:
        register(id_number=ID_NUMBER[:-1] + ("0" if ID_NUMBER[-1] != "0" else "1"))
    assert "id_number" in excinfo.value.message_dict
    assert not User.objects.exists()
    assert not Person.objects.exists()


@pytest.mark.django_db
def test_all_bad_fields_are_reported_at_once():
    with pytest.raises(ValidationError) as excinfo:
        register(name=" ", id_number="123", phone="12345", username="x", password="123")
    assert set(excinfo.value.message_dict) == {"name", "id_number", "phone", "username", "password"}


@pytest.mark.django_db
def test_a_user_name_taken_in_another_case_is_refused(citizen):
    with pytest.raises(ValidationError) as excinfo:
        register(username="CITIZEN")
    assert list(excinfo.value.message_dict) == ["username"]


def test_argon2_is_the_first_password_hasher_in_production_settings():
    import config.settings

    assert config.settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


# --- real-name verification (L2, L3) -------------------------------------------------------


def in_register(name: str, id_number: str) -> None:
    put_resident(name, id_number)


@pytest.mark.django_db
def test_verification_against_the_register_raises_the_account_to_l2():
    person = register()
    in_register("陈七", ID_NUMBER)
    person = services.person_verify(person=person, name="陈七", id_number=ID_NUMBER, actor=person.user)
    person.refresh_from_db()
    assert person.realname_level == RealNameLevel.REGISTER and person.verified_at is not None
    assert selectors.person_lookup_by_id_number(ID_NUMBER) == person
    entry = AuditEntry.objects.get(event="identity:person:verify", target_id=str(person.pk))
    assert entry.data == {"realname_level": 2, "method": "register"}


@pytest.mark.django_db
def test_verification_may_correct_what_was_declared_at_registration():
    person = register(name="陈 七", id_number=make_id_number("610113", dt.date(1992, 2, 28), 457))
    in_register("陈七", ID_NUMBER)
    services.person_verify(person=person, name="陈七", id_number=ID_NUMBER, actor=person.user)
    person.refresh_from_db()
    assert (person.name, pii.id_number_of(person)) == ("陈七", ID_NUMBER)
    assert person.user.display_name == "陈七"


@pytest.mark.django_db
def test_a_name_the_register_does_not_hold_for_the_number_is_refused():
    person = register()
    in_register("别人", ID_NUMBER)
    with pytest.raises(ValidationError) as excinfo:
        services.person_verify(person=person, name="陈七", id_number=ID_NUMBER, actor=person.user)
    assert list(excinfo.value.message_dict) == ["id_number"]
    person.refresh_from_db()
    assert person.realname_level == RealNameLevel.SELF_DECLARED
    assert AuditEntry.objects.filter(event="identity:person:verify_refused").count() == 1


@pytest.mark.django_db
def test_only_the_account_holder_verifies_their_identity(other_citizen):
    person = register()
    in_register("陈七", ID_NUMBER)
    with pytest.raises(PermissionDenied):
        services.person_verify(person=person, name="陈七", id_number=ID_NUMBER, actor=other_citizen)


@pytest.mark.django_db
def test_a_register_that_fails_verifies_nobody(settings):
    settings.IDENTITY_REALNAME_VERIFIER = "yiwang.identity.tests.test_services.BrokenVerifier"
    person = register()
    with pytest.raises(ValidationError):
        services.person_verify(person=person, name="陈七", id_number=ID_NUMBER, actor=person.user)
    person.refresh_from_db()
    assert person.realname_level == RealNameLevel.SELF_DECLARED


class BrokenVerifier:
    def verify(self, *, name, id_number):
        raise ConnectionError("register unreachable")


@pytest.mark.django_db
def test_the_exchange_registers_are_the_default_and_an_unloadable_client_is_warned_about(settings):
    from yiwang.exchange.registers import ExchangeLegalEntityRegister, ExchangeRealNameVerifier
    from yiwang.identity import legalentities
    from yiwang.identity.checks import check_registers

    assert isinstance(realname.get_verifier(), ExchangeRealNameVerifier)
    assert isinstance(legalentities.get_register(), ExchangeLegalEntityRegister)
    assert check_registers(None) == []
    settings.IDENTITY_REALNAME_VERIFIER = "somewhere.RealVerifier"
    settings.IDENTITY_LEGAL_ENTITY_REGISTER = "somewhere.RealRegister"
    assert [w.id for w in check_registers(None)] == ["identity.W001", "identity.W002"]


@pytest.mark.django_db
def test_a_clerk_checks_an_identity_in_person_and_the_account_reaches_l3(official_x):
    person = register()
    in_register("陈七", ID_NUMBER)
    services.person_verify_in_person(person=person, name="陈七", id_number=ID_NUMBER, actor=official_x)
    person.refresh_from_db()
    assert person.realname_level == RealNameLevel.IN_PERSON
    assert person.verified_by == official_x
    entry = AuditEntry.objects.get(event="identity:person:verify", target_id=str(person.pk))
    assert entry.actor_id == str(official_x.pk) and entry.data["method"] == "in_person"


@pytest.mark.django_db
def test_only_a_clerk_checks_identities_in_person(inspector, citizen, department_x):
    person = register()
    in_register("陈七", ID_NUMBER)
    for actor in (inspector, citizen):
        with pytest.raises(PermissionDenied):
            services.person_verify_in_person(person=person, name="陈七", id_number=ID_NUMBER, actor=actor)
    assert Person.objects.get(pk=person.pk).realname_level == RealNameLevel.SELF_DECLARED


# --- enterprises ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_bad_credit_code_is_refused_on_its_field(citizen):
    bad = make_credit_code("610100", 779)[:-1] + "0"
    if bad == make_credit_code("610100", 779):
        bad = bad[:-1] + "1"
    with pytest.raises(ValidationError) as excinfo:
        services.enterprise_claim(person=citizen.person, credit_code=bad, actor=citizen)
    assert list(excinfo.value.message_dict) == ["credit_code"]
    assert not Enterprise.objects.exists()


# --- officials and roles -------------------------------------------------------------------


@pytest.mark.django_db
def test_a_department_admin_creates_officials_in_their_departments_only(
    dept_admin, department_x_child, department_y
):
    official = services.official_create(
        username="newclerk",
        name="新受理",
        department=department_x_child,
        roles=[Role.CLERK],
        password="a-long-enough-pass",
        actor=dept_admin,
    )
    assert list(official.roles.values_list("role", flat=True)) == [Role.CLERK]
    with pytest.raises(PermissionDenied):
        services.official_create(
            username="elsewhere",
            name="外单位",
            department=department_y,
            roles=[Role.CLERK],
            password="a-long-enough-pass",
            actor=dept_admin,
        )
    assert not User.objects.filter(username="elsewhere").exists()


@pytest.mark.django_db
def test_roles_are_granted_and_revoked_by_the_admin_and_audited(dept_admin, inspector):
    official = inspector.official
    services.role_grant(official=official, role=Role.REVIEWER, actor=dept_admin)
    services.role_grant(official=official, role=Role.REVIEWER, actor=dept_admin)  # idempotent
    assert RoleGrant.objects.filter(official=official, role=Role.REVIEWER).count() == 1
    assert services.role_revoke(official=official, role=Role.INSPECTOR, actor=dept_admin)
    assert not services.role_revoke(official=official, role=Role.INSPECTOR, actor=dept_admin)
    events = list(AuditEntry.objects.filter(target_id=str(official.pk)).values_list("event", flat=True))
    assert events == ["identity:role:grant", "identity:role:revoke"]


@pytest.mark.django_db
def test_roles_cannot_be_changed_by_others_or_by_oneself(official_x, official_y, dept_admin):
    with pytest.raises(PermissionDenied):
        services.role_grant(official=official_y.official, role=Role.ADMIN, actor=official_x)
    with pytest.raises(PermissionDenied):
        services.role_grant(official=official_y.official, role=Role.AUDITOR, actor=dept_admin)
    with pytest.raises(PermissionDenied):
        services.role_revoke(official=dept_admin.official, role=Role.ADMIN, actor=dept_admin)
    with pytest.raises(ValidationError):
        services.role_grant(official=official_x.official, role="king", actor=dept_admin)


# --- two-factor ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_totp_is_enabled_with_a_right_code_and_each_code_works_once(citizen):
    secret = services.totp_begin(user=citizen, actor=citizen)
    citizen.refresh_from_db()
    assert not citizen.totp_enabled
    assert secret.encode() not in bytes(citizen.totp_secret_ciphertext)
    with pytest.raises(ValidationError):
        services.totp_enable(
            user=citizen, code="000000" if totp_now(citizen) != "000000" else "111111", actor=citizen
        )
    services.totp_enable(user=citizen, code=totp_now(citizen), actor=citizen)
    citizen.refresh_from_db()
    assert citizen.totp_enabled
    # The code that enabled it cannot be replayed; the next step's code works once.
    assert not services.totp_verify(user=citizen, code=totp_now(citizen))
    next_code = pyotp.TOTP(secret).at(timezone.now() + timedelta(seconds=30))
    assert services.totp_verify(user=citizen, code=next_code)
    assert not services.totp_verify(user=citizen, code=next_code)
    assert not services.totp_verify(user=citizen, code="12ab56")
    events = list(AuditEntry.objects.filter(target_id=str(citizen.pk)).values_list("event", flat=True))
    assert events == ["identity:totp:begin", "identity:totp:enable"]


@pytest.mark.django_db
def test_totp_is_disabled_only_with_the_password(citizen):
    services.totp_begin(user=citizen, actor=citizen)
    services.totp_enable(user=citizen, code=totp_now(citizen), actor=citizen)
    with pytest.raises(ValidationError):
        services.totp_disable(user=citizen, password="wrong", actor=citizen)
    citizen.refresh_from_db()
    assert citizen.totp_enabled
    services.totp_disable(user=citizen, password="persona-pass-2026", actor=citizen)
    citizen.refresh_from_db()
    assert not citizen.totp_enabled and citizen.totp_secret_ciphertext is None
    assert services.totp_begin(user=citizen, actor=citizen)  # set-up may start again once off


@pytest.mark.django_db
def test_totp_cannot_begin_again_while_on_and_only_a_superuser_resets_it(citizen, dept_admin, superuser):
    services.totp_begin(user=citizen, actor=citizen)
    services.totp_enable(user=citizen, code=totp_now(citizen), actor=citizen)
    with pytest.raises(ValidationError):
        services.totp_begin(user=citizen, actor=citizen)
    with pytest.raises(PermissionDenied):
        services.totp_reset(user=citizen, actor=dept_admin)
    services.totp_reset(user=citizen, actor=superuser)
    citizen.refresh_from_db()
    assert not citizen.totp_enabled


# --- sign-in throttling (the mechanism: yiwang/core/tests/test_throttle.py) ----------------


def _limits(settings, account: int, address: int, window: int = 600) -> None:
    settings.THROTTLES = {
        **settings.THROTTLES,
        "login-account": (account, window),
        "login-address": (address, window),
    }


@pytest.mark.django_db
def test_sign_in_is_refused_after_the_limit_for_the_account_from_any_address(settings, citizen):
    _limits(settings, account=3, address=100)
    for ip in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        assert services.login_attempt(username=" Citizen", client_ip=ip).allowed
    refused = services.login_attempt(username="citizen", client_ip="10.0.0.9")
    assert not refused.allowed and refused.minutes > 0
    # Another account is not affected.
    assert services.login_attempt(username="other", client_ip="10.0.0.9").allowed


@pytest.mark.django_db
def test_one_address_guessing_many_accounts_is_throttled(settings):
    _limits(settings, account=3, address=4)
    for name in ("a", "b", "c", "d"):
        assert services.login_attempt(username=name, client_ip="10.9.9.9").allowed
    assert not services.login_attempt(username="e", client_ip="10.9.9.9").allowed
    assert services.login_attempt(username="e", client_ip="10.9.9.8").allowed


@pytest.mark.django_db
def test_a_successful_sign_in_clears_the_accounts_attempts_and_is_audited(settings, citizen):
    _limits(settings, account=3, address=100)
    for _ in range(3):
        services.login_attempt(username="citizen", client_ip="10.0.0.1")
    services.login_succeeded(user=citizen, method="password")
    assert services.login_attempt(username="citizen", client_ip="10.0.0.1").allowed
    assert AuditEntry.objects.filter(event="identity:session:login", actor_id=str(citizen.pk)).exists()


@pytest.mark.django_db(transaction=True)
def test_an_audit_failure_rolls_the_registration_back(monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("audit unavailable")

    monkeypatch.setattr(services.audit, "record", broken)
    with pytest.raises(RuntimeError):
        register()
    assert not User.objects.exists()
    assert not Person.objects.exists()


# --- selectors -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_lookup_by_identity_number_finds_exactly_that_person(citizen, other_citizen):
    number = pii.id_number_of(other_citizen.person)
    assert selectors.person_lookup_by_id_number(number.lower()) == other_citizen.person
    assert selectors.person_lookup_by_id_number(make_id_number("610102", dt.date(2001, 1, 1), 5)) is None
    with pytest.raises(ValidationError):
        selectors.person_lookup_by_id_number("not a number")


@pytest.mark.django_db
def test_persons_made_by_the_test_helper_look_like_registered_ones():
    person = make_person(None, "赵六", seq=99)
    assert selectors.person_lookup_by_id_number(pii.id_number_of(person)) == person


def test_password_confirm_is_throttled_per_account_and_a_right_password_does_not_count(
    official_x, official_y
):
    from yiwang.conftest import PERSONA_PASSWORD

    for _ in range(3):
        services.password_confirm(user=official_x, password=PERSONA_PASSWORD)
    for _ in range(5):
        with pytest.raises(services.PasswordConfirmationError) as wrong:
            services.password_confirm(user=official_x, password="guess")
        assert wrong.value.retry_after == 0
        assert wrong.value.message_dict == {"password": ["密码不正确。"]}
    with pytest.raises(services.PasswordConfirmationError) as locked:
        services.password_confirm(user=official_x, password=PERSONA_PASSWORD)
    assert locked.value.retry_after > 0 and "密码错误次数过多" in locked.value.messages[0]
    services.password_confirm(user=official_y, password=PERSONA_PASSWORD)  # another account is not locked
