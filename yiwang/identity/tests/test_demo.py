import pytest

from yiwang.identity import demo, pii
from yiwang.identity.demo_data import CITIES, COUNTY_KINDS, DEPARTMENT_KINDS
from yiwang.identity.models import Department, Enterprise, Person, Region, Role, User
from yiwang.identity.permissions import has_role
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
