"""Demo data of credit supervision (called at the end of ``supervision.demo.build``): penalties
on some demo entities, two entities on the serious-dishonesty list (fake 演示市场主体, never the
demo enterprise 西安演示餐饮管理有限公司, so the citizens' demo paths keep their 秒批), tiers
computed for the entities that have records (the others keep the demo's seeded tiers, which the
published draw used), and a few open risk warnings (one past its date) raised by the rules from a
demo complaint series. Idempotent."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from yiwang.identity import selectors as identity_selectors
from yiwang.supervision import credit_services, risk_services
from yiwang.supervision.feedback_source import DailyCount
from yiwang.supervision.models import DishonestyEntry, Inspection, MarketEntity, Penalty

ACTOR = "system:demo"
X = "610100-SCJG"
PENALTIES = (  # (index among X's demo entities, kind, amount)
    (10, "warning", "0"),
    (11, "fine", "5000"),
    (12, "fine", "150000"),
    (13, "suspension", "0"),
    (14, "revocation", "0"),
    (15, "fine", "2000"),
)
LISTED = (  # (index, basis, reason)
    (2, "《市场监督管理严重违法失信名单管理办法》第九条", "提供虚假材料骗取食品经营许可（演示）"),
    (3, "《市场监督管理严重违法失信名单管理办法》第十条", "拒不执行生效的行政处罚决定（演示）"),
)


class DemoComplaints:
    """A month of complaints in 新城区 with a loud last week about 食品安全 (for the demo scan)."""

    def complaints(self, credit_codes, *, since):
        return {}

    def ratings(self, credit_codes, *, since):
        return {}

    def daily_counts(self, *, since, until):
        rows = []
        for i in range((until - since).days + 1):
            day = until - dt.timedelta(days=i)
            rows.append(DailyCount(day, "610102", "食品安全", 14 if i == 0 else 9 if i < 7 else 2))
            rows.append(DailyCount(day, "610104", "噪音扰民", 3))
        return rows


def build(*, stdout=None) -> None:
    department = identity_selectors.department_by_code(X)
    if department is None or DishonestyEntry.objects.exists():
        return
    entities = list(MarketEntity.objects.filter(region_code__startswith="6101").order_by("pk")[:20])
    if len(entities) < 16:
        return
    # the supervision demo's published draw may have drawn them: skip those, keep its record clean
    drawn = set(Inspection.objects.values_list("entity_id", flat=True))
    entities = [e for e in entities if e.pk not in drawn] + [e for e in entities if e.pk in drawn]
    today = timezone.localdate()
    with transaction.atomic():
        for n, (index, kind, amount) in enumerate(PENALTIES, start=1):
            Penalty.objects.create(
                entity=entities[index],
                department=department,
                decision_number=f"西市监罚〔{today.year}〕演{n:03d}号",
                decided_on=today - dt.timedelta(days=30 * n),
                kind=kind,
                amount=amount,
                is_public=n != len(PENALTIES),  # the last one is not published
            )
        for n, (index, basis, reason) in enumerate(LISTED, start=1):
            credit_services.list_add(
                entity=entities[index],
                department=department,
                basis=basis,
                reason=reason,
                decision_number=f"西市监失信〔{today.year}〕演{n:03d}号",
                listed_on=today - dt.timedelta(days=400 if n == 1 else 30),
                actor=ACTOR,
            )
        with_records = {e.pk for e in entities[:16]} | set(
            Inspection.objects.exclude(result="").values_list("entity_id", flat=True)
        )
        credit_services.credit_recompute(entity_ids=sorted(with_records), actor=ACTOR)
        source = DemoComplaints()
        risk_services.warnings_scan(department=department, actor=ACTOR, source=source)
        risk_services.warnings_scan(
            department=department, actor=ACTOR, source=source, today=today - dt.timedelta(days=30)
        )
    if stdout is not None:
        stdout.write("Supervision credit: penalties, two listed entities, tiers and warnings.")
