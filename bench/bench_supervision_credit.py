"""Benchmark of credit recomputation: scores, tiers and explanations for every market entity.

    python bench/bench_supervision_credit.py [--entities 1000000] [--write-docs]

On a temporary database (SQLite, or a throwaway PostgreSQL database with DATABASE_URL):
``--entities`` market entities (1 % with a penalty), then, side by side in the same run:

- the references: a bare scan of the entities (id, code, tier) and a bare UPDATE of every row;
- the pure scoring rules (``credit.score``) over the same number of in-memory records;
- ``credit_services.credit_recompute`` over all entities, first run (scores inserted) and
  second run (scores updated), as entities per second and as a multiple of the bare UPDATE.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchkit import run_isolated, write_section  # noqa: E402 — after the path set-up


def _timed(fn):
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def measure(args) -> list[str]:
    out: list[str] = []

    def run(_args) -> int:
        from django.core.management import call_command
        from django.db import connection, transaction
        from django.utils import timezone

        from yiwang.identity.models import Department, Region
        from yiwang.lib.uscc import check_char
        from yiwang.supervision import credit, credit_services
        from yiwang.supervision.models import MarketEntity, Penalty

        call_command("migrate", verbosity=0)
        province = Region.objects.create(code="610000", name="陕西省", level="province")
        department = Department.objects.create(
            code="610000-SCJG", name="陕西省市场监督管理局", region=province
        )
        n = args.entities
        now, today = timezone.now(), timezone.localdate()
        setup_t0 = time.perf_counter()
        with transaction.atomic():
            for start in range(0, n, 10_000):
                rows = []
                for i in range(start, min(n, start + 10_000)):
                    body = f"91{610100 + i % 30:06d}{i:09d}"
                    rows.append(
                        MarketEntity(
                            credit_code=body + check_char(body),
                            name=f"基准市场主体{i:07d}",
                            region_code=f"{610100 + i % 30:06d}",
                            synced_at=now,
                        )
                    )
                MarketEntity.objects.bulk_create(rows, batch_size=10_000)
            ids = list(MarketEntity.objects.order_by("pk").values_list("pk", flat=True))
            Penalty.objects.bulk_create(
                [
                    Penalty(
                        entity_id=pk,
                        department=department,
                        decision_number=f"基准罚{j:07d}",
                        decided_on=today - dt.timedelta(days=j % 700),
                        kind=("warning", "fine", "suspension", "revocation")[j % 4],
                        amount=Decimal(1000 * (j % 300)),
                    )
                    for j, pk in enumerate(ids[::100])
                ],
                batch_size=10_000,
            )
        setup_s = time.perf_counter() - setup_t0

        scan_s, scanned = _timed(
            lambda: sum(
                1
                for _ in MarketEntity.objects.values_list("pk", "credit_code", "credit_tier").iterator(10_000)
            )
        )
        table = connection.ops.quote_name(MarketEntity._meta.db_table)

        def bare_update():
            with transaction.atomic(), connection.cursor() as cursor:
                # the table name is the model's own, not input
                cursor.execute(f"UPDATE {table} SET credit_tier = credit_tier")  # noqa: S608

        update_s, _ = _timed(bare_update)
        records = [credit.Records() for _ in range(n)]
        for r in records[::100]:
            r.penalties.append(("x", "fine", Decimal(5000), today))
        rules_s, _ = _timed(lambda: [credit.score(r, today=today) for r in records])
        first_s, (scored, changed) = _timed(lambda: credit_services.credit_recompute(actor="bench"))
        second_s, (scored2, changed2) = _timed(lambda: credit_services.credit_recompute(actor="bench"))
        out.extend(
            [
                f"| set-up: {n:,} entities, {len(ids[::100]):,} penalties (bulk insert) | "
                f"{setup_s:.1f} s | | |",
                f"| reference: bare scan of (id, code, tier) | {scan_s:.2f} s | "
                f"{scanned / scan_s:,.0f} rows/s | |",
                f"| reference: bare `UPDATE` of every entity | {update_s:.2f} s | "
                f"{n / update_s:,.0f} rows/s | |",
                f"| the rules alone (`credit.score`, in memory) | {rules_s:.2f} s | "
                f"{n / rules_s:,.0f} /s | |",
                f"| **recompute all, first run** (scores inserted; {changed:,} tiers changed, audited) | "
                f"**{first_s:.1f} s** | **{scored / first_s:,.0f} entities/s** | "
                f"{first_s / update_s:.1f}× the bare UPDATE |",
                f"| recompute all, second run (scores updated; {changed2:,} tiers changed) | "
                f"{second_s:.1f} s | "
                f"{scored2 / second_s:,.0f} entities/s | {second_s / update_s:.1f}× the bare UPDATE |",
            ]
        )
        return 0

    run_isolated("credit", run, args)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--write-docs", action="store_true", help="write the figures into docs/benchmarks.md")
    args, _unknown = parser.parse_known_args()  # run_all.py passes every script the same arguments
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("YIWANG_DEV", "1")
    rows = measure(args)
    db = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    table = "\n".join(
        [
            f"Measured {time.strftime('%Y-%m-%d')}, CPython {platform.python_version()}, "
            f"{platform.machine()}, {os.cpu_count()} cores shared with other agents' test suites; "
            f"{db}; {args.entities:,} entities.",
            "",
            "| measure | time | rate | compared with (same run) |",
            "|---|---|---|---|",
            *rows,
        ]
    )
    print(table)
    if args.write_docs:
        write_section(
            section="## Supervision credit (信用评价)",
            key=f"supervision-credit:{db}",
            block=table,
            intro=(
                "`bench/bench_supervision_credit.py`: `credit_services.credit_recompute` over every market "
                "entity (batches of 5,000: four reads, the rules, a bulk write, one audit entry per batch "
                "with tier changes), beside a bare scan and a bare UPDATE of the same table in the same run."
            ),
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
