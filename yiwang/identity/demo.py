"""Demo data for identity: the demo province's regions and departments and the demo accounts.

``build`` is idempotent (run it any number of times); ``build_large`` adds many persons fast for
benchmarks. Every identity here is obviously fake: valid check digits, names from a short list,
example.org addresses. All demo accounts share the password ``DEMO_PASSWORD``; the demo
administrators (``admin``, ``deptadmin``) sign in with a TOTP code from
``services.DEMO_TOTP_SECRET`` too (``yiwang demo_totp`` prints the current code).
"""

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from unittest import mock

from django.conf import settings
from django.contrib.auth import hashers
from django.db import transaction
from django.utils import timezone

from yiwang.audit import services as audit
from yiwang.core.bulk import insert_rows
from yiwang.identity import demo_data, legalentities, pii, realname, services
from yiwang.identity.models import (
    Department,
    Person,
    RealNameLevel,
    Region,
    Role,
    User,
)
from yiwang.lib import crypto
from yiwang.lib.idnumbers import make_id_number
from yiwang.lib.masking import mask_id_number
from yiwang.lib.uscc import make_credit_code

DEMO_PASSWORD = "yiwang-demo-2026"  # noqa: S105 — published demo password, development only
DEMO_ACTOR = "system:demo"

# Telephone area codes of the demo cities (the numbers after them are fake).
AREA_CODES = {
    "610000": "029",
    "610100": "029",
    "610200": "0919",
    "610300": "0917",
    "610400": "029",
    "610500": "0913",
    "610600": "0911",
    "610700": "0916",
    "610800": "0912",
    "610900": "0915",
    "611000": "0914",
}


@contextmanager
def passwords_hashed_once() -> Iterator[None]:
    """While the demo builds, each distinct password is hashed once: Argon2 takes a quarter of a
    second per hash by design, and the demo gives the one published password to some thirty
    accounts. The stored hashes are real (each account signs in with its password); they share
    one salt, which matters nothing for a published password."""
    real = hashers.make_password
    done: dict[str, str] = {}

    def make_password(password, salt=None, hasher="default"):
        if not isinstance(password, str) or salt is not None or hasher != "default":
            return real(password, salt, hasher)
        if password not in done:
            done[password] = real(password)
        return done[password]

    with (
        mock.patch("django.contrib.auth.base_user.make_password", make_password),
        mock.patch("django.contrib.auth.models.make_password", make_password),
    ):
        yield


@dataclass(frozen=True)
class DemoCitizen:
    username: str
    name: str
    birth: dt.date
    seq: int
    phone: str


# Demo accounts. All are in the demo population register; all but ``newcomer`` are verified (L2),
# so ``newcomer`` (L1, self-declared) shows what an unverified account may do and can verify live.
CITIZENS = [
    DemoCitizen("citizen", "张三", dt.date(1990, 5, 17), 131, "13800000001"),
    DemoCitizen("citizen2", "李四", dt.date(1986, 11, 2), 242, "13900000002"),
    DemoCitizen("agent", "王五", dt.date(1978, 3, 9), 353, "13700000003"),
    # Older residents, for services whose rules look at the age (e.g. 秒批 allowances).
    DemoCitizen("elder", "赵大爷", dt.date(1950, 8, 12), 464, "13600000004"),
    DemoCitizen("elder2", "钱奶奶", dt.date(1958, 2, 20), 575, "13500000005"),
    DemoCitizen("newcomer", "孙小明", dt.date(1999, 9, 9), 686, "13400000006"),
]
UNVERIFIED = {"newcomer"}
# Residents of the demo register without an account (e.g. the representative of the second
# demo enterprise): registering with their details and verifying works; nobody else's does.
REGISTER_ONLY = [("周六", dt.date(1970, 1, 15), 797), ("吴七", dt.date(1995, 4, 4), 808)]

# (username, name, department code, roles, is_staff)
OFFICIALS = [
    ("clerk", "赵受理", "610100-SCJG", [Role.CLERK], False),
    ("reviewer", "钱审核", "610100-SCJG", [Role.REVIEWER], False),
    ("approver", "孙审批", "610100-SCJG", [Role.APPROVER], False),
    ("steward", "周数据", "610000-SJJ", [Role.DATA_STEWARD], False),
    ("inspector", "吴检查", "610100-SCJG", [Role.INSPECTOR], False),
    ("auditor", "郑审计", "610000-SJJ", [Role.AUDITOR], False),
    ("deptadmin", "冯管理", "610100-SCJG", [Role.ADMIN], True),
    ("leader", "陈局长", "610100-SCJG", [Role.LEADER], False),
]

DEMO_ENTERPRISE = ("西安演示餐饮管理有限公司", "610100", 20260001)
DEMO_COUNTY = "610113"
# The demo legal-entity register: (name, region code, sequence, representative's name, birth, seq,
# address). The first is the one the ``agent`` account represents.
LEGAL_ENTITIES = [
    (*DEMO_ENTERPRISE, "王五", dt.date(1978, 3, 9), 353, "西安市雁塔区演示路1号"),
    ("铜川演示建材有限公司", "610200", 20260002, "周六", dt.date(1970, 1, 15), 797, "铜川市王益区演示街2号"),
]


def _say(stdout, message: str) -> None:
    if stdout is not None:
        stdout.write(message)


def _regions() -> dict[str, Region]:
    code, name = demo_data.PROVINCE
    province, _ = Region.objects.update_or_create(
        code=code, defaults={"name": name, "level": Region.Level.PROVINCE, "parent": None}
    )
    regions = {code: province}
    for city_code, city_name, counties in demo_data.CITIES:
        city, _ = Region.objects.update_or_create(
            code=city_code, defaults={"name": city_name, "level": Region.Level.CITY, "parent": province}
        )
        regions[city_code] = city
        for county_code, county_name in counties:
            regions[county_code], _ = Region.objects.update_or_create(
                code=county_code, defaults={"name": county_name, "level": Region.Level.COUNTY, "parent": city}
            )
    return regions


def department_specs() -> list[tuple[str, str, str, str | None]]:
    """(code, name, region code, parent department code) of every demo department, parents first.
    A city's department sits under the province's of the same kind, a county's under its city's."""
    province_code, province_name = demo_data.PROVINCE
    specs = [
        (f"{province_code}-{kind}", province_name + names[0], province_code, None)
        for kind, names in demo_data.DEPARTMENT_KINDS.items()
    ]
    for city_code, city_name, counties in demo_data.CITIES:
        specs += [
            (f"{city_code}-{kind}", city_name + names[1], city_code, f"{province_code}-{kind}")
            for kind, names in demo_data.DEPARTMENT_KINDS.items()
        ]
        for county_code, county_name in counties:
            specs += [
                (
                    f"{county_code}-{kind}",
                    county_name + demo_data.DEPARTMENT_KINDS[kind][1],
                    county_code,
                    f"{city_code}-{kind}",
                )
                for kind in demo_data.COUNTY_KINDS
            ]
    return specs


def _departments(regions: dict[str, Region]) -> int:
    specs = department_specs()
    existing = set(Department.objects.values_list("code", flat=True))
    new = []
    for i, (code, name, region_code, _parent) in enumerate(specs):
        if code in existing:
            continue
        city_code = region_code[:4] + "00" if region_code[2:4] != "00" else region_code
        phone = f"{AREA_CODES.get(city_code, '029')}-{12000 + i:05d}"
        new.append(
            Department(code=code, name=name, short_name=name, region=regions[region_code], phone=phone)
        )
    Department.objects.bulk_create(new, batch_size=500)
    ids = dict(Department.objects.values_list("code", "pk"))
    to_link = []
    for code, _name, _region, parent in specs:
        if parent is None:
            continue
        dept = Department(pk=ids[code], parent_id=ids[parent])
        to_link.append(dept)
    Department.objects.bulk_update(to_link, ["parent"], batch_size=500)
    return len(new)


def register_records() -> tuple[list[dict], list[dict]]:
    """The demo people of the population register (人口库) and the demo enterprises of the
    legal-entity register (法人库), as records of the exchange's base resources A01001 / A02001
    (field names of ``yiwang.exchange.basedata``; identity knows them only as plain data)."""
    phones = {c.name: c.phone for c in CITIZENS}
    residents = [(c.name, c.birth, c.seq) for c in CITIZENS] + REGISTER_ONLY
    population = []
    for name, birth, seq in residents:
        number = make_id_number(DEMO_COUNTY, birth, seq)
        # 钱奶奶 lives in Xi'an but her household is registered in 咸阳 (秦都区): the demo's
        # 秒批 subsidy, which reads this register, refers her applications to a reviewer.
        household, household_address = (
            ("610402", f"咸阳市秦都区演示路{seq}号")
            if name == "钱奶奶"
            else (DEMO_COUNTY, f"西安市雁塔区演示路{seq}号")
        )
        population.append(
            {
                "id_number": number,
                "name": name,
                "gender": "男" if int(number[16]) % 2 else "女",
                "birth_date": birth.isoformat(),
                "household_region": household,
                "household_address": household_address,
                "residence_region": DEMO_COUNTY,
                "residence_since": dt.date(max(birth.year + 18, 2000), 1, 1).isoformat(),
                "phone": phones.get(name, ""),
            }
        )
    entities = [
        {
            "credit_code": make_credit_code(region_code, seq),
            "name": name,
            "legal_representative": rep_name,
            "representative_id_number": make_id_number(DEMO_COUNTY, rep_birth, rep_seq),
            "region_code": region_code,
            "address": address,
            "established_on": "2020-06-01",
            "status": "存续",
        }
        for name, region_code, seq, rep_name, rep_birth, rep_seq, address in LEGAL_ENTITIES
    ]
    return population, entities


def _registers() -> tuple[int, int]:
    """Put the demo people and enterprises into the registers identity checks against, through
    the configured register clients (by default the exchange's base data), idempotently.
    Refuses outside development: on a real deployment these fake entries would verify people."""
    if not settings.DEV:
        raise RuntimeError("The demo registers are for development only (YIWANG_DEV=1).")
    population, entities = register_records()
    for client, records in ((realname.get_verifier(), population), (legalentities.get_register(), entities)):
        put = getattr(client, "put_demo_records", None)
        if put is None:
            raise RuntimeError(
                f"The register client {type(client).__name__} takes no demo records: "
                "the demo needs the default registers (the exchange's base data)."
            )
        put(records)
    return len(population), len(entities)


def _citizen(spec: DemoCitizen, county: str) -> Person:
    id_number = make_id_number(county, spec.birth, spec.seq)
    person = Person.objects.filter(user__username=spec.username).first()
    if person is None:
        person = services.person_register(
            name=spec.name,
            id_number=id_number,
            phone=spec.phone,
            username=spec.username,
            password=DEMO_PASSWORD,
            email=f"{spec.username}@example.org",
            actor=None,
        )
    if spec.username not in UNVERIFIED and not person.is_verified:
        person = services.person_verify(person=person, name=spec.name, id_number=id_number, actor=person.user)
    return person


def _official(username: str, name: str, department: Department, roles, is_staff: bool, admin: User) -> None:
    if User.objects.filter(username=username).exists():
        return
    official = services.official_create(
        username=username, name=name, department=department, roles=roles, password=DEMO_PASSWORD, actor=admin
    )
    official.user.email = f"{username}@example.org"
    official.user.is_staff = is_staff
    official.user.save(update_fields=["email", "is_staff"])
    if Role.ADMIN in roles or is_staff:
        _demo_two_factor(official.user)


def _demo_two_factor(user: User) -> None:
    """Administrator powers need two-factor sign-in: the demo administrators get it on with the
    published demo secret (README; refused at sign-in outside development)."""
    if user.totp_enabled:
        return
    user.totp_secret_ciphertext = crypto.encrypt(services.DEMO_TOTP_SECRET, pii.TOTP_PURPOSE)
    user.totp_enabled, user.totp_last_step = True, None
    user.save(update_fields=["totp_secret_ciphertext", "totp_enabled", "totp_last_step"])
    audit.record(actor=DEMO_ACTOR, event="identity:totp:enable", target=user, data={"demo": True})


@transaction.atomic
def build(*, stdout=None) -> None:
    """Create (or bring up to date) the demo regions, departments and accounts."""
    started = time.monotonic()
    regions = _regions()
    created = _departments(regions)
    _say(
        stdout, f"identity: {len(regions)} regions, {Department.objects.count()} departments ({created} new)"
    )

    admin = User.objects.filter(username="admin").first()
    if admin is None:
        admin = User.objects.create_superuser(
            username="admin", password=DEMO_PASSWORD, display_name="系统管理员", email="admin@example.org"
        )
        audit.record(actor=DEMO_ACTOR, event="identity:user:create", target=admin, data={"superuser": True})
    _demo_two_factor(admin)

    residents, entities = _registers()
    _say(stdout, f"identity: demo registers hold {residents} residents and {entities} legal entities")
    persons = {spec.username: _citizen(spec, DEMO_COUNTY) for spec in CITIZENS}
    _name, region_code, seq = DEMO_ENTERPRISE
    # Through the register, like any legal representative (idempotent).
    services.enterprise_claim(
        person=persons["agent"], credit_code=make_credit_code(region_code, seq), actor=persons["agent"].user
    )

    departments = {d.code: d for d in Department.objects.filter(code__in={o[2] for o in OFFICIALS})}
    for username, display, dept_code, roles, is_staff in OFFICIALS:
        _official(username, display, departments[dept_code], roles, is_staff, admin)
    _sso_client(admin)
    _say(stdout, f"identity: demo accounts ready in {time.monotonic() - started:.1f} s")


# A department's system registered for single sign-on (docs/sso.md). Its secret is not kept:
# issue a new one on its admin page to try it with an OpenID Connect client on port 8001.
DEMO_SSO_CLIENT_ID = "yiwang-demo-scjg"
DEMO_SSO_REDIRECT = "http://127.0.0.1:8001/callback"


def _sso_client(admin: User) -> None:
    from yiwang.identity import oidc_services
    from yiwang.identity.models import OidcClient

    if OidcClient.objects.filter(application__client_id=DEMO_SSO_CLIENT_ID).exists():
        return
    oidc_services.client_register(
        actor=admin,
        department=Department.objects.get(code="610100-SCJG"),
        name="市场监管业务系统（演示） | Market regulation back office (demo)",
        redirect_uris=DEMO_SSO_REDIRECT,
        post_logout_redirect_uris="http://127.0.0.1:8001/",
        client_id=DEMO_SSO_CLIENT_ID,
    )


# --- many persons for benchmarks -------------------------------------------------------------

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
_COUNTIES = [county for _c, _n, counties in demo_data.CITIES for county, _name in counties]
_DAYS = 365 * 60
_BIRTH0 = dt.date(1950, 1, 1)


def large_person_id_number(i: int) -> str:
    """The i-th bulk person's identity number: distinct for every i below 31 × 21,900 × 1,000."""
    county = _COUNTIES[i % len(_COUNTIES)]
    rest = i // len(_COUNTIES)
    birth = _BIRTH0 + dt.timedelta(days=rest % _DAYS)
    return make_id_number(county, birth, (rest // _DAYS) % 1000)


_PERSON_COLUMNS = [
    "name",
    "id_number_ciphertext",
    "id_number_index",
    "id_number_masked",
    "phone",
    "region",
    "realname_level",
    "created_at",
]


def build_large(*, persons: int = 1_000_000, stdout=None, batch_size: int = 10_000) -> float:
    """Bulk-create ``persons`` persons without accounts, ``batch_size`` per transaction.
    Idempotent: numbers already present (found by blind index) are skipped, so a rerun or an
    interrupted run only adds what is missing. Returns the seconds taken. One audit entry
    records the import (the persons are demo data, not registrations)."""
    started = time.monotonic()
    regions = dict(Region.objects.filter(code__in=_COUNTIES).values_list("code", "pk"))
    added = 0
    for start in range(0, persons, batch_size):
        stop = min(start + batch_size, persons)
        numbers = [large_person_id_number(i) for i in range(start, stop)]
        indexes = crypto.blind_index_many(numbers, pii.ID_NUMBER_PURPOSE)
        present = set(
            Person.objects.filter(id_number_index__in=indexes).values_list("id_number_index", flat=True)
        )
        todo = [
            (i, n, x)
            for i, n, x in zip(range(start, stop), numbers, indexes, strict=True)
            if x not in present
        ]
        ciphertexts = crypto.encrypt_many([n for _i, n, _x in todo], pii.ID_NUMBER_PURPOSE)
        now = timezone.now()
        rows = [
            (
                SURNAMES[i % 20] + GIVEN[(i // 20) % 20] + (GIVEN[(i // 400) % 20] if i % 3 else ""),
                ciphertext,
                index,
                mask_id_number(number),
                f"1{3 + i % 7}{i % 10**9:09d}",
                regions.get(number[:6]),
                RealNameLevel.SELF_DECLARED,  # demo data, not confirmed by any register
                now,
            )
            for (i, number, index), ciphertext in zip(todo, ciphertexts, strict=True)
        ]
        with transaction.atomic():
            insert_rows(Person, _PERSON_COLUMNS, rows)
        added += len(rows)
        if stdout is not None and (stop // batch_size) % 10 == 0:
            _say(stdout, f"identity: {stop:,} of {persons:,} persons ({time.monotonic() - started:.0f} s)")
    with transaction.atomic():
        audit.record(actor=DEMO_ACTOR, event="identity:person:import", target=None, data={"added": added})
    seconds = time.monotonic() - started
    _say(stdout, f"identity: {added:,} persons added in {seconds:.1f} s")
    return seconds
