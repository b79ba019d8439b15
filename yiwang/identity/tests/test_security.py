"""Regression tests for the real-name and enterprise holes of issue 8 (sections 3 and 4).

Each test replays what an attacker did and checks that it no longer works: the registration
oracle, "verified" shown for any valid check digit, binding someone else's identity, acting for
an enterprise whose credit code one typed in, and self-declared data shown as government data.
"""

import datetime as dt
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from yiwang.audit.models import AuditEntry
from yiwang.conftest import make_person
from yiwang.core import context
from yiwang.identity import permissions, pii, services
from yiwang.identity.models import (
    AccountNotice,
    Enterprise,
    EnterpriseAgent,
    Person,
    RealNameLevel,
)
from yiwang.identity.tests.registers import put_legal_entity, put_resident
from yiwang.lib.idnumbers import make_id_number
from yiwang.lib.uscc import make_credit_code

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-pass"


def form(username: str, id_number: str, name: str = "陈七") -> dict:
    return {
        "name": name,
        "id_number": id_number,
        "phone": "13612345678",
        "email": f"{username}@example.org",
        "username": username,
        "password1": PASSWORD,
        "password2": PASSWORD,
    }


def in_register(name: str, id_number: str) -> None:
    put_resident(name, id_number)


def number_of(person: Person) -> str:
    return pii.id_number_of(person)


def legal_entity(code: str, name: str, rep: Person, *, active: bool = True) -> None:
    put_legal_entity(
        code,
        name,
        rep.name,
        number_of(rep),
        address="西安市雁塔区演示路9号",
        status="存续" if active else "注销",
    )


def page_text(response) -> str:
    text = response.content.decode()
    # the CSRF token and the form's echoed user name differ between any two requests
    return "\n".join(line for line in text.splitlines() if "csrfmiddlewaretoken" not in line)


# --- 3. the registration oracle ------------------------------------------------------------


def test_registration_answers_the_same_whether_or_not_the_number_is_registered(login, citizen):
    taken = number_of(citizen.person)
    fresh = make_id_number("610113", dt.date(1992, 2, 29), 457)
    with translation.override("zh-hans"):
        answers = []
        for username, number in (("prober1", taken), ("prober2", fresh)):
            response = login(None).post("/register", form(username, number), follow=True)
            answers.append(
                (
                    response.status_code,
                    [r[0] for r in response.redirect_chain],
                    [str(m) for m in response.context["messages"]],
                )
            )
    assert answers[0] == answers[1]
    assert answers[0][1] == ["/account"]
    assert "已注册" not in str(answers) and "already" not in str(answers)
    # The prober got an unverified account; the real holder was told, and keeps their binding.
    assert Person.objects.get(user__username="prober1").realname_level == RealNameLevel.SELF_DECLARED
    assert AccountNotice.objects.filter(user=citizen).count() == 1
    citizen.person.refresh_from_db()
    assert citizen.person.realname_level == RealNameLevel.REGISTER


def test_a_valid_check_digit_no_longer_shows_as_verified(login):
    number = make_id_number("610113", dt.date(1992, 2, 29), 457)
    client = login(None)
    with translation.override("zh-hans"):
        client.post("/register", form("declared", number))
        page = client.get("/account").content.decode()
    assert "已核验" not in page
    assert "L1" in page
    assert 'href="/account/verify"' in page


def test_verified_identities_stay_unique_per_number(citizen):
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.create(
            name="张三",
            realname_level=RealNameLevel.REGISTER,
            **pii.id_number_fields(number_of(citizen.person)),
        )


def test_binding_a_number_held_by_another_account_gives_the_mismatch_refusal(citizen):
    taken = number_of(citizen.person)
    in_register("张三", taken)
    squatter = services.person_register(
        name="张三", id_number=taken, phone="13612345678", username="squatter", password=PASSWORD
    )
    stranger_number = make_id_number("610113", dt.date(1992, 2, 29), 457)
    in_register("陈七", stranger_number)
    mismatch = services.person_register(
        name="陈八", id_number=stranger_number, phone="13612345679", username="typo", password=PASSWORD
    )
    AccountNotice.objects.all().delete()
    refusals = []
    with translation.override("en"):
        for person, name, number in ((squatter, "张三", taken), (mismatch, "陈八", stranger_number)):
            with pytest.raises(ValidationError) as excinfo:
                services.person_verify(person=person, name=name, id_number=number, actor=person.user)
            refusals.append(excinfo.value.message_dict)
    assert refusals[0] == refusals[1]
    assert list(AccountNotice.objects.values_list("user__username", flat=True)) == ["citizen"]
    squatter.refresh_from_db()
    assert squatter.realname_level == RealNameLevel.SELF_DECLARED


def test_real_name_checks_cannot_be_used_to_guess_names(citizen):
    number = make_id_number("610113", dt.date(1992, 2, 29), 457)
    in_register("陈七", number)
    guesser = services.person_register(
        name="某人", id_number=number, phone="13612345678", username="guesser", password=PASSWORD
    )
    for guess in ["陈一", "陈二", "陈三", "陈四", "陈五"]:
        with pytest.raises(ValidationError):
            services.person_verify(person=guesser, name=guess, id_number=number, actor=guesser.user)
    with translation.override("en"), pytest.raises(ValidationError) as excinfo:
        services.person_verify(person=guesser, name="陈七", id_number=number, actor=guesser.user)
    assert "Too many" in excinfo.value.message_dict["id_number"][0]
    assert Person.objects.get(pk=guesser.pk).realname_level == RealNameLevel.SELF_DECLARED


def test_fresh_accounts_from_one_address_cannot_keep_guessing_names(settings, citizen):
    # Accounts are free: the per-account limit alone would let one address test name after name.
    settings.THROTTLES = {**settings.THROTTLES, "realname-client": (3, 86400)}
    number = make_id_number("610113", dt.date(1992, 2, 29), 457)
    in_register("陈七", number)
    token = context.bind(context.RequestContext(client_ip="203.0.113.44"))
    try:
        for n, guess in enumerate(["陈一", "陈二", "陈三", "陈七"]):
            guesser = services.person_register(
                name="某人", id_number=number, phone="13612345678", username=f"guesser{n}", password=PASSWORD
            )
            with pytest.raises(ValidationError):
                services.person_verify(person=guesser, name=guess, id_number=number, actor=guesser.user)
    finally:
        context.reset(token)
    assert not Person.objects.filter(realname_level__gte=RealNameLevel.REGISTER, name="陈七").exists()


def test_a_check_in_person_takes_the_number_back_from_a_remote_squatter(official_x, agent, enterprise):
    # The squatter (agent's account here) verified someone else's number remotely and acts for an
    # enterprise with it; the real holder shows their card at a service hall.
    holder_number = number_of(agent.person)
    in_register("王五", holder_number)
    real = make_person("real_wang", "王五", seq=99, level=RealNameLevel.SELF_DECLARED)
    services.person_verify_in_person(person=real, name="王五", id_number=holder_number, actor=official_x)
    squatter = Person.objects.get(user=agent)
    assert squatter.realname_level == RealNameLevel.SELF_DECLARED
    assert not permissions.agencies_of(agent).exists()
    assert Person.objects.get(pk=real.pk).realname_level == RealNameLevel.IN_PERSON
    assert AccountNotice.objects.filter(user=agent).exists()
    assert AuditEntry.objects.filter(event="identity:person:demote", target_id=str(squatter.pk)).exists()


def test_a_number_checked_in_person_is_not_taken_again(official_x, citizen):
    number = number_of(citizen.person)
    in_register("张三", number)
    services.person_verify_in_person(person=citizen.person, name="张三", id_number=number, actor=official_x)
    other = make_person("other_zhang", "张三", seq=98, level=RealNameLevel.SELF_DECLARED)
    with pytest.raises(ValidationError):
        services.person_verify_in_person(person=other, name="张三", id_number=number, actor=official_x)
    assert Person.objects.get(user=citizen).realname_level == RealNameLevel.IN_PERSON


# --- 4. enterprises come from the register -------------------------------------------------


def test_nobody_can_register_an_arbitrary_credit_code(citizen):
    code = make_credit_code("610100", 777)
    with pytest.raises(ValidationError):
        services.enterprise_claim(person=citizen.person, credit_code=code, actor=citizen)
    assert not Enterprise.objects.exists()
    assert not permissions.agencies_of(citizen).exists()


def test_a_citizen_cannot_take_over_a_real_company_and_lock_it_out(citizen, other_citizen):
    code = make_credit_code("610100", 778)
    legal_entity(code, "真实餐饮有限公司", other_citizen.person)
    with pytest.raises(ValidationError):
        services.enterprise_claim(person=citizen.person, credit_code=code, actor=citizen)
    assert not Enterprise.objects.filter(credit_code=code).exists()
    # The company's real representative still gets in, with the register's details.
    enterprise = services.enterprise_claim(person=other_citizen.person, credit_code=code, actor=other_citizen)
    assert (enterprise.name, enterprise.legal_representative) == ("真实餐饮有限公司", "李四")
    assert enterprise.from_register
    assert [a.role for a in permissions.agencies_of(other_citizen)] == [
        EnterpriseAgent.Role.LEGAL_REPRESENTATIVE
    ]
    assert AuditEntry.objects.filter(event="identity:enterprise:claim", target_id=str(enterprise.pk)).exists()


def test_the_representative_must_have_a_verified_identity(db):
    unverified = make_person("l1_rep", "赵九", seq=96, level=RealNameLevel.SELF_DECLARED)
    code = make_credit_code("610100", 779)
    legal_entity(code, "赵氏商贸有限公司", unverified)
    with pytest.raises(ValidationError):
        services.enterprise_claim(person=unverified, credit_code=code, actor=unverified.user)
    assert not Enterprise.objects.exists()


def test_a_deregistered_enterprise_cannot_be_claimed(other_citizen):
    code = make_credit_code("610100", 780)
    legal_entity(code, "已注销有限公司", other_citizen.person, active=False)
    with pytest.raises(ValidationError):
        services.enterprise_claim(person=other_citizen.person, credit_code=code, actor=other_citizen)


def test_self_declared_enterprises_are_not_acted_for(citizen):
    declared = Enterprise.objects.create(
        name="自报有限公司", credit_code=make_credit_code("610100", 781), legal_representative="张三"
    )
    EnterpriseAgent.objects.create(
        enterprise=declared, person=citizen.person, role=EnterpriseAgent.Role.LEGAL_REPRESENTATIVE
    )
    assert not permissions.agencies_of(citizen).exists()
    assert not permissions.may_apply_for(citizen, declared)


def test_a_declared_enterprise_is_shown_as_declared(login, citizen):
    declared = Enterprise.objects.create(
        name="自报有限公司", credit_code=make_credit_code("610100", 783), legal_representative="张三"
    )
    EnterpriseAgent.objects.create(
        enterprise=declared, person=citizen.person, role=EnterpriseAgent.Role.LEGAL_REPRESENTATIVE
    )
    with translation.override("en"):
        page = login(citizen).get("/account", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    box = page[page.index('id="declared-enterprises"') :]
    assert "自报有限公司" in box[: box.index("</div>")] and "not government data" in box
    assert f'name="enterprise" value="{declared.pk}"' not in page  # no "act for it" button


def test_claiming_a_declared_row_from_the_register_ends_its_declared_agents(citizen, other_citizen):
    code = make_credit_code("610100", 782)
    declared = Enterprise.objects.create(name="冒名有限公司", credit_code=code, legal_representative="张三")
    EnterpriseAgent.objects.create(
        enterprise=declared, person=citizen.person, role=EnterpriseAgent.Role.LEGAL_REPRESENTATIVE
    )
    legal_entity(code, "真名有限公司", other_citizen.person)
    enterprise = services.enterprise_claim(person=other_citizen.person, credit_code=code, actor=other_citizen)
    assert enterprise.pk == declared.pk and enterprise.name == "真名有限公司"
    assert EnterpriseAgent.objects.get(person=citizen.person).revoked_at is not None
    assert not permissions.agencies_of(citizen).exists()


# --- 4. delegation (授权委托) -----------------------------------------------------------------


@pytest.fixture
def registered(agent, enterprise):
    """``enterprise`` in the legal-entity register, naming ``agent`` as its representative."""
    legal_entity(enterprise.credit_code, enterprise.name, agent.person)
    return enterprise


def delegate(enterprise, actor, person, *, scope=EnterpriseAgent.Scope.APPLY, days=30):
    return services.delegation_grant(
        enterprise=enterprise,
        name=person.name,
        id_number=number_of(person),
        scope=scope,
        valid_until=timezone.localdate() + timedelta(days=days),
        actor=actor,
    )


def test_only_the_representative_delegates(registered, agent, citizen, other_citizen):
    with pytest.raises(PermissionDenied):
        delegate(registered, citizen, other_citizen.person)
    agency = delegate(registered, agent, citizen.person, scope=EnterpriseAgent.Scope.TRACK)
    assert (agency.granted_by, agency.scope) == (agent.person, EnterpriseAgent.Scope.TRACK)
    assert permissions.get_agency_for_user(citizen, registered.pk) == agency
    assert not permissions.may_apply_for(citizen, registered)  # scoped: follow cases only
    assert permissions.may_apply_for(agent, registered)
    # A delegate cannot delegate further.
    with pytest.raises(PermissionDenied):
        delegate(registered, citizen, other_citizen.person)
    entry = AuditEntry.objects.get(event="identity:delegation:grant")
    assert set(entry.data) == {"scope", "valid_until"}
    assert AccountNotice.objects.filter(user=citizen).exists()


def test_a_delegation_needs_a_verified_delegate_and_an_end_date(registered, agent):
    l1 = make_person("l1_agent", "钱十", seq=95, level=RealNameLevel.SELF_DECLARED)
    with pytest.raises(ValidationError):
        delegate(registered, agent, l1)
    verified = make_person("v_agent", "孙十一", seq=94)
    with pytest.raises(ValidationError):
        delegate(registered, agent, verified, days=0)
    with pytest.raises(ValidationError):
        delegate(registered, agent, verified, days=4 * 366)
    assert not EnterpriseAgent.objects.filter(role=EnterpriseAgent.Role.AGENT).exists()


def test_delegations_cannot_be_used_to_find_out_who_is_verified(settings, registered, agent):
    settings.THROTTLES = {**settings.THROTTLES, "delegation-lookup": (2, 86400)}
    strangers = [
        make_person(None, f"路人{n}", seq=80 + n, level=RealNameLevel.SELF_DECLARED) for n in range(2)
    ]
    for person in strangers:
        with pytest.raises(ValidationError):
            delegate(registered, agent, person)
    verified = make_person("v_agent2", "孙十二", seq=93)
    with translation.override("en"), pytest.raises(ValidationError) as excinfo:
        delegate(registered, agent, verified)  # a real match is refused too, once the limit is used
    assert "Too many delegations" in excinfo.value.message_dict["id_number"][0]


def test_a_delegation_ends_on_its_date_or_when_revoked(registered, agent, citizen, other_citizen):
    agency = delegate(registered, agent, citizen.person)
    EnterpriseAgent.objects.filter(pk=agency.pk).update(valid_until=timezone.localdate() - timedelta(days=1))
    assert not permissions.agencies_of(citizen).exists()
    second = delegate(registered, agent, other_citizen.person)
    services.delegation_revoke(agency=second, actor=agent)
    assert not permissions.agencies_of(other_citizen).exists()
    assert AuditEntry.objects.filter(event="identity:delegation:revoke").count() == 1
    # and can be granted again after it ended
    assert delegate(registered, agent, other_citizen.person).revoked_at is None


def test_a_stranger_cannot_revoke_a_delegation(registered, agent, citizen, other_citizen):
    agency = delegate(registered, agent, citizen.person)
    with pytest.raises(PermissionDenied):
        services.delegation_revoke(agency=agency, actor=other_citizen)
    services.delegation_revoke(agency=agency, actor=citizen)  # the delegate may give it up
    assert EnterpriseAgent.objects.get(pk=agency.pk).revoked_at is not None


def test_a_representative_the_register_no_longer_names_cannot_delegate(
    registered, agent, citizen, other_citizen
):
    legal_entity(registered.credit_code, registered.name, other_citizen.person)  # the register changed
    with pytest.raises(PermissionDenied):
        delegate(registered, agent, citizen.person)
    assert not permissions.agencies_of(agent).exists()


def test_both_sides_see_the_delegation_and_strangers_get_404(
    login, registered, agent, citizen, other_citizen
):
    agency = delegate(registered, agent, citizen.person)
    with translation.override("en"):
        rep_page = login(agent).get("/account").content.decode()
        agent_page = login(citizen).get("/account").content.decode()
    assert 'id="delegations-granted"' in rep_page and "张三" in rep_page
    assert registered.name in agent_page and "王五" in agent_page
    assert login(other_citizen).post(f"/account/delegations/{agency.pk}/revoke").status_code == 404
    assert login(other_citizen).get(f"/account/enterprises/{registered.pk}/delegate").status_code == 404
    assert login(citizen).get(f"/account/enterprises/{registered.pk}/delegate").status_code == 404
    response = login(agent).post(f"/account/delegations/{agency.pk}/revoke")
    assert response.status_code == 302
    assert EnterpriseAgent.objects.get(pk=agency.pk).revoked_at is not None


def test_a_representative_the_register_replaced_cannot_start_acting(login, registered, agent, other_citizen):
    legal_entity(registered.credit_code, registered.name, other_citizen.person)
    response = login(agent).post("/account/act-as", {"enterprise": registered.pk})
    assert response.status_code == 404
    assert not permissions.agencies_of(agent).exists()
    assert login(agent).session.get(permissions.ACTING_ENTERPRISE_SESSION_KEY) is None


def test_nobody_acts_for_an_enterprise_the_register_lists_as_wound_up(login, registered, agent, citizen):
    delegate(registered, agent, citizen.person)
    legal_entity(registered.credit_code, registered.name, agent.person, active=False)
    assert login(agent).post("/account/act-as", {"enterprise": registered.pk}).status_code == 404
    assert not permissions.agencies_of(agent).exists()
    assert not permissions.agencies_of(citizen).exists()
