"""Demo data of 12345 feedback: the routing table, a routing officer and a handler per
department, and a month of complaints, suggestions and consultations in 西安市 — routed
(mostly as the classifier suggested, some corrected by the officer), some transferred, most
replied (a few late), some still open past their deadline, many rated.

Everything goes through the services (so every step is in the audit log); the dates are then
moved back to spread the items over the last 30 days. The texts are the evaluation corpus's
(labelled, so the officer "knows" the right category); the filers are the demo citizens.
Idempotent: the items are built once (when 张三 has none), the rules and accounts whenever
missing.
"""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from yiwang.feedback import classifier, services, workflow
from yiwang.feedback.models import CATEGORY_KINDS, Item, RoutingRule
from yiwang.identity.models import Department, Enterprise, Region, Role, User
from yiwang.lib import workdays

CITY = "610100"
HOTLINE = f"{CITY}-SJJ"
DISPATCHER = ("dispatcher", "12345分拨员（演示）")
FILERS = ("citizen", "citizen2", "elder", "elder2", "agent")
DAYS = 30
SEED = 12345

REPLIES = {
    "market": "经核查，反映的问题属实，已责令商户立即整改并依法立案调查，后续将加强巡查。",
    "security": "接报后辖区派出所已出警处置，并加强该区域巡逻防控，感谢您的反映。",
    "housing": "已约谈物业服务企业，要求限期整改，住建部门将跟踪督办整改情况。",
    "transport": "已转交公交运营企业核实，对相关线路班次进行调整，并对驾驶员进行教育。",
    "environment": "执法人员已赴现场检查，对涉事单位下达整改通知书，将持续开展监测。",
    "labour": "劳动保障监察机构已立案调查，责令用人单位限期支付，逾期将依法处理。",
    "health": "已责成涉事医疗机构核查整改，并对相关人员进行批评教育，感谢监督。",
    "education": "已责成学校立即整改，并将在全区开展专项检查，切实减轻学生负担。",
    "medical_insurance": "经核实，已为您办理相关医保业务，并对经办流程进行优化，如有疑问可到窗口咨询。",
    "civil_affairs": "街道已入户核实情况，符合条件的将按程序纳入救助，相关政策已向您说明。",
}


def _say(stdout, message: str) -> None:
    if stdout is not None:
        stdout.write(message)


def _rules() -> int:
    """A rule for every category in every region that has a department of its kind."""
    departments = {d.code: d for d in Department.objects.select_related("region")}
    existing = set(RoutingRule.objects.values_list("category", "region_id"))
    new = []
    for region in Region.objects.all():
        for category, kind in CATEGORY_KINDS.items():
            department = departments.get(f"{region.code}-{kind}")
            if department is not None and (category, region.pk) not in existing:
                new.append(RoutingRule(category=category, region=region, department=department))
    RoutingRule.objects.bulk_create(new, batch_size=500)
    return len(new)


def _official(username: str, name: str, department: Department, admin: User) -> User:
    from yiwang.identity import services as identity_services
    from yiwang.identity.demo import DEMO_PASSWORD

    user = User.objects.filter(username=username).first()
    if user is not None:
        return user
    official = identity_services.official_create(
        username=username,
        name=name,
        department=department,
        roles=[Role.CLERK],
        password=DEMO_PASSWORD,
        actor=admin,
    )
    official.user.email = f"{username}@example.org"
    official.user.save(update_fields=["email"])
    return official.user


def _handlers(admin: User) -> dict[str, User]:
    """One clerk per 西安市 department of the categories (X's clerk for the market)."""
    handlers = {"SCJG": User.objects.get(username="clerk")}
    for kind in CATEGORY_KINDS.values():
        if kind in handlers:
            continue
        department = Department.objects.get(code=f"{CITY}-{kind}")
        handlers[kind] = _official(
            f"fb_{kind.lower()}", f"12345专员（{department.name}，演示）", department, admin
        )
    return handlers


def _backdate(item: Item, filed: dt.datetime, **later) -> None:
    number = f"FB{timezone.localtime(filed):%Y%m%d}{item.pk:06d}"
    Item.objects.filter(pk=item.pk).update(filed_at=filed, number=number, **later)
    item.number = number


def _photo() -> bytes:
    """A small drawn picture (obviously not a real photo)."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 240), (235, 235, 225))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 60, 280, 200), outline=(120, 60, 40), width=6)
    draw.line((40, 60, 280, 200), fill=(200, 40, 40), width=4)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


def _texts(count: int, rng: random.Random) -> list[tuple[str, str]]:
    pairs = [
        (c, t) for c, t in classifier.read_corpus(classifier.EVAL_FILE) if len(t) >= services.MIN_TEXT + 3
    ]
    rng.shuffle(pairs)
    # 张三's six come first and are about markets (department X: the walk reads them).
    first = [p for p in pairs if p[0] == "market"][:6]
    rest = [p for p in pairs if p not in first]
    return (first + rest)[:count]


def build(*, items: int = 300, stdout=None) -> None:
    admin = User.objects.get(username="admin")
    with transaction.atomic():
        added = _rules()
        hotline = Department.objects.get(code=HOTLINE)
        dispatcher = _official(*DISPATCHER, hotline, admin)
        handlers = _handlers(admin)
    _say(stdout, f"feedback: {added} routing rules added; routing officer “{DISPATCHER[0]}”")
    if Item.objects.filter(filer__username="citizen").exists():
        return
    rng = random.Random(SEED)
    city = Region.objects.get(code=CITY)
    regions = [city, *Region.objects.filter(parent=city).order_by("code")]
    filers = [User.objects.get(username=u) for u in FILERS if User.objects.filter(username=u).exists()]
    codes = list(Enterprise.objects.order_by("pk").values_list("credit_code", flat=True)[:20])
    departments = {d.code: d for d in Department.objects.filter(code__startswith="6101")}
    now = timezone.now()
    today = timezone.localdate(now)
    made = 0
    pairs = _texts(items, rng)
    for i, (truth, text) in enumerate(pairs):
        # 张三's first items are the walk's: one replied and rated, one open at X, one just filed.
        filer = filers[0] if i < 6 else rng.choice(filers)
        age = rng.uniform(0, DAYS) if i >= 6 else (25, 20, 2, 16, 1, 0.01)[i]
        filed = now - dt.timedelta(days=age)
        region = rng.choice(regions) if i >= 6 else city
        kind = rng.choices(Item.Kind.values, weights=(7, 2, 1))[0]
        extra = {}
        if truth == "market" and codes and rng.random() < 0.4:
            extra["entity_credit_code"] = rng.choice(codes)
        if rng.random() < 0.5:
            extra["latitude"] = f"{34.20 + rng.random() * 0.12:.6f}"
            extra["longitude"] = f"{108.88 + rng.random() * 0.14:.6f}"
        if i == 0:
            extra["uploads"] = [("现场照片.jpg", _photo())]
        with transaction.atomic():
            item = services.item_file(
                kind=kind,
                text=text,
                region=region,
                actor=filer,
                address=f"{region.name}演示路{i + 1}号",
                **extra,
            )
            _backdate(item, filed)
            made += 1
            if age < 0.5:
                continue  # still waiting for the routing officer
            # The officer follows the suggestion unless it is wrong (then corrects it).
            kind_code = CATEGORY_KINDS[truth]
            target = departments.get(f"{region.code}-{kind_code}") or departments[f"{CITY}-{kind_code}"]
            misroute = rng.random() < 0.06 and truth != "market"
            first = departments[f"{CITY}-SCJG"] if misroute else target
            item = services.item_route(item=item, department=first, category=truth, actor=dispatcher)
            routed = filed + dt.timedelta(hours=rng.uniform(1, 20))
            due = workdays.add_workdays(timezone.localdate(routed), workflow.REPLY_WORKDAYS[item.kind])
            _backdate(item, filed, routed_at=routed, due_date=due)
            item.due_date = due
            if misroute:
                item = services.item_transfer(
                    item=item,
                    to_department=target,
                    reason="经核实，该事项不属于本部门职责，请转交主管部门。",
                    actor=handlers["SCJG"],
                )
            handler = handlers[kind_code]
            if age < 1.5:
                continue
            item = services.item_accept(item=item, actor=handler)
            Item.objects.filter(pk=item.pk).update(
                accepted_at=routed + dt.timedelta(hours=rng.uniform(2, 30))
            )
            # Older items are replied; some of the open ones are left past their deadline.
            open_days = workdays.workdays_between(timezone.localdate(routed), today)
            limit = workflow.REPLY_WORKDAYS[item.kind]
            # 张三's third item stays accepted and unanswered; of the others some stay open (a few
            # of them past their deadline).
            keep_open = (i == 2) if i < 6 else rng.random() < (0.12 if open_days > limit else 0.5)
            if keep_open:
                continue
            late = open_days > limit and rng.random() < 0.15
            reply_day = (
                workdays.add_workdays(timezone.localdate(routed), limit + rng.randint(1, 3))
                if late
                else workdays.add_workdays(
                    timezone.localdate(routed), rng.randint(1, min(limit, max(1, open_days)))
                )
            )
            reply_day = min(reply_day, today)
            replied_at = timezone.make_aware(
                dt.datetime.combine(reply_day, dt.time(rng.randint(9, 17), rng.randint(0, 59)))
            )
            replied_at = max(replied_at, filed + dt.timedelta(hours=2))
            item = services.item_reply(item=item, reply=REPLIES[truth], actor=handler)
            Item.objects.filter(pk=item.pk).update(replied_at=replied_at, replied_late=reply_day > due)
            if i < 6 or rng.random() < 0.6:
                rating = rng.choices([5, 4, 3, 2, 1], weights=(45, 30, 12, 8, 5))[0]
                item = services.item_rate(item=item, rating=rating, actor=filer)
                Item.objects.filter(pk=item.pk).update(
                    rated_at=replied_at + dt.timedelta(days=rng.uniform(0.1, 3))
                )
                if (now - replied_at).days > 5 and i >= 6:
                    services.item_close(item=item, actor="system:feedback")
    open_late = sum(1 for i in Item.objects.filter(status__in=workflow.OPEN, due_date__lt=today).only("pk"))
    _say(stdout, f"feedback: {made} items over {DAYS} days ({open_late} open past their deadline)")
