"""Demo data of supervision: 20,000 market entities put into the legal-entity register (A02001)
and synced, a small law library, supervision items of several departments resting on its
clauses (one flagged by an amendment), inspectors of 西安市市场监督管理局, and a completed
双随机 draw with its results recorded and published, plus a draft plan.

Identities are obviously fake: names 演示市场主体…, credit codes valid by GB 32100 from sequence
numbers 40,000,000 and up. Credit tiers are set here and nowhere else until credit scoring
exists (A 20%, B 60%, C 15%, D 5%). Idempotent: what exists is kept.
"""

from __future__ import annotations

import datetime as dt
import time

from django.db import transaction
from django.utils import timezone

from yiwang.catalog import selectors as catalog_selectors
from yiwang.exchange import basedata
from yiwang.exchange import selectors as exchange_selectors
from yiwang.identity import demo_data
from yiwang.identity import selectors as identity_selectors
from yiwang.identity import services as identity_services
from yiwang.identity.models import Role, User
from yiwang.lib.uscc import make_credit_code
from yiwang.supervision import services
from yiwang.supervision.models import DrawPlan, Inspection, Law, MarketEntity, SupervisionItem

ACTOR = "system:demo"
X = "610100-SCJG"
SEQ_START = 40_000_000
ENTITIES = 20_000
LARGE_ENTITIES = 1_000_000  # `yiwang demo --scale large`: for the draw and credit at scale
BATCH = 5000
INDUSTRIES = "CFGHIKLMOR"  # manufacturing, construction, trade, transport, catering, …
SCALES = ("micro", "micro", "small", "small", "small", "medium", "large")
SHOPS = ("餐饮", "商贸", "建材", "科技", "食品", "物流", "药房", "服装", "电器", "印刷")
# the demo inspectors of X besides the ``inspector`` account (username, name)
INSPECTORS = [(f"sup_inspector{i}", f"演示检查员{n}") for i, n in enumerate("甲乙丙丁戊己庚", start=1)]
# the published demo draw's ratios in basis points: 1%, 3%, 10%, 30%
RATIOS = {"A": 100, "B": 300, "C": 1000, "D": 3000}

LAWS = [
    (
        "food-safety-law",
        "中华人民共和国食品安全法",
        Law.Kind.LAW,
        "全国人民代表大会常务委员会",
        [
            (
                "87",
                "县级以上人民政府食品安全监督管理部门应当对食品进行定期或者不定期的抽样检验（演示摘要）。",
            ),
            ("110", "食品安全监督管理部门履行职责，有权进入生产经营场所实施现场检查（演示摘要）。"),
            ("113", "食品安全监督管理部门应当建立食品生产经营者食品安全信用档案（演示摘要）。"),
        ],
    ),
    (
        "product-quality-law",
        "中华人民共和国产品质量法",
        Law.Kind.LAW,
        "全国人民代表大会常务委员会",
        [
            ("15", "国家对产品质量实行以抽查为主要方式的监督检查制度（演示摘要）。"),
            ("18", "市场监督管理部门根据违法嫌疑证据，可以实施现场检查（演示摘要）。"),
        ],
    ),
    (
        "work-safety-law",
        "中华人民共和国安全生产法",
        Law.Kind.LAW,
        "全国人民代表大会常务委员会",
        [
            ("65", "应急管理部门依法对生产经营单位执行安全生产法律法规的情况进行监督检查（演示摘要）。"),
            ("67", "安全生产监督检查人员应当忠于职守，坚持原则，秉公执法（演示摘要）。"),
        ],
    ),
    (
        "public-venue-hygiene",
        "公共场所卫生管理条例",
        Law.Kind.REGULATION,
        "国务院",
        [("10", "各级卫生防疫机构负责管辖范围内的公共场所卫生监督工作（演示摘要）。")],
    ),
]
# (department, code, name, basis, service item codes, implements, region)
ITEMS = [
    (
        "610000-SCJG",
        "SX-SCJG-JC-001",
        "食品经营者监督检查",
        ["food-safety-law:87", "food-safety-law:110"],
        ["0102100401"],
        None,
        None,
    ),
    (
        X,
        "XA-SCJG-JC-001",
        "食品经营者监督检查（西安市实施清单）",
        ["food-safety-law:87", "food-safety-law:110"],
        ["0102100401"],
        "SX-SCJG-JC-001",
        "610100",
    ),
    (X, "XA-SCJG-JC-002", "产品质量监督抽查", ["product-quality-law:15"], [], None, None),
    ("610100-YJT", "XA-YJT-JC-001", "工贸企业安全生产监督检查", ["work-safety-law:65"], [], None, None),
    ("610100-WJW", "XA-WJW-JC-001", "公共场所卫生监督检查", ["public-venue-hygiene:10"], [], None, None),
]
EFFECTIVE = dt.date(2021, 4, 29)


def _say(stdout, message: str) -> None:
    if stdout is not None:
        stdout.write(message)


def _tier(i: int) -> str:
    slot = i % 20
    return "A" if slot < 4 else "B" if slot < 16 else "C" if slot < 19 else "D"


def _counties() -> list[str]:
    return [code for _city, _name, counties in demo_data.CITIES for code, _n in counties]


def register_records(count: int, start: int = 0) -> list[dict]:
    """``count`` fake legal entities (with valid credit codes) for A02001."""
    counties = _counties()
    records = []
    for i in range(start, start + count):
        region = counties[i % len(counties)]
        records.append(
            {
                "credit_code": make_credit_code(region, SEQ_START + i),
                "name": f"演示市场主体{SHOPS[i % len(SHOPS)]}{i + 1:06d}有限公司",
                "region_code": region,
                "address": f"演示路{i % 997 + 1}号",
                "established_on": dt.date(2010 + i % 15, 1 + i % 12, 1 + i % 28).isoformat(),
                "status": "存续" if i % 50 else "注销",
                "industry": INDUSTRIES[i % len(INDUSTRIES)],
                "scale": SCALES[i % len(SCALES)],
            }
        )
    return records


def build_entities(count: int = ENTITIES, *, stdout=None) -> float:
    """Put ``count`` demo entities into A02001 (bulk, in batches) and sync them; set the demo's
    tiers and risk levels. Returns the seconds it took."""
    started = time.monotonic()
    last = register_records(1, start=count - 1)[0]["credit_code"]
    if MarketEntity.objects.filter(credit_code=last).exists():
        return 0.0
    resource = basedata.base_resource(basedata.LEGAL_ENTITY, actor=ACTOR)
    names = {f.name for f in exchange_selectors.fields_of(resource)}
    for start in range(0, count, BATCH):
        records = register_records(min(BATCH, count - start), start=start)
        basedata.put_records(
            basedata.LEGAL_ENTITY, [{k: v for k, v in r.items() if k in names} for r in records], actor=ACTOR
        )
    services.entities_sync(actor=ACTOR)
    codes = [r["credit_code"] for r in register_records(count)]
    with transaction.atomic():
        for tier in "ACD":
            chosen = [c for i, c in enumerate(codes) if _tier(i) == tier]
            for at in range(0, len(chosen), BATCH):
                MarketEntity.objects.filter(credit_code__in=chosen[at : at + BATCH]).update(
                    credit_tier=tier, risk="high" if tier == "D" else "medium" if tier == "C" else "low"
                )
    seconds = time.monotonic() - started
    _say(stdout, f"Supervision: {count} market entities in A02001 and synced in {seconds:.1f} s.")
    return seconds


def _inspectors() -> None:
    department = identity_selectors.department_by_code(X)
    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    from yiwang.identity.demo import DEMO_PASSWORD

    for username, name in INSPECTORS:
        if User.objects.filter(username=username).exists():
            continue
        official = identity_services.official_create(
            username=username,
            name=name,
            department=department,
            roles=[Role.INSPECTOR],
            password=DEMO_PASSWORD,
            actor=admin,
            title="执法检查员",
        )
        official.user.email = f"{username}@example.org"
        official.user.save(update_fields=["email"])


def _laws_and_items() -> None:
    for code, title, kind, issuer, clauses in LAWS:
        if not Law.objects.filter(code=code).exists():
            services.law_create(
                code=code,
                title=title,
                kind=kind,
                issuer=issuer,
                clauses=clauses,
                effective_from=EFFECTIVE,
                actor=ACTOR,
            )
    for dept_code, code, name, basis, service_codes, implements, region in ITEMS:
        department = identity_selectors.department_by_code(dept_code)
        if department is None or SupervisionItem.objects.filter(code=code).exists():
            continue
        services.item_create(
            department=department,
            code=code,
            name=name,
            basis=basis,
            service_item_codes=[c for c in service_codes if catalog_selectors.item_by_code(c)],
            implements=SupervisionItem.objects.filter(code=implements).first() if implements else None,
            region=catalog_selectors.region_by_code(region) if region else None,
            actor=ACTOR,
        )
    # an amendment flags the items resting on the old text (产品质量抽查 needs review)
    law = Law.objects.get(code="product-quality-law")
    clause = law.clauses.filter(number="15", effective_until__isnull=True).first()
    if clause is not None and clause.version == 1:
        services.clause_amend(
            clause=clause,
            text="国家对产品质量实行以抽查为主要方式的监督检查制度，抽查结果依法公开（演示修订）。",
            effective_from=dt.date(2025, 7, 1),
            actor=ACTOR,
        )


def _draws() -> None:
    item = SupervisionItem.objects.get(code="XA-SCJG-JC-001")
    manager = User.objects.get(username="deptadmin")
    if not DrawPlan.objects.filter(item=item).exists():
        plan = services.plan_create(
            item=item,
            title="2026年西安市食品经营者“双随机、一公开”抽查（第一批）",
            ratios=RATIOS,
            scope_region="6101",
            actor=manager,
        )
        plan = services.plan_commit(plan=plan, actor=manager)
        plan = services.draw_seed(plan=plan, actor=manager)
        plan = services.draw_run(plan=plan, actor=manager)
        services.plan_publish(plan=plan, actor=manager)
        today = timezone.localdate()
        results = [Inspection.Result.PASS] * 7 + [Inspection.Result.RECTIFY, Inspection.Result.PASS]
        inspections = plan.inspections.prefetch_related("assignments__official__user").order_by("position")
        for n, inspection in enumerate(inspections):
            officials = [a.official for a in inspection.assignments.all()]
            if any(o.user.username == "inspector" for o in officials):
                continue  # left for 吴检查 to record (the walk and the README show it)
            result = results[n % len(results)]
            services.inspection_record(
                inspection=inspection,
                result=result,
                findings="从业人员健康证未在经营场所公示，已责令限期整改。" if result == "rectify" else "",
                inspected_on=today,
                actor=officials[0].user,
            )
        services.inspections_publish(plan=plan, actor=manager)
    quality = SupervisionItem.objects.get(code="XA-SCJG-JC-002")
    if not DrawPlan.objects.filter(item=quality).exists():
        services.plan_create(
            item=quality,
            title="2026年产品质量监督抽查计划（草案）",
            ratios={"A": 50, "B": 200, "C": 800, "D": 2000},
            scope_region="6101",
            scope_industry="C",
            actor=manager,
        )


def build(entities: int = ENTITIES, *, stdout=None) -> None:
    """The supervision demo (after identity, catalog, licences and the exchange)."""
    started = time.monotonic()
    build_entities(entities, stdout=stdout)
    with transaction.atomic():
        _inspectors()
        _laws_and_items()
        first = identity_selectors.department_by_code(X)
        relation_entity = MarketEntity.objects.filter(region_code__startswith="6101").order_by("pk").first()
        official = identity_selectors.officials_with_role(first.pk, Role.INSPECTOR).last()
        if relation_entity is not None and official is not None:
            services.relation_declare(
                official=official, entity=relation_entity, reason="亲属在该企业任职（演示）", actor=ACTOR
            )
    _draws()
    from yiwang.supervision import credit_demo  # credit and risk warnings (issue 12 parts 4–5)

    credit_demo.build(stdout=stdout)
    _say(stdout, f"Supervision demo ready in {time.monotonic() - started:.1f} s.")
