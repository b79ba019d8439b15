import pytest

from yiwang.identity import demo, pii, services
from yiwang.identity.demo_data import CITIES, COUNTY_KINDS, DEPARTMENT_KINDS
from yiwang.identity.models import (
    Department,
    Enterprise,
    EnterpriseAgent,
    Person,
    RealNameLevel,
    Region,
    Role,
    User,
)
from yiwang.identity.permissions import agencies_of, has_role
from yiwang.lib.idnumbers import validate_id_number
from yiwang.lib.uscc import validate_credit_code

pytestmark = pytest.mark.django_db


def test_the_demo_builds_the_province_and_is_idempotent():
    demo.build()
    counts = (
        Region.objects.count(),
        Department.objects.count(),
        User.objects.count(),
        Person.objects.count(),
    )
    demo.build()
    assert counts == (
        Region.objects.count(),
        Department.objects.count(),
        User.objects.count(),
        Person.objects.count(),
    )
    counties = sum(len(c[2]) for c in CITIES)
    assert counts[0] == 1 + len(CITIES) + counties
    assert counts[1] == len(DEPARTMENT_KINDS) * (1 + len(CITIES)) + counties * len(COUNTY_KINDS)
    scjg = Department.objects.get(code="610100-SCJG")
    assert scjg.name == "西安市市场监督管理局"
    assert scjg.parent.code == "610000-SCJG"
    assert Department.objects.get(code="610113-SCJG").parent == scjg
    assert scjg.phone.startswith("029-")


def test_demo_accounts_have_the_published_password_and_their_roles():
    demo.build()
    expected = {
        "citizen",
        "citizen2",
        "agent",
        "clerk",
        "reviewer",
        "approver",
        "steward",
        "inspector",
        "auditor",
        "deptadmin",
        "leader",
        "admin",
    }
    users = {u.username: u for u in User.objects.filter(username__in=expected)}
    assert set(users) == expected
    for user in users.values():
        assert user.check_password(demo.DEMO_PASSWORD)
        assert user.email.endswith("@example.org")
    scjg = Department.objects.get(code="610100-SCJG")
    assert has_role(users["clerk"], Role.CLERK, scjg)
    assert has_role(users["deptadmin"], Role.ADMIN, scjg) and users["deptadmin"].is_staff
    assert has_role(users["leader"], Role.LEADER, scjg) and not has_role(users["leader"], Role.CLERK)
    assert has_role(users["auditor"], Role.AUDITOR, Department.objects.get(code="610000-SJJ"))
    assert users["admin"].is_superuser
    assert users["citizen"].person.name == "张三" and users["citizen2"].person.name == "李四"
    validate_id_number(pii.id_number_of(users["citizen"].person))
    enterprise = Enterprise.objects.get(agents__person__user=users["agent"])
    assert validate_credit_code(enterprise.credit_code) == enterprise.credit_code


def test_build_large_adds_persons_in_batches_and_skips_those_already_there():
    demo.build()
    before = Person.objects.count()
    demo.build_large(persons=250, batch_size=100)
    assert Person.objects.count() == before + 250
    demo.build_large(persons=300, batch_size=100)
    assert Person.objects.count() == before + 300
    person = Person.objects.get(id_number_index=pii.id_number_index(demo.large_person_id_number(7)))
    assert pii.id_number_of(person) == demo.large_person_id_number(7)


def test_bulk_identity_numbers_are_valid_and_distinct():
    numbers = [demo.large_person_id_number(i) for i in range(0, 3_000_000, 997)]
    assert len(set(numbers)) == len(numbers)
    for number in numbers[:200]:
        validate_id_number(number)


def register_counts() -> tuple[int, int]:
    """Rows of the population and legal-entity base data (the registers identity checks against)."""
    from yiwang.exchange import basedata
    from yiwang.exchange.models import ResourceRow

    return tuple(
        ResourceRow.objects.filter(resource__code=code).count()
        for code in (basedata.POPULATION, basedata.LEGAL_ENTITY)
    )


def test_the_demo_builds_both_registers_and_accounts_at_their_levels():
    demo.build()
    counts = register_counts()
    demo.build()
    assert counts == register_counts()
    assert counts == (len(demo.CITIZENS) + len(demo.REGISTER_ONLY), len(demo.LEGAL_ENTITIES))
    levels = dict(Person.objects.filter(user__isnull=False).values_list("user__username", "realname_level"))
    assert levels["citizen"] == levels["agent"] == RealNameLevel.REGISTER
    assert levels["newcomer"] == RealNameLevel.SELF_DECLARED
    # The agent account acts for the demo restaurant company through the register.
    agent = User.objects.get(username="agent")
    (agency,) = agencies_of(agent)
    assert agency.role == EnterpriseAgent.Role.LEGAL_REPRESENTATIVE
    assert agency.enterprise.name == demo.DEMO_ENTERPRISE[0] and agency.enterprise.from_register
    # The newcomer can verify live against the demo register.
    newcomer = Person.objects.get(user__username="newcomer")
    services.person_verify(
        person=newcomer, name=newcomer.name, id_number=pii.id_number_of(newcomer), actor=newcomer.user
    )
    assert Person.objects.get(pk=newcomer.pk).realname_level == RealNameLevel.REGISTER


def test_the_demo_refuses_to_run_outside_development(settings):
    from django.core.management import CommandError, call_command

    settings.DEV = False
    with pytest.raises(CommandError):
        call_command("demo")
    with pytest.raises(RuntimeError):
        demo.build()
    assert register_counts() == (0, 0)
