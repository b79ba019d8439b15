"""Catalog search benchmark: 50,000 items, 200 varied queries, p50/p95.

Builds the demo province and a 50,000-item catalog in a temporary database (a SQLite file by
default; with DATABASE_URL, a fresh ``bench_catalog_<pid>`` database on that PostgreSQL server,
dropped afterwards), then times 200 queries through the search function and through the API view
(in-process, Django test client), beside a bare indexed lookup of an item by code measured in
the same run. Writes the figures into the "## Catalog search" section of docs/benchmarks.md.

    .venv/bin/python bench/bench_search.py                      # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/bench_search.py
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchkit import write_section  # noqa: E402 — after the path set-up

TARGET_P95_MS = 50.0
SECTION = "## Catalog search"

BASE_QUERIES = [
    "开餐馆",
    "办理营业执照",
    "社保转移",
    "个体户注册",
    "身份证",
    "换身份证",
    "户口迁移",
    "落户",
    "结婚登记",
    "离婚",
    "出生医学证明",
    "生孩子",
    "新生儿",
    "医保",
    "异地就医",
    "医保报销",
    "社保卡",
    "失业金",
    "退休",
    "养老金",
    "公积金提取",
    "公积金贷款",
    "二手房过户",
    "房产证",
    "不动产登记",
    "买车",
    "驾照",
    "护照",
    "港澳通行证",
    "食品经营许可",
    "药店",
    "开药店",
    "卫生许可",
    "消防检查",
    "施工许可",
    "环评",
    "排污许可",
    "取水许可",
    "宅基地",
    "农机补贴",
    "教师资格",
    "入学",
    "低保",
    "残疾人补贴",
    "高龄津贴",
    "法律援助",
    "发票",
    "个税",
    "报税",
    "注销公司",
    "企业注销",
    "刻章",
    "网约车",
    "道路运输",
    "招聘",
    "劳务派遣",
    "工伤认定",
    "创业贷款",
    "高新技术企业",
    "演出审批",
]
FILTERS = [{}, {"department": "610100-SCJG"}, {"theme": "social-security"}, {"item_type": "licensing"},
           {"audience": "personal"}]  # fmt: skip


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def setup_django(db_file: str) -> None:
    os.environ.setdefault("YIWANG_DEV", "1")
    os.environ.setdefault("YIWANG_VAR_DIR", tempfile.mkdtemp(prefix="yiwang-bench-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django
    from django.conf import settings

    django.setup()
    from django.db import connection

    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        connection.settings_dict["TEST"]["NAME"] = db_file
    else:  # a database of our own: other test runs may be using test_<name>
        connection.settings_dict["TEST"]["NAME"] = f"bench_catalog_{os.getpid()}"


def queries(n: int, rng: random.Random) -> list[dict]:
    out = []
    for i in range(n):
        params = {
            "q": BASE_QUERIES[i % len(BASE_QUERIES)],
            **FILTERS[(i // len(BASE_QUERIES)) % len(FILTERS)],
        }
        if i % 7 == 3:
            params["page"] = 2
        if i % 11 == 5:
            params["q"] = "我想" + params["q"]
        out.append(params)
    rng.shuffle(out)
    return out


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def summary(name: str, values: list[float]) -> dict:
    return {"name": name, "p50": statistics.median(values), "p95": percentile(values, 95), "n": len(values)}


def write_docs(vendor: str, rows: list[dict], build_seconds: dict, items: int) -> Path:
    label = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[vendor]
    limit = f"p95 < {TARGET_P95_MS:.0f} ms"
    block = [
        f"### {label} ({items:,} items, {rows[0]['n']} queries; "
        f"{platform.machine()}, {os.cpu_count()} cores)",
        "",
        "| path | p50 | p95 | limit |",
        "|---|---|---|---|",
        *[
            f"| {r['name']} | {r['p50']:.1f} ms | {r['p95']:.1f} ms | "
            f"{limit if r['name'] != 'bare lookup by code' else 'baseline'} |"
            for r in rows
        ],
        "",
        f"Catalog build: demo {build_seconds['demo']:.1f} s, large catalog {build_seconds['large']:.1f} s "
        f"(segmenting with 2 processes).",
    ]
    intro = (
        "Run `bench/bench_search.py` (SQLite) and with `DATABASE_URL` (PostgreSQL). Search goes through "
        "the tiered query of yiwang/catalog/search.py; the bare lookup is `selectors.item_by_code` in "
        "the same run, for scale."
    )
    return write_section(section=SECTION, key=f"catalog:{vendor}", block="\n".join(block), intro=intro)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--no-write", action="store_true", help="Print only; leave docs/benchmarks.md alone.")
    parser.add_argument("--keep", action="store_true", help="Keep the database (to inspect plans).")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="yiwang-bench-db-")
    setup_django(str(Path(tmp) / "bench.sqlite3"))
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from yiwang.catalog import demo, search, selectors
    from yiwang.catalog.models import ServiceItem
    from yiwang.identity import demo as identity_demo

    setup_test_environment()
    creation = connection.creation
    old_name = connection.settings_dict["NAME"]
    creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        search.ensure_jieba()
        identity_demo.build()
        started = time.monotonic()
        demo.build()
        build_seconds = {"demo": time.monotonic() - started}
        started = time.monotonic()
        demo.build_large(items=args.items)
        build_seconds["large"] = time.monotonic() - started
        items = ServiceItem.objects.count()
        print(f"{connection.vendor}: {items} items; build {build_seconds}")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE catalog_serviceitem")

        rng = random.Random(2026)
        plan = queries(args.queries, rng)
        codes = list(ServiceItem.objects.values_list("code", flat=True))
        lookups = [rng.choice(codes) for _ in range(args.queries)]
        ids = {p: selectors.get_department_id(p) for p in {q.get("department") for q in plan} if p}
        themes = {p: selectors.theme_by_code(p).pk for p in {q.get("theme") for q in plan} if p}
        client = Client()
        # Warm up caches (jieba, synonyms, connection, templates of the API).
        selectors.search_items(q="营业执照")
        client.get("/api/catalog/items", {"q": "营业执照"})

        search_ms, api_ms = [], []
        for params in plan:
            kwargs = {
                "q": params["q"],
                "department": ids.get(params.get("department")),
                "theme": themes.get(params.get("theme")),
                "item_type": params.get("item_type"),
                "audience": params.get("audience"),
                "page": params.get("page", 1),
            }
            search_ms.append(timed(lambda kwargs=kwargs: selectors.search_items(**kwargs)))
            api_ms.append(timed(lambda params=params: client.get("/api/catalog/items", params)))
        lookup_ms = [timed(lambda code=code: selectors.item_by_code(code)) for code in lookups]
        for params in plan[:3]:
            response = client.get("/api/catalog/items", params)
            assert response.status_code == 200, response.content
        rows = [
            summary("search function (`selectors.search_items`)", search_ms),
            summary("API view in-process (`GET /api/catalog/items`)", api_ms),
            summary("bare lookup by code", lookup_ms),
        ]
        for r in rows:
            print(f"{r['name']:55s} p50 {r['p50']:7.2f} ms   p95 {r['p95']:7.2f} ms")
        slowest = sorted(zip(search_ms, plan, strict=True), key=lambda row: -row[0])[:5]
        print("slowest:", [(round(ms, 1), params) for ms, params in slowest])
        if not args.no_write:
            print("wrote", write_docs(connection.vendor, rows, build_seconds, items))
    finally:
        if args.keep:
            print("kept database", connection.settings_dict["NAME"])
        else:
            creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
