"""Open data portal benchmark: CKAN package_search over 10,000 datasets and datastore_search
over a resource of 1,000,000 rows, each beside a bare ORM query measured in the same run.

    .venv/bin/python bench/bench_opendata.py [--datasets 10000] [--rows 1000000] [--n 200] [--write]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/bench_opendata.py

In a throwaway database (see benchkit): 50 departments, 10 themes, ``--datasets`` open datasets
(each a published exchange resource with three downloads, two themes and three tags of 200), and
one resource of ``--rows`` rows (no personal fields: stored as plain JSON through
``exchange.rows.build_rows``, bulk-inserted in batches of 10,000). Then, alternating in one loop
so machine noise falls on all alike:

1. ``package_search`` through the CKAN action (``ckan.run``: parameter checks, the search, facets
   by organization, theme, tag and format, the CKAN dictionaries of 10 results) with a word of a
   title, with an ``fq`` filter, or with both — beside the bare reference: the same filter as one
   ORM query of the first 10 ids and their count (no facets, no dictionaries);
2. ``datastore_search`` through the CKAN action: a page of 100 rows at a random offset under
   10,000, a lookup by the key field, and a filter on a non-key field (a sixth of the rows match)
   whose total is counted exactly up to 10,000 matches and estimated past them (CKAN's
   ``total_estimation_threshold``, ``total_was_estimated``) — beside the bare reference: the same
   ``ResourceRow`` query in the ORM (the rows' JSON, no parameter checks, no envelope; for the
   filter, the page and a count of every match).

Prints p50/p95 in ms for each; ``--write`` puts the table in docs/benchmarks.md (section
"Open data portal").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchkit import pct, run_isolated, write_section  # noqa: E402 — after the path set-up

SECTION = "## Open data portal"
WORDS = ["公交", "空气", "学校", "医院", "停车", "价格", "养老", "水质", "景区", "招聘"]
DISTRICTS = ["新城区", "碑林区", "莲湖区", "雁塔区", "未央区", "灞桥区"]


def _load(n_datasets: int, n_rows: int) -> dict:
    from django.core.management import call_command
    from django.db import transaction

    call_command("migrate", verbosity=0)
    from yiwang.exchange.models import DataResource, ResourceField, ResourceRow
    from yiwang.exchange.rows import build_rows
    from yiwang.identity.models import Department, Region
    from yiwang.opendata import demo
    from yiwang.opendata.models import Dataset, Distribution, Tag, Theme

    started = time.perf_counter()
    region = Region.objects.create(code="610000", name="陕西省", level="province")
    departments = Department.objects.bulk_create(
        [Department(code=f"610000-D{i:02d}", name=f"陕西省演示厅{i:02d}", region=region) for i in range(50)]
    )
    demo._themes()
    themes = list(Theme.objects.all())
    tags = Tag.objects.bulk_create([Tag(name=f"标签{i:03d}") for i in range(200)])
    rng = random.Random(7)  # noqa: S311 — benchmark data
    with transaction.atomic():
        resources = DataResource.objects.bulk_create(
            [
                DataResource(
                    code=f"C{i:06d}",
                    name=f"{rng.choice(WORDS)}数据集{i}",
                    provider=departments[i % 50],
                    kind="department",
                    share_class="unconditional",
                    open_class="unconditional",
                    update_frequency="monthly",
                    state="published",
                )
                for i in range(n_datasets)
            ],
            batch_size=2000,
        )
        ResourceField.objects.bulk_create(
            [ResourceField(resource=r, name="value", label_zh="值", grade=1) for r in resources],
            batch_size=5000,
        )
        datasets = Dataset.objects.bulk_create(
            [
                Dataset(
                    name=f"bench-{i:06d}",
                    resource=r,
                    organization_id=r.provider_id,
                    title=r.name,
                    notes=f"{r.name}的说明",
                    access="unconditional",
                    frequency="monthly",
                )
                for i, r in enumerate(resources)
            ],
            batch_size=2000,
        )
        Distribution.objects.bulk_create(
            [
                Distribution(dataset=d, format=f, position=p)
                for d in datasets
                for p, f in enumerate(("CSV", "JSON", "XLSX"))
            ],
            batch_size=5000,
        )
        theme_links = Dataset.themes.through
        theme_links.objects.bulk_create(
            [
                theme_links(dataset_id=d.pk, theme_id=t.pk)
                for i, d in enumerate(datasets)
                for t in {themes[i % 10], themes[(i * 7) % 10]}
            ],
            batch_size=5000,
        )
        tag_links = Dataset.tags.through
        tag_links.objects.bulk_create(
            [
                tag_links(dataset_id=d.pk, tag_id=t.pk)
                for i, d in enumerate(datasets)
                for t in {tags[i % 200], tags[(i * 3) % 200], tags[(i * 11) % 200]}
            ],
            batch_size=5000,
        )
    big = DataResource.objects.create(
        code="C999999",
        name="大表：逐条监测记录",
        provider=departments[0],
        kind="department",
        share_class="unconditional",
        open_class="unconditional",
        update_frequency="daily",
        state="published",
        key_field="record_id",
        row_count=n_rows,
    )
    specs = ResourceField.objects.bulk_create(
        [
            ResourceField(resource=big, name="record_id", label_zh="记录编号", grade=1, position=0),
            ResourceField(resource=big, name="district", label_zh="区县", grade=1, position=1),
            ResourceField(resource=big, name="value", label_zh="数值", type="integer", grade=1, position=2),
        ]
    )
    batch = 10_000
    for start in range(0, n_rows, batch):
        records = [
            {"record_id": f"R{i:08d}", "district": DISTRICTS[i % 6], "value": (i * 37) % 1000}
            for i in range(start, min(n_rows, start + batch))
        ]
        with transaction.atomic():
            ResourceRow.objects.bulk_create(
                build_rows(big, specs, records, start=start + 1), batch_size=batch
            )
    bigset = Dataset.objects.create(
        name="bench-big", resource=big, organization=departments[0], title=big.name, access="unconditional"
    )
    dist = Distribution.objects.create(dataset=bigset, format="CSV")
    from django.db import connection

    with connection.cursor() as cursor:  # what autovacuum would have done after such a load
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return {"distribution": str(dist.id), "resource": big, "load_s": time.perf_counter() - started}


def run(args) -> int:
    from django.db import connection
    from django.test import RequestFactory

    from yiwang.exchange.models import ResourceRow
    from yiwang.opendata import ckan
    from yiwang.opendata.models import Dataset

    world = _load(args.datasets, args.rows)
    request = RequestFactory().get("/api/3/action/package_search")
    rng = random.Random(11)  # noqa: S311
    facets = json.dumps(["organization", "groups", "tags", "res_format"])
    times: dict[str, list[float]] = {
        k: [] for k in ("ps", "ps_ref", "page", "page_ref", "key", "key_ref", "flt", "flt_ref")
    }

    def timed(key, fn):
        t = time.perf_counter()
        fn()
        times[key].append(time.perf_counter() - t)

    rid = world["distribution"]
    load_before = os.getloadavg()[0]
    rows = ResourceRow.objects.filter(resource=world["resource"])
    for i in range(args.n):
        word, org = rng.choice(WORDS), f"610000-d{rng.randrange(50):02d}"
        kind = i % 3
        params = {"rows": 10, "facet.field": facets}
        if kind != 1:
            params["q"] = word
        if kind != 0:
            params["fq"] = f"organization:{org}"

        def search(params=params):
            status, body = ckan.run(request, "package_search", params)
            assert status == 200, body

        def search_ref(kind=kind, word=word, org=org):
            qs = Dataset.objects.filter(state="active")
            if kind != 1:
                qs = qs.filter(title__icontains=word)
            if kind != 0:
                qs = qs.filter(organization__code__iexact=org)
            list(qs.order_by("-metadata_modified", "name").values_list("pk", flat=True)[:10])
            qs.count()

        timed("ps", search)
        timed("ps_ref", search_ref)
        offset = rng.randrange(10_000)
        record = f"R{rng.randrange(args.rows):08d}"
        district = rng.choice(DISTRICTS)
        timed(
            "page", lambda o=offset: ckan.run(request, "datastore_search", {"resource_id": rid, "offset": o})
        )
        timed(
            "page_ref",
            lambda o=offset: (
                list(rows.order_by("row_no").values_list("data", flat=True)[o : o + 100]),
                rows.count(),
            ),
        )
        timed(
            "key",
            lambda r=record: ckan.run(
                request, "datastore_search", {"resource_id": rid, "filters": {"record_id": r}}
            ),
        )
        timed(
            "key_ref",
            lambda r=record: (
                list(rows.filter(key=r).values_list("data", flat=True)[:100]),
                rows.filter(key=r).count(),
            ),
        )
        if i % 10 == 0:  # a scan of every row: ten times fewer
            flt = {"district": district}
            timed(
                "flt",
                lambda f=flt: ckan.run(
                    request, "datastore_search", {"resource_id": rid, "filters": f, "limit": 100}
                ),
            )
            timed(
                "flt_ref",
                lambda d=district: (
                    list(
                        rows.filter(data__district=d).order_by("row_no").values_list("data", flat=True)[:100]
                    ),
                    rows.filter(data__district=d).count(),
                ),
            )

    def ms(key):
        values = times[key]
        return f"{pct(values, 0.5) * 1e3:.2f} / **{pct(values, 0.95) * 1e3:.2f}**"

    head = (
        f"bench_opendata: {platform.python_implementation()} {platform.python_version()}, "
        f"{connection.vendor}, "
        f"{args.datasets:,} datasets, {args.rows:,} rows, n={args.n}, "
        f"loaded in {world['load_s']:.0f} s; 1-minute load average {load_before:.2f} before the "
        f"timed loop, {os.getloadavg()[0]:.2f} after (2 shared cores)"
    )
    table = [
        "| query | CKAN action p50 / p95 ms | bare ORM reference p50 / p95 ms |",
        "|---|---|---|",
        f"| package_search, 10 results + 4 facets (q, fq or both) | {ms('ps')} | {ms('ps_ref')} |",
        f"| datastore_search, 100 rows at an offset < 10,000, total counted "
        f"| {ms('page')} | {ms('page_ref')} |",
        f"| datastore_search, filter on the key field | {ms('key')} | {ms('key_ref')} |",
        f"| datastore_search, filter on a non-key field matching 1 row in 6, total exact to 10,000 "
        f"then estimated (reference: counted) | {ms('flt')} | {ms('flt_ref')} |",
    ]
    print(head)  # noqa: T201
    print("\n".join(table))  # noqa: T201
    if args.write:
        write_section(
            section=SECTION,
            key=f"opendata:{connection.vendor}",
            block=f"{head}\n\n" + "\n".join(table),
            intro="Measured by `bench/bench_opendata.py` (see its docstring). The reference is the bare ORM "
            "query the action runs, in the same loop.",
        )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--n", type=int, default=200, help="rounds of the loop")
    parser.add_argument("--write", action="store_true", help="write the figures into docs/benchmarks.md")
    args, _unknown = parser.parse_known_args()
    return run_isolated("opendata", run, args)


if __name__ == "__main__":
    raise SystemExit(main())
