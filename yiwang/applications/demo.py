"""Demo data for applications (called by `yiwang demo` after the catalog demo).

Processes for a few items of the demo officials' department (a 补正 loop, a 秒批 DMN item with
its own form), about 300 cases in every status and one bundle application (并联审批). Every case
is built through the services, so its tasks, timeline, notices and audit entries are real. The
services run on a replayed clock (``_Clock``) so numbers, due dates and task times fall on past
days and the workbench shows waits of different lengths; the audit log keeps the real time.
Rows created with their model's time default (cases, uploads, notices) take the replayed time too.
The applicants' uploads of the demo's one PDF after the first are inserted as the rows the upload
service writes for it (``_Builder._complete``; checked in tests/test_demo_bulk.py).

``build`` is idempotent: it records ``applications:demo:load`` in the audit log once and does
nothing when that entry is there.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import secrets
import time
from pathlib import Path
from typing import NamedTuple
from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from yiwang.audit import services as audit
from yiwang.audit.models import AuditEntry
from yiwang.catalog import services as catalog_services
from yiwang.catalog.models import LifeEvent, Material, ServiceItem
from yiwang.core.bulk import insert_rows
from yiwang.exchange import basedata
from yiwang.exchange import demo as exchange_demo
from yiwang.identity import services as identity_services
from yiwang.identity.models import Official, User
from yiwang.identity.permissions import department_subtree_ids
from yiwang.identity.selectors import department_by_code, enterprises_of, person_of
from yiwang.lib.filetypes import safe_name
from yiwang.lib.workdays import is_workday
from yiwang.licences import selectors as licence_selectors
from yiwang.licences import services as licence_services

from . import services, tasks
from .models import Attachment, Blob, BundleCase, Case, Notice, Rectification, Task

ACTOR = "system:demo"
LOAD_EVENT = "applications:demo:load"
PROCESSES = Path(__file__).parent / "processes"
SUPPLEMENT_ITEMS = ["食品经营许可（新办）", "小餐饮经营登记（新办）", "药品零售企业经营许可（新办）"]
INSTANT_CODE = "0500199901-610100"
APPLICANTS = ("citizen", "citizen2", "agent", "elder", "elder2")  # demo accounts (identity demo)
INSTANT_NAME = "老年人便民摊点经营补贴申领"
BUNDLE_CODE = "open-pharmacy"
ATTACHMENT_FIELDS = ("case", "material", "blob", "filename", "uploaded_at")
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"

INSTANT_SCHEMA = {
    "type": "object",
    "title": "老年人便民摊点经营补贴申请表",
    "properties": {
        "applicant_name": {"type": "string", "title": "申请人姓名", "x-source": "person.name"},
        "id_number": {"type": "string", "title": "公民身份号码", "x-source": "person.id_number_masked"},
        "phone": {
            "type": "string",
            "title": "联系电话",
            "pattern": r"^1[3-9][0-9]{9}$",
            "maxLength": 11,
            "x-prefill": "account.phone",
        },
        # The rules decide on the population base data of 公安厅, fetched through the data
        # exchange under the department's standing grant (applications.facts), never on what is
        # typed: the age from the date of birth, the years of residence, the household registration.
        "age": {
            "type": "integer",
            "title": "年龄（周岁）",
            "minimum": 0,
            "maximum": 130,
            "x-fact": {"resource": "A01001", "field": "birth_date", "derive": "years"},
        },
        "residence_years": {
            "type": "integer",
            "title": "在本市居住年限（年）",
            "minimum": 0,
            "maximum": 130,
            "x-fact": {"resource": "A01001", "field": "residence_since", "derive": "years"},
        },
        "household_registered": {
            "type": "boolean",
            "title": "是否本市户籍",
            "x-fact": {"resource": "A01001", "field": "household_region", "derive": "in_region"},
        },
    },
    "required": ["applicant_name", "id_number", "phone", "age", "residence_years"],
}

# How many cases of each scenario; a scenario is a list of steps (see _STEPS).
PLAN = {
    "draft": 18,
    "submitted": 40,
    "review": 25,
    "approve": 20,
    "supplement_accept": 10,
    "supplement_review": 6,
    "approved": 18,
    "rejected": 18,
    "not_approved_review": 8,
    "not_approved_approve": 8,
    "completed": 58,
    "completed_supplement": 12,
    "withdrawn": 14,
    "instant_pass": 22,
    "instant_refer": 8,
    "instant_refer_completed": 6,
    "instant_refer_not_approved": 4,
}
_ACCEPT = ["clerk:accept", "reviewer:pass", "approver:approve", "clerk:complete"]
_STEPS: dict[str, list[str]] = {
    "draft": [],
    "submitted": ["submit"],
    "review": ["submit", *_ACCEPT[:1]],
    "approve": ["submit", *_ACCEPT[:2]],
    "approved": ["submit", *_ACCEPT[:3]],
    "completed": ["submit", *_ACCEPT],
    "rejected": ["submit", "clerk:reject"],
    "not_approved_review": ["submit", "clerk:accept", "reviewer:reject"],
    "not_approved_approve": ["submit", "clerk:accept", "reviewer:pass", "approver:not_approve"],
    "supplement_accept": ["submit", "clerk:supplement"],
    "supplement_review": ["submit", "clerk:accept", "reviewer:supplement"],
    "completed_supplement": ["submit", "clerk:supplement", "applicant:resubmit", *_ACCEPT],
    "withdrawn": ["submit", "withdraw"],
    "instant_pass": ["submit"],
    "instant_refer": ["submit"],
    "instant_refer_completed": ["submit", "reviewer:pass", "approver:approve", "clerk:complete"],
    "instant_refer_not_approved": ["submit", "reviewer:reject"],
}
# The clerk's accept queue shows waits of different lengths whatever the hour the demo is built:
# the first cases waiting for acceptance were submitted this long ago (the others at random).
ACCEPT_WAITS = (
    dt.timedelta(hours=3),
    dt.timedelta(days=1, hours=2),
    dt.timedelta(days=3, hours=4),
    dt.timedelta(days=6, hours=5),
)
_SUPPLEMENT_SCENARIOS = {"supplement_accept", "supplement_review", "completed_supplement"}
_OPEN_SCENARIOS = {
    "submitted",
    "review",
    "approve",
    "approved",
    "supplement_accept",
    "supplement_review",
    "instant_refer",
}
COMMENTS = {
    "accept": ["材料齐全，符合法定形式，予以受理。", "", "已受理。"],
    "reject": [
        "申请事项不属于本机关职权范围，请向属地市场监管所申请。",
        "申请材料与申请事项不符，不予受理。",
    ],
    "supplement": ["请补充提交签字完整的申请书扫描件。", "经营场所平面图不清晰，请重新上传。"],
    "pass": ["", "审核通过。", "现场核查符合要求。"],
    "approve": ["", "同意。", "准予许可。"],
    "not_approve": ["经审查，经营场所不符合相关要求，不予许可。"],
    "reviewer_reject": ["现场核查发现经营条件与申报不一致。"],
    "complete": ["", "证照已通过邮寄送达。", "电子证照已发放。"],
    "resubmit": ["已按要求补正材料。"],
}
ADDRESSES = [
    "西安市新城区解放路1号",
    "西安市碑林区南大街56号",
    "西安市莲湖区北大街128号",
    "西安市雁塔区小寨东路9号",
    "西安市未央区凤城八路166号",
    "西安市灞桥区纺织城正街21号",
]
POOR_COMMENTS = ["等了很久没有人处理，也没有电话告知。", "补正要求前后不一致，跑了两趟。"]
GOOD_COMMENTS = ["", "", "办理很快，网上就办完了。", "工作人员解释得很清楚。"]


ROLE_TITLES = {"clerk": "受理", "reviewer": "审核", "approver": "审批"}


class _Clock:
    """Stands in for ``django.utils.timezone`` inside the services while the demo replays
    past days: ``now()`` is the time of the step being replayed."""

    def __init__(self) -> None:
        self.at = timezone.now()

    def now(self) -> dt.datetime:
        return self.at

    def localdate(self, value: dt.datetime | None = None) -> dt.date:
        return timezone.localdate(value or self.at)


# Rows the services create with the time from the model's default (not from ``timezone`` in
# services.py): while the demo runs, the default is the replayed time.
_REPLAYED_DEFAULTS = ((Case, "created_at"), (Attachment, "uploaded_at"), (Notice, "created_at"))


@contextlib.contextmanager
def _replayed_defaults(clock: _Clock):
    with contextlib.ExitStack() as stack:
        for model, name in _REPLAYED_DEFAULTS:
            stack.enter_context(mock.patch.object(model._meta.get_field(name), "_get_default", clock.now))
        yield


def _say(stdout, message: str) -> None:
    if stdout is not None:
        stdout.write(message)


def _user(username: str) -> User | None:
    return User.objects.filter(username=username).first()


def _office_hours(at: dt.datetime, rng: random.Random) -> dt.datetime:
    """The first working-day moment between 9:00 and 17:00 at or after ``at``."""
    local = timezone.localtime(at)
    if is_workday(local.date()) and 9 <= local.hour < 17:
        return at
    day = local.date() if local.hour < 9 else local.date() + dt.timedelta(days=1)
    while not is_workday(day):
        day += dt.timedelta(days=1)
    start = dt.datetime.combine(day, dt.time(9), tzinfo=local.tzinfo)
    return start + dt.timedelta(minutes=rng.randrange(0, 180))


def _step_times(steps: list[str], end_gap: dt.timedelta, now: dt.datetime, rng) -> list[dt.datetime]:
    """A time for each step: officials act in office hours, the last step ``end_gap`` before now."""
    gaps = [dt.timedelta(hours=rng.uniform(1, 30)) for _ in steps]
    start = now - end_gap - sum(gaps, dt.timedelta())
    for _attempt in range(20):
        times, at = [], start
        for step, gap in zip(steps, gaps, strict=True):
            at = at + gap if times else at
            if step != "submit" and not step.startswith(("applicant", "withdraw")):
                at = _office_hours(at, rng)
            times.append(at)
        if not times or times[-1] < now - dt.timedelta(minutes=30):
            return times
        start -= times[-1] - now + dt.timedelta(hours=6)
    return times


def _end_gap(scenario: str, rng: random.Random) -> dt.timedelta:
    if scenario in _OPEN_SCENARIOS:  # how long the case has waited at its current step
        days = rng.choices(
            [rng.uniform(0.05, 2), rng.uniform(2, 5), rng.uniform(5, 20)], weights=[55, 30, 15]
        )[0]
    else:
        days = rng.uniform(0.5, 60)
    return dt.timedelta(days=days)


# --- processes and forms -----------------------------------------------------------------


def _attach(item: ServiceItem, actor, bpmn_name: str, dmn_name: str = "") -> bool:
    """Attach a bundled process unless the item's active process is that one already."""
    bpmn = (PROCESSES / bpmn_name).read_text(encoding="utf-8")
    dmn = (PROCESSES / dmn_name).read_text(encoding="utf-8") if dmn_name else ""
    active = item.processes.filter(is_active=True).first()
    if active is not None and active.bpmn == bpmn and active.dmn == dmn:
        return False
    services.process_attach(actor=actor, item=item, bpmn=bpmn, dmn=dmn)
    return True


def _instant_item(department) -> ServiceItem:
    item = ServiceItem.objects.filter(code=INSTANT_CODE).first()
    if item is not None:
        return item
    item = catalog_services.item_create(
        actor=ACTOR,
        code=INSTANT_CODE,
        department=department,
        region=department.region,
        level=ServiceItem.Level.CITY,
        name=INSTANT_NAME,
        item_type=ServiceItem.ItemType.PAYMENT,
        legal_basis="《西安市便民摊点管理办法》（演示）第十二条",
        conditions="年满60周岁、在本市居住满1年且为本市户籍的老年人经营便民摊点的，可申领一次性经营补贴。",
        process_steps=[
            {"name": "在线申请", "description": "填写申请表，系统自动核验条件。"},
            {"name": "秒批", "description": "符合条件的即时自动审批；不符合的转人工审核。"},
        ],
        statutory_limit_days=10,
        promised_limit_days=3,
        fee_description="不收费",
        is_free=True,
        visits_needed=0,
        online_depth=ServiceItem.OnlineDepth.FULLY_ONLINE,
        channels=["一网政务服务平台（网页）", "一网掌上办App"],
        consult_phone=department.phone or "029-12345",
        complaint_phone="12345",
        service_object=ServiceItem.ServiceObject.PERSONAL,
        address=f"{department.region.name}政务服务中心 {department.name}综合窗口",
        aliases="秒批,老年人补贴,便民摊点",
        description="符合条件的申请由系统按规则自动审批（秒批），不符合的转人工审核。",
        popularity=300,
        materials=[
            {"name": "居民身份证", "source": Material.Source.GOVERNMENT, "licence_replaceable": True},
            {"name": "摊点照片", "source": Material.Source.APPLICANT, "required": False},
        ],
    )
    return catalog_services.item_publish(item=item, actor=ACTOR)


def _setup_processes(department, admin) -> tuple[list[ServiceItem], list[ServiceItem], ServiceItem, int]:
    """(supplement items, other items, the 秒批 item, processes attached)."""
    scope = department_subtree_ids(department)
    online = list(
        ServiceItem.objects.filter(
            department_id__in=scope,
            status=ServiceItem.Status.PUBLISHED,
            online_depth__gte=ServiceItem.OnlineDepth.ONLINE_ACCEPTANCE,
        )
        .exclude(code=INSTANT_CODE)
        .select_related("region")
        .order_by("code")
    )
    supplement = [i for i in online if i.name in SUPPLEMENT_ITEMS and i.department_id == department.pk][:3]
    attached = sum(_attach(item, admin, "supplement.bpmn") for item in supplement)
    instant = _instant_item(department)
    # The form first: a process is checked against the form of its item (the names it reads).
    # The form binds facts of the population base data: the department needs its standing grant
    # (the exchange demo makes it; built alone, as some tests do, the applications demo asks too).
    platform_admin = User.objects.get(username="admin")
    exchange_demo.standing_grants(department, admin=platform_admin, codes=[basedata.POPULATION])
    if services.form_schema(instant) != INSTANT_SCHEMA:
        services.form_attach(actor=admin, item=instant, schema=INSTANT_SCHEMA)
    attached += _attach(instant, admin, "instant.bpmn", "instant.dmn")
    others = [i for i in online if i not in supplement]
    return supplement, others, instant, attached


# --- cases -------------------------------------------------------------------------------


class _Builder:
    """Walks cases through the services on the replayed clock."""

    def __init__(self, clock: _Clock, rng: random.Random, people: dict, officials: dict):
        self.clock, self.rng, self.people, self.officials = clock, rng, people, officials
        self.stand_ins: dict[tuple[int, str], User] = {}
        # Nobody signs in as a stand-in: one secret nobody knows serves them all (hashed once).
        self.stand_in_password = secrets.token_urlsafe(24)
        self.blob: Blob | None = None  # the demo's one PDF, stored by the first upload
        self.materials: dict[int, list[Material]] = {}  # what each item asks the applicant for

    def _set_clock(self, at: dt.datetime) -> None:
        self.clock.at = at

    def _complete(self, case: Case, applicant: User, scenario: str, *, partial: bool = False) -> Case:
        """Fill in the form and upload the materials (``partial``: a draft left half done)."""
        data = {**case.data, "phone": f"139{self.rng.randrange(10**8):08d}"}
        if case.item.code == INSTANT_CODE:
            data.update(self._instant_data(scenario, applicant))
        else:
            data.update(
                {
                    "address": self.rng.choice(ADDRESSES),
                    "purpose": f"申请办理{case.item.name}。",
                }
            )
            if self.rng.random() < 0.3:
                data["preferred_date"] = (
                    timezone.localdate(self.clock.at) + dt.timedelta(days=7)
                ).isoformat()
        if partial:
            data = {k: v for k, v in data.items() if k in case.provided or k == "phone"}
        services.case_save(actor=applicant, case=case, data=data)
        if case.item_id not in self.materials:
            self.materials[case.item_id] = services.required_materials(case)
        materials = self.materials[case.item_id]
        rows = []
        for material in materials[: 1 if partial else None]:
            if material.required or self.rng.random() < 0.5:
                name = f"{material.name[:40]}.pdf"
                if self.blob is None:  # the first upload of the demo: through the service
                    upload = SimpleUploadedFile(name, PDF, content_type="application/pdf")
                    attachment = services.attachment_add(
                        actor=applicant, case=case, material_id=material.pk, upload=upload
                    )
                    self.blob = attachment.blob
                else:
                    rows.append(
                        (case.pk, material.pk, self.blob.pk, safe_name(name, self.blob.kind), self.clock.at)
                    )
        # The same file again: the service would store the blob once and add a row per material
        # (a draft's upload writes no audit entry), so the rows go in at once.
        insert_rows(Attachment, ATTACHMENT_FIELDS, rows)
        return Case.objects.get(pk=case.pk)

    def _instant_data(self, scenario: str, applicant: User) -> dict:
        """Nothing to declare: the age, residence and household registration the rules read are
        the population base data's (see INSTANT_SCHEMA and the identity demo's register)."""
        return {}

    def _stand_in(self, department, role: str) -> User:
        """An official of another department (where a bundle's cases run) for one duty: one
        person per duty, as separation of duties (四眼原则) asks. Nobody signs in as them."""
        key = (department.pk, role)
        if key not in self.stand_ins:
            username = f"demo-{role}-{department.code.lower()}"[:150]
            existing = User.objects.filter(username=username).first()
            if existing is None:
                official = identity_services.official_create(
                    username=username,
                    name=f"{department.short_name or department.name}·{ROLE_TITLES.get(role, role)}",
                    department=department,
                    roles=[role],
                    password=self.stand_in_password,
                    actor=self.officials["admin"],
                )
                existing = official.user
            self.stand_ins[key] = existing
        return self.stand_ins[key]

    def _act(self, case: Case, who: str, decision: str) -> Case:
        task = Task.objects.get(case=case, state=Task.State.OPEN)
        actor = case.applicant if who == "applicant" else self.officials.get(who, self.officials["admin"])
        if case.department_id != self.officials["department"].pk and who != "applicant":
            actor = self._stand_in(case.department, task.role)  # bundle cases run in other departments
        key = "reviewer_reject" if (who, decision) == ("reviewer", "reject") else decision
        comment = self.rng.choice(COMMENTS.get(key, [""]))
        return services.task_complete(actor=actor, task=task, decision=decision, comment=comment)

    def run(self, case: Case, steps: list[str], times: list[dt.datetime]) -> Case:
        applicant = case.applicant
        for step, at in zip(steps, times, strict=True):
            self._set_clock(at)
            if step == "submit":
                case = services.case_submit(actor=applicant, case=case)
            elif step == "withdraw":
                case = services.case_withdraw(actor=applicant, case=case, reason="暂不需要办理了。")
            else:
                who, decision = step.split(":")
                case = self._act(case, who, decision)
        return case

    def start(self, item: ServiceItem, scenario: str, at: dt.datetime, *, citizen: bool = False) -> Case:
        person = self._applicant_for(item, scenario, citizen=citizen)
        self._set_clock(at - dt.timedelta(minutes=self.rng.randint(5, 90)))
        enterprise = (
            self.people["enterprise"]
            if person == self.people["agent"] and item.service_object != "personal"
            else None
        )
        case = services.case_start(actor=person, item=item, enterprise=enterprise)
        case = self._complete(case, person, scenario, partial=scenario == "draft" and self.rng.random() < 0.6)
        return case

    def _applicant_for(self, item: ServiceItem, scenario: str, *, citizen: bool = False) -> User:
        if item.code == INSTANT_CODE:  # an allowance for the elderly: mostly older applicants
            # 赵大爷 meets every condition; 钱奶奶's household is registered in 咸阳 and 张三 is
            # under 60 (the population base data says so), so theirs go to a reviewer.
            if scenario == "instant_pass":
                return self.people["elder"]
            return self.rng.choice([self.people["elder2"], self.people["citizen"]])
        if item.service_object == ServiceItem.ServiceObject.ENTERPRISE:
            return self.people["agent"]
        chosen = self.rng.choice(
            [self.people["citizen"], self.people["citizen"], self.people["citizen2"], self.people["agent"]]
        )
        return self.people["citizen"] if citizen else chosen


class _Plan(NamedTuple):
    first: dt.datetime  # when the case is started (submitted, unless a draft)
    item: ServiceItem
    scenario: str
    steps: list[str]
    times: list[dt.datetime]  # one per step
    keep: bool = False  # kept when tests build fewer cases (_scaled)
    citizen: bool = False  # 张三's case of this scenario (kept by _scaled too)


def _plans(rng: random.Random, supplement, others, instant, now) -> list[_Plan]:
    """The plan of every case, oldest first."""
    plans = []
    # 张三 has a case in every state of the plan (the first of each scenario): one he may apply
    # for himself, with a material to upload where the department has such an item, whatever the
    # hour the demo is built at (the plans' order, and so who applies, changes with the hour).
    personal = [i for i in (*supplement, *others) if i.service_object != ServiceItem.ServiceObject.ENTERPRISE]
    with_files = [i for i in personal if i.materials.filter(required=True).exists()]
    for scenario, count in PLAN.items():
        for n in range(count):
            citizen = n == 0 and not scenario.startswith("instant")
            if scenario.startswith("instant"):
                item = instant
            elif scenario in _SUPPLEMENT_SCENARIOS:
                item = rng.choice(supplement or others)
            elif citizen and (with_files or personal):
                item = rng.choice(with_files or personal)
            else:
                item = rng.choice(supplement if supplement and rng.random() < 0.4 else others or supplement)
            steps = _STEPS[scenario]
            if scenario in _SUPPLEMENT_SCENARIOS and not supplement:
                continue
            if scenario == "withdrawn" and rng.random() < 0.4:
                steps = ["submit", "clerk:accept", "withdraw"]
            if scenario == "draft":
                times: list[dt.datetime] = []
                first = now - dt.timedelta(days=rng.uniform(0.1, 20))
            else:
                times = _step_times(steps, _end_gap(scenario, rng), now, rng)
                first = times[0]
            waits = scenario == "submitted" and n < len(ACCEPT_WAITS)
            if waits:  # drawn above all the same, so the other cases' draws stay as they were
                times = [now - ACCEPT_WAITS[n]]
                first = times[0]
            plans.append(_Plan(first, item, scenario, steps, times, keep=waits, citizen=citizen))
    plans.sort(key=lambda p: p.first)
    return plans


def _rate(builder: _Builder, cases: list[Case], rng: random.Random, now: dt.datetime) -> tuple[int, int]:
    ratings = poor = 0
    chosen = []
    for case in cases:
        if case.status not in (Case.Status.COMPLETED, Case.Status.REJECTED, Case.Status.NOT_APPROVED):
            continue
        if rng.random() > (0.6 if case.status == Case.Status.COMPLETED else 0.3):
            continue
        level = rng.choices([5, 4, 3, 2, 1], weights=[55, 25, 10, 6, 4])[0]
        if case.status != Case.Status.COMPLETED:
            level = rng.choice([2, 3, 3, 4])
        chosen.append((case, level))
    if chosen and all(level > 2 for _case, level in chosen):
        # The step times follow the real clock, so the draws differ from day to day; the demo
        # always shows one poor rating and its rectification.
        chosen[-1] = (chosen[-1][0], 2)
    for case, level in chosen:
        builder.clock.at = min(
            case.ended_at + dt.timedelta(hours=rng.uniform(1, 72)), now - dt.timedelta(minutes=5)
        )
        comment = rng.choice(POOR_COMMENTS if level <= 2 else GOOD_COMMENTS)
        services.case_rate(actor=case.applicant, case=case, level=level, comment=comment)
        ratings += 1
        poor += level <= 2
    return ratings, poor


def _bundle(builder: _Builder, now: dt.datetime) -> BundleCase | None:
    """One 开办药店 bundle of the agent's enterprise: one case completed, one in review, one waiting."""
    bundle = LifeEvent.objects.filter(code=BUNDLE_CODE).first()
    if bundle is None:
        bundle = next(
            (
                b
                for b in LifeEvent.objects.order_by("code")
                if b.items.filter(online_depth__gte=ServiceItem.OnlineDepth.ONLINE_ACCEPTANCE).count() >= 2
            ),
            None,
        )
    if bundle is None:
        return None
    agent, enterprise = builder.people["agent"], builder.people["enterprise"]
    submitted_at = now - dt.timedelta(days=6)
    builder.clock.at = submitted_at - dt.timedelta(minutes=40)
    bundle_case = services.bundle_start(actor=agent, bundle=bundle, enterprise=enterprise)
    for case in bundle_case.cases.select_related("item").order_by("pk"):
        builder._complete(case, agent, "bundle")
    builder.clock.at = submitted_at
    services.bundle_submit(actor=agent, bundle_case=bundle_case)
    stages = [["clerk:accept", "reviewer:pass", "approver:approve", "clerk:complete"], ["clerk:accept"], []]
    for case, steps in zip(bundle_case.cases.order_by("pk"), stages, strict=False):
        times = _step_times(["submit", *steps], dt.timedelta(days=1), now, builder.rng)[1:]
        times = [max(t, submitted_at + dt.timedelta(hours=n + 1)) for n, t in enumerate(times)]
        builder.run(case, steps, times)
    return bundle_case


LICENCE_MATERIAL = "个体工商户营业执照"
LICENCE_TYPE = "individual-business-licence"


@transaction.atomic
def _licence_demo(stdout=None) -> None:
    """免证办 in the demo: the 秒批 stall allowance asks stall keepers for their individual
    business licence, which 张三 holds in his wallet (the licences demo issues it; issued here
    when that demo did not run), so his application form offers the licence instead of an
    upload. Idempotent."""
    item = ServiceItem.objects.filter(code=INSTANT_CODE).first()
    person = person_of(_user("citizen")) if _user("citizen") else None
    department = department_by_code("610100-SCJG")
    if item is None or person is None or department is None:
        return
    Material.objects.get_or_create(
        item=item,
        name=LICENCE_MATERIAL,
        defaults={
            "source": Material.Source.APPLICANT,
            "form": Material.Form.ELECTRONIC,
            "required": False,
            "licence_replaceable": True,
            "licence_type": LICENCE_MATERIAL,
            "notes": "已办理个体工商户登记的提供；持有电子营业执照的可免提交",
            "order": 3,
        },
    )
    licence_type = licence_selectors.licence_type_by_code(LICENCE_TYPE)
    if licence_type is None:
        licence_services.licence_types_sync(actor=ACTOR)
        licence_type = licence_selectors.licence_type_by_code(LICENCE_TYPE)
    if not licence_selectors.licences_of_person(person).filter(type=licence_type).exists():
        licence_services.licence_issue(
            licence_type=licence_type,
            holder=person,
            department=department,
            claims={"business_address": "西安市雁塔区演示路8号一层", "business_scope": "日用百货零售"},
            actor=ACTOR,
        )
        _say(stdout, "Applications: 张三 holds an individual business licence for 免证办.")


def _demo_people() -> dict | None:
    people = {name: _user(name) for name in APPLICANTS}
    if not all(people.values()):
        return None
    person = person_of(people["agent"])
    people["enterprise"] = enterprises_of(person).first() if person else None
    return people


def build(*, stdout=None, cases: int | None = None) -> dict:
    """Attach the demo processes and build the demo cases once; return counts. ``cases`` scales
    the number of cases (for tests); None builds the full plan (about 300)."""
    started = time.monotonic()
    if AuditEntry.objects.filter(event=LOAD_EVENT).exists():
        _licence_demo(stdout)
        _say(stdout, "Applications: demo cases already loaded.")
        return {"cases": 0, "processes": 0, "seconds": 0.0}
    clerk = Official.objects.select_related("department__region").filter(user__username="clerk").first()
    admin = _user("deptadmin") or User.objects.filter(is_superuser=True).order_by("pk").first()
    superuser = User.objects.filter(is_superuser=True).order_by("pk").first()
    people = _demo_people()
    if clerk is None or admin is None or superuser is None or people is None:
        raise RuntimeError("Run the identity demo first: the demo accounts are missing.")
    department = clerk.department
    officials = {
        "department": department,
        "clerk": clerk.user,
        "reviewer": _user("reviewer"),
        "approver": _user("approver"),
        "admin": superuser,
    }
    rng = random.Random(20261124)
    real_now = timezone.now()
    clock = _Clock()
    builder = _Builder(clock, rng, people, officials)
    with transaction.atomic(), mock.patch.object(services, "timezone", clock), _replayed_defaults(clock):
        supplement, others, instant, attached = _setup_processes(department, admin)
        if not others and not supplement:
            raise RuntimeError("Run the catalog demo first: the demo department has no online items.")
        plans = _plans(rng, supplement, others, instant, real_now)
        if cases is not None:
            plans = _scaled(plans, cases)
        built = []
        for plan in plans:
            case = builder.start(plan.item, plan.scenario, plan.first, citizen=plan.citizen)
            built.append(builder.run(case, plan.steps, plan.times))
        bundle_case = _bundle(builder, real_now)
        ratings, poor = _rate(builder, built, rng, real_now)
        _reply_one(builder, department, real_now)
        clock.at = real_now - dt.timedelta(minutes=10)
        _claim_some(officials, department, rng)
        Notice.objects.filter(user__in=[people[n] for n in APPLICANTS]).filter(
            created_at__lt=real_now - dt.timedelta(days=5)
        ).update(read_at=real_now)
        flags = tasks.flag_deadlines_now()
        counts = {
            "cases": len(built) + (bundle_case.cases.count() if bundle_case else 0),
            "processes": attached,
            "ratings": ratings,
            "poor_ratings": poor,
            "bundle_cases": 1 if bundle_case else 0,
            "overdue_tasks": flags["overdue"],
            "due_soon_tasks": flags["due_soon"],
        }
        audit.record(actor=ACTOR, event=LOAD_EVENT, target=None, data=counts)
    _licence_demo(stdout)
    counts["seconds"] = round(time.monotonic() - started, 1)
    statuses = Case.objects.values_list("status").order_by("status").annotate(n=Count("pk"))
    by_status = ", ".join(f"{status} {n}" for status, n in statuses)
    _say(
        stdout,
        f"Applications: {counts['cases']} cases ({by_status}), "
        f"{counts['processes']} processes, {ratings} ratings, {flags['overdue']} overdue tasks "
        f"in {counts['seconds']} s.",
    )
    return counts


def _scaled(plans: list[_Plan], cases: int) -> list[_Plan]:
    """Keep every scenario at least once and about ``cases`` cases in all, and on top of them the
    accept queue's set waits (so the cases kept are the same as without them)."""
    kept = [p for p in plans if p.citizen]
    seen = {p.scenario for p in kept}
    for plan in plans:
        if plan.scenario not in seen:
            seen.add(plan.scenario)
            kept.append(plan)
    waits = [p for p in plans if p.keep and p not in kept]
    rest = [p for p in plans if p not in kept and not p.keep]
    kept += rest[: max(0, cases - len(kept))] + waits
    return sorted(kept, key=lambda p: p.first)


def _reply_one(builder: _Builder, department, now: dt.datetime) -> None:
    """Answer the oldest open rectification of the department, as its leader (or admin)."""
    rectification = (
        Rectification.objects.filter(department=department, state=Rectification.State.OPEN)
        .order_by("rating__created_at")
        .first()
    )
    replier = _user("leader") or _user("deptadmin")
    if rectification is None or replier is None:
        return
    builder.clock.at = min(
        rectification.rating.created_at + dt.timedelta(days=1), now - dt.timedelta(minutes=1)
    )
    services.rectification_reply(
        actor=replier,
        rectification=rectification,
        reply="已约谈承办人员并改进告知流程，今后补正要求一次性告知。感谢您的监督。",
    )


def _claim_some(officials: dict, department, rng: random.Random) -> None:
    """Some open tasks of the department are claimed, so "my tasks" is not empty; the first
    open task of each role stays in the shared queue, so every queue has one to claim."""
    open_tasks = Task.objects.filter(state=Task.State.OPEN, department=department).filter(
        Q(role="clerk") | Q(role="reviewer") | Q(role="approver")
    )
    left_open: set[str] = set()
    for task in open_tasks.order_by("pk"):
        claim = rng.random() < 0.15 and officials.get(task.role)
        if task.role not in left_open:
            left_open.add(task.role)
        elif claim:
            services.task_claim(actor=officials[task.role], task=task)
