"""Benchmark of the exchange gateway: what a granted query costs beyond the query itself.

    python bench/bench_gateway.py [--rows 10000] [--calls 500] [--no-write]

SQLite by default (a temporary file); with DATABASE_URL=postgres://... a fresh temporary database
on that server, dropped afterwards. A population resource with ``--rows`` people is loaded, X
gets a grant and an API key, and the same lookup of one person by identity number is timed,
alternated in one run:

* the ORM directly: the row by its blind index, its sealed fields decrypted (the reference);
* ``gateway.query``: grant check, rate limit, the query through rowquery (with the count),
  masking, the CallLog with its CallSubject and the audit entry, in one transaction;
* ``GET /api/exchange/resources/A01001/query`` through the test client: the above plus the API
  key, the parameters and the JSON answer.

The aim (issue 11): the gateway adds less than 5 ms at p95 over the direct query.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchkit import pct, run_isolated, write_section  # noqa: E402 — after the path set-up

SECTION = "## Exchange gateway (数据共享交换网关)"
INTRO = (
    "Run `bench/bench_gateway.py` (SQLite) and with `DATABASE_URL` (PostgreSQL). The reference is "
    "the same lookup made directly with the ORM, measured in the same run; the aim is less than "
    "5 ms added at p95."
)
AIM_MS = 5.0


def build(rows: int):
    """Departments, the population resource with ``rows`` people, X's grant and API key."""
    from django.utils import timezone

    from yiwang.exchange import basedata, credentials
    from yiwang.exchange import rows as rowstore
    from yiwang.exchange.models import DataResource, Grant, ResourceField, ResourceRow
    from yiwang.identity.models import Department, Official, Region, Role, RoleGrant, User
    from yiwang.lib.idnumbers import make_id_number

    province = Region.objects.create(code="610000", name="陕西省", level=Region.Level.PROVINCE)
    city = Region.objects.create(code="610100", name="西安市", level=Region.Level.CITY, parent=province)
    gat = Department.objects.create(code="610000-GAT", name="陕西省公安厅", region=province)
    x = Department.objects.create(code="610100-SCJG", name="西安市市场监督管理局", region=city)
    steward = User.objects.create_user(username="steward", password="bench-only-password")  # noqa: S106
    official = Official.objects.create(user=steward, department=x, title="")
    RoleGrant.objects.create(official=official, role=Role.DATA_STEWARD)

    spec = basedata.BASE_RESOURCES[basedata.POPULATION]
    resource = DataResource.objects.create(
        code=basedata.POPULATION,
        name=spec["name"],
        provider=gat,
        kind="basic",
        share_class="conditional",
        share_conditions="依法履职",
        update_frequency="daily",
        key_field="id_number",
        state="published",
    )
    fields = [
        ResourceField.objects.create(
            resource=resource, name=n, label_zh=zh, label_en=en, type=t, grade=g, personal=p, position=i
        )
        for i, (n, zh, en, t, g, p) in enumerate(spec["fields"])
    ]
    numbers: list[str] = []
    batch: list[dict] = []

    def flush(last: int) -> None:
        rows_ = rowstore.build_rows(resource, fields, batch, start=last - len(batch) + 1)
        ResourceRow.objects.bulk_create(rows_)
        batch.clear()

    for i in range(rows):
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=(i * 37) % 20000)
        number = make_id_number("610102", birth, i % 999 + 1)
        numbers.append(number)
        batch.append(
            {
                "id_number": number,
                "name": "测试" + "甲乙丙丁戊己庚辛壬癸"[i % 10],
                "gender": "男" if i % 2 else "女",
                "birth_date": birth.isoformat(),
                "household_region": "610102",
                "household_address": f"陕西省西安市新城区示例路{i}号",
                "residence_region": "610102",
                "residence_since": "2010-01-01",
                "phone": f"138{i:08d}",
            }
        )
        if len(batch) == 2000:
            flush(i + 1)
    if batch:
        flush(rows)
    Grant.objects.create(
        resource=resource,
        consumer=x,
        fields=["id_number", "name", "birth_date", "household_region", "residence_since"],
        unmasked_fields=["birth_date"],
        purpose="营业执照登记核验",
        valid_until=timezone.now() + dt.timedelta(days=30),
        rate_limit_per_minute=10**9,  # the benchmark measures the work, not the limit
    )
    key = credentials.credential_create(department=x, name="bench", actor=steward).key
    return resource, fields, x, key, numbers


def stats(values: list[float]) -> dict:
    ms = [v * 1000 for v in values]
    return {"p50": pct(ms, 0.5), "p95": pct(ms, 0.95)}


def run(args) -> int:
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from yiwang.exchange import gateway, vault
    from yiwang.exchange import rows as rowstore
    from yiwang.exchange.models import Channel, ResourceRow

    call_command("migrate", verbosity=0)
    setup_test_environment(debug=False)
    vendor = connection.vendor
    print(f"{vendor}: loading {args.rows} rows ...", flush=True)
    t0 = time.perf_counter()
    resource, fields, x, key, numbers = build(args.rows)
    load_seconds = time.perf_counter() - t0
    wanted = ["name", "birth_date", "household_region", "residence_since"]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")

    def direct(number):
        # in row order, as rowquery reads it (the model's default order, resource then row_no, makes
        # SQLite walk the resource's rows instead of the key index)
        rows = ResourceRow.objects.filter(resource_id=resource.pk, key=vault.key_index(number))
        row = rows.order_by("row_no").first()
        values = rowstore.row_values(row)
        return {n: values.get(n) for n in wanted}

    def through_gateway(number):
        return gateway.query(
            consumer=x,
            resource_code="A01001",
            fields=wanted,
            filters={"id_number": number},
            purpose="营业执照登记核验",
            channel=Channel.PLATFORM,
            actor="system:bench",
        )

    def through_api(number):
        response = client.get(
            "/api/exchange/resources/A01001/query",
            {
                "purpose": "营业执照登记核验",
                "fields": ",".join(wanted),
                "filters": f'{{"id_number": "{number}"}}',
            },
        )
        assert response.status_code == 200, response.content
        return response

    paths = {"direct": direct, "gateway": through_gateway, "api": through_api}
    for i in range(20):  # warm up
        for call in paths.values():
            call(numbers[i])
    queries = {}
    for name, call in paths.items():
        with CaptureQueriesContext(connection) as captured:
            call(numbers[0])
        queries[name] = len(captured)
    times = {name: [] for name in paths}
    loads = [os.getloadavg()[0]]
    for i in range(args.calls):
        number = numbers[(i * 7919) % len(numbers)]
        for name, call in paths.items():
            t = time.perf_counter()
            call(number)
            times[name].append(time.perf_counter() - t)
    loads.append(os.getloadavg()[0])
    figures = {name: stats(values) for name, values in times.items()}
    block = report(vendor, args, figures, queries, load_seconds, loads)
    print(block)
    if not args.no_write:
        print("wrote", write_section(section=SECTION, key=f"gateway:{vendor}", block=block, intro=INTRO))
    return 0


def report(vendor: str, args, figures: dict, queries: dict, load_seconds: float, loads=(0.0, 0.0)) -> str:
    d, g, a = figures["direct"], figures["gateway"], figures["api"]
    added = g["p95"] - d["p95"]
    lines = [
        f"### {vendor} ({time.strftime('%Y-%m-%d')}, "
        f"Python {platform.python_version()}, {platform.machine()})",
        "",
        f"One person looked up by identity number in a resource of {args.rows} rows "
        f"(loaded in {load_seconds:.1f} s); {args.calls} calls per path, alternated in one run; "
        f"1-minute load average {loads[0]:.2f} before the timed calls, {loads[-1]:.2f} after "
        "(2 shared cores).",
        "",
        "| path | queries | p50 ms | p95 ms | added p95 ms (vs direct) |",
        "|---|---:|---:|---:|---:|",
        f"| the ORM directly (reference) | {queries['direct']} | {d['p50']:.2f} | {d['p95']:.2f} | — |",
        f"| `gateway.query` (grant, limit, masking, call record, audit) | {queries['gateway']} | "
        f"{g['p50']:.2f} | {g['p95']:.2f} | {added:.2f} |",
        f"| `GET /api/exchange/resources/A01001/query` (+ API key, JSON) | {queries['api']} | "
        f"{a['p50']:.2f} | {a['p95']:.2f} | {a['p95'] - d['p95']:.2f} |",
        "",
        f"Aim: less than {AIM_MS:.0f} ms added at p95 by the gateway — "
        + ("met." if added < AIM_MS else f"**not met** ({added:.2f} ms)."),
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="people in the resource (default 10,000)")
    parser.add_argument("--calls", type=int, default=500, help="timed calls per path (default 500)")
    parser.add_argument("--no-write", action="store_true", help="Print only; leave docs/benchmarks.md alone.")
    return run_isolated("gateway", run, parser.parse_args())


if __name__ == "__main__":
    raise SystemExit(main())
