"""The cast of personas shared by every app's tests.

Place: the demo province 陕西省 (610000) with 西安市 (610100, the ``region`` fixture) and
铜川市 (610200).

==================  =============================================================================
fixture             who
==================  =============================================================================
``region``          Region 西安市 (610100), child of 陕西省 (610000)
``department_x``    西安市市场监督管理局 (610100-SCJG), in ``region``
``department_x_child``  新城区市场监督管理局 (610102-SCJG), parent ``department_x``: X's roles reach it
``department_y``    铜川市市场监督管理局 (610200-SCJG): no role of X reaches it, nor the reverse
``citizen``         User "citizen", Person 张三 (real-name level L2), no enterprise
``other_citizen``   User "other_citizen", Person 李四: must never see ``citizen``'s data, nor the reverse
``agent``           User "agent", Person 王五, legal representative of ``enterprise``
``enterprise``      Enterprise 演示餐饮有限公司 with a valid credit code, from the legal-entity register
``official_x``      User "official_x", Official of X with clerk + reviewer + approver roles
``official_y``      User "official_y", Official of Y with clerk + reviewer + approver roles
``inspector``       User "inspector", Official of X with the inspector role
``auditor``         User "auditor", Official of 陕西省数据和政务服务局 (610000-SJJ), auditor role
``dept_admin``      User "dept_admin", Official of X with the admin role, is_staff, two-factor on
``superuser``       User "superuser", is_superuser + is_staff, two-factor on, no official or person
==================  =============================================================================

Every persona is a ``identity.User`` (reach the rest with ``user.person``, ``user.official``);
all have the password ``PERSONA_PASSWORD``. ``login(user)`` returns a Django test client
signed in as that user as the platform's sign-in would leave it, second factor passed (no
password hashing: ``force_login``); ``login(None)`` an anonymous one. Administrator powers need
two-factor sign-in on (see identity.permissions), so ``dept_admin`` and ``superuser`` have it,
with the secret ``PERSONA_TOTP_SECRET``.
Personas are built directly (no audit entries, MD5 hashing in tests) to keep them cheap;
``make_person`` and ``make_official`` build more people the same way. Persons are verified
(L2) unless ``make_person(..., level=RealNameLevel.SELF_DECLARED)`` asks for an L1 account.
"""

import datetime as dt

import hypothesis
import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone, translation

from yiwang.identity import pii
from yiwang.identity.models import (
    Department,
    Enterprise,
    EnterpriseAgent,
    Official,
    Person,
    RealNameLevel,
    Region,
    Role,
    RoleGrant,
    User,
)
from yiwang.identity.signin import SECOND_FACTOR_SESSION_KEY
from yiwang.lib import crypto
from yiwang.lib.idnumbers import make_id_number
from yiwang.lib.uscc import make_credit_code

# Property tests are judged by their examples, not by how fast one runs: the suite shares two
# cores with other work, where hypothesis's default 200 ms deadline per example fails at random.
hypothesis.settings.register_profile("yiwang", deadline=None)
hypothesis.settings.load_profile("yiwang")

PERSONA_PASSWORD = "persona-pass-2026"  # noqa: S105 — a fixed test password
PERSONA_TOTP_SECRET = "PERSONATESTSECRETPERSONATESTSECR"  # noqa: S105 — a fixed test secret
CASE_ROLES = (Role.CLERK, Role.REVIEWER, Role.APPROVER)


def with_two_factor(user: User) -> User:
    """Turn two-factor sign-in on for a test account, with ``PERSONA_TOTP_SECRET``."""
    user.totp_secret_ciphertext = crypto.encrypt(PERSONA_TOTP_SECRET, pii.TOTP_PURPOSE)
    user.totp_enabled = True
    user.save(update_fields=["totp_secret_ciphertext", "totp_enabled"])
    return user


def make_user(username: str, *, name: str = "", **extra) -> User:
    return User.objects.create_user(
        username=username,
        password=PERSONA_PASSWORD,
        display_name=name or username,
        email=f"{username}@example.org",
        **extra,
    )


def force_sign_in(client: Client, user: User) -> Client:
    """Sign ``client`` in as ``user`` as the platform's door leaves a session that passed the
    second factor (``force_login`` alone is a password-only session: no administrator powers)."""
    client.force_login(user)
    session = client.session
    session[SECOND_FACTOR_SESSION_KEY] = user.pk
    session.save()
    return client


def make_person(
    username: str | None,
    name: str,
    *,
    region_code: str = "610102",
    birth: dt.date = dt.date(1990, 1, 1),
    seq: int = 1,
    phone: str = "13800000000",
    level: int = RealNameLevel.REGISTER,
) -> Person:
    """A Person (with a User when ``username`` is given) whose identity number is valid and fake,
    at real-name ``level`` (verified L2 by default)."""
    user = make_user(username, name=name, phone=phone) if username else None
    id_number = make_id_number(region_code, birth, seq)
    return Person.objects.create(
        user=user,
        name=name,
        phone=phone,
        realname_level=level,
        verified_at=timezone.now() if level >= RealNameLevel.REGISTER else None,
        **pii.id_number_fields(id_number),
    )


def make_official(username: str, department: Department, roles, **extra) -> User:
    user = make_user(username, name=username, **extra)
    official = Official.objects.create(user=user, department=department, title="")
    RoleGrant.objects.bulk_create([RoleGrant(official=official, role=r) for r in roles])
    return user


def _region(code: str, name: str, level: str, parent: Region | None = None) -> Region:
    return Region.objects.get_or_create(code=code, defaults={"name": name, "level": level, "parent": parent})[
        0
    ]


def _department(code: str, name: str, region: Region, parent: Department | None = None) -> Department:
    return Department.objects.get_or_create(
        code=code, defaults={"name": name, "region": region, "parent": parent, "phone": "029-12345"}
    )[0]


@pytest.fixture
def province(db) -> Region:
    return _region("610000", "陕西省", Region.Level.PROVINCE)


@pytest.fixture
def region(province) -> Region:
    return _region("610100", "西安市", Region.Level.CITY, province)


@pytest.fixture
def department_x(region) -> Department:
    return _department("610100-SCJG", "西安市市场监督管理局", region)


@pytest.fixture
def department_x_child(department_x, region) -> Department:
    county = _region("610102", "新城区", Region.Level.COUNTY, region)
    return _department("610102-SCJG", "新城区市场监督管理局", county, department_x)


@pytest.fixture
def department_y(province) -> Department:
    city = _region("610200", "铜川市", Region.Level.CITY, province)
    return _department("610200-SCJG", "铜川市市场监督管理局", city)


@pytest.fixture
def citizen(db) -> User:
    return make_person("citizen", "张三", seq=11, phone="13800001111").user


@pytest.fixture
def other_citizen(db) -> User:
    return make_person("other_citizen", "李四", seq=22, birth=dt.date(1985, 6, 15), phone="13900002222").user


@pytest.fixture
def agent(region) -> User:
    person = make_person("agent", "王五", seq=33, birth=dt.date(1979, 3, 8), phone="13700003333")
    enterprise = Enterprise.objects.create(
        name="演示餐饮有限公司",
        credit_code=make_credit_code("610100", 1),
        legal_representative=person.name,
        region=region,
        source=Enterprise.Source.REGISTER,
    )
    EnterpriseAgent.objects.create(
        enterprise=enterprise, person=person, role=EnterpriseAgent.Role.LEGAL_REPRESENTATIVE
    )
    return person.user


@pytest.fixture
def enterprise(agent) -> Enterprise:
    return Enterprise.objects.get(agents__person__user=agent)


@pytest.fixture
def official_x(department_x) -> User:
    return make_official("official_x", department_x, CASE_ROLES)


@pytest.fixture
def official_y(department_y) -> User:
    return make_official("official_y", department_y, CASE_ROLES)


@pytest.fixture
def inspector(department_x) -> User:
    return make_official("inspector", department_x, [Role.INSPECTOR])


@pytest.fixture
def auditor(province) -> User:
    data_bureau = _department("610000-SJJ", "陕西省数据和政务服务局", province)
    return make_official("auditor", data_bureau, [Role.AUDITOR])


@pytest.fixture
def dept_admin(department_x) -> User:
    return with_two_factor(make_official("dept_admin", department_x, [Role.ADMIN], is_staff=True))


@pytest.fixture
def superuser(db) -> User:
    return with_two_factor(
        User.objects.create_superuser(
            username="superuser",
            password=PERSONA_PASSWORD,
            display_name="superuser",
            email="superuser@example.org",
        )
    )


@pytest.fixture
def login(db):
    """``login(user)`` → a test client signed in as ``user`` (``None`` → anonymous)."""

    def _login(user: User | None) -> Client:
        client = Client()
        if user is not None:
            force_sign_in(client, user)
        return client

    return _login


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the site's default language: a request of the test client activates
    the reader's language in the thread and leaves it there, so one test's English page must not
    make the next test's services speak English."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()
