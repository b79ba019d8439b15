"""Applications (一网通办) benchmark: submit throughput, 秒批 in the request, the workbench queue at scale.

    .venv/bin/python bench/bench_applications.py [--cases 1000000]          # SQLite (temporary file)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/bench_applications.py

Builds the identity and catalog demos in a temporary database (a SQLite file, or a fresh
``yiwang_bench_applications_<pid>`` database on the PostgreSQL server, dropped afterwards), bulk-loads
``--cases`` cases (mostly ended, ``--open-share`` open with an open Task row each, spread over every
department with an online item and the three case roles; the clerk's department gets a larger share)
with ``core.bulk.insert_rows``, then times, through the Django test client, each path beside a bare
view measured in the same run (alternated, so noise falls on both alike):

1. ``POST /api/applications/cases`` (create + submit + workflow + audit + notice) beside a bare view
   inserting one row; and the page double-submit (the second POST of the edit form).
2. ``POST /api/applications/cases`` for a 秒批 item decided inside the request.
3. ``GET /workbench/?queue=accept`` and ``GET /api/applications/tasks?queue=accept``, page 1 and a
   deep page, as the demo clerk, beside a bare view doing one indexed lookup; queries counted per
   request at three page sizes; EXPLAIN of the queue queries.

Writes the figures into the "## Applications (一网通办)" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchkit import pct, run_isolated, write_section  # noqa: E402 — after the path set-up

SECTION = "## Applications (一网通办)"
INTRO = (
    "Run `bench/bench_applications.py` (SQLite) and with `DATABASE_URL` (PostgreSQL); `--cases 20000` "
    "for a quick run. Every path goes through the Django test client in-process (full middleware, "
    "session authentication), alternated with its bare reference view in the same run."
)
INSTANT_SCHEMA = {
    "type": "object",
    "properties": {
        "applicant_name": {"type": "string", "title": "申请人", "x-source": "person.name"},
        "age": {"type": "integer", "title": "年龄", "minimum": 0, "maximum": 150},
        "residence_years": {"type": "integer", "title": "本地居住年限", "minimum": 0, "maximum": 150},
        "household_registered": {"type": "boolean", "title": "本地户籍"},
    },
    "required": ["age", "residence_years", "household_registered"],
}
INSTANT_DATA = {"age": 72, "residence_years": 3, "household_registered": True}
VALID_DATA = {"phone": "13912345678", "address": "西安市新城区解放路1号", "purpose": "开办餐馆"}
ROLES = ("clerk", "reviewer", "approver")
STEPS = {  # role -> (BPMN task name, title, case status while open, decisions)
    "clerk": ("accept", "受理", "submitted", ["accept", "reject"]),
    "reviewer": ("review", "审核", "in_review", ["pass", "reject"]),
    "approver": ("approve", "审批", "in_review", ["approve", "not_approve"]),
}
ENDED = ("completed", "completed", "completed", "rejected", "not_approved", "withdrawn")


# --- database set-up ---------------------------------------------------------------------------


def stats(values: list[float]) -> dict:
    """Milliseconds: median, p95, and the serial rate (requests / total time)."""
    return {
        "p50": statistics.median(values) * 1e3,
        "p95": pct(values, 0.95) * 1e3,
        "rate": len(values) / sum(values),
        "n": len(values),
    }


# --- bare reference views (same middleware, same client) ---------------------------------------


def bare_insert(request):
    """One row, as small a write as a view can do: the reference for submit throughput."""
    from django.http import HttpResponse, JsonResponse

    from yiwang.applications.models import Notice

    if not request.user.is_authenticated:
        return HttpResponse(status=401)
    payload = json.loads(request.body or b"{}")
    notice = Notice.objects.create(user=request.user, subject=str(payload.get("subject", ""))[:200])
    return JsonResponse({"id": notice.pk}, status=201)


def bare_lookup(request):
    """One indexed lookup (a case by its number): the reference for the queue pages."""
    from django.http import HttpResponse, JsonResponse

    from yiwang.applications.models import Case

    if not request.user.is_authenticated:
        return HttpResponse(status=401)
    row = Case.objects.filter(number=request.GET.get("number", "")).values_list("pk", "status").first()
    return JsonResponse({"found": row is not None})


def install_urlconf() -> None:
    from django.conf import settings
    from django.urls import clear_url_caches, include, path

    module = types.ModuleType("bench_applications_urls")
    module.urlpatterns = [
        path("bench/bare-insert", bare_insert),
        path("bench/bare-lookup", bare_lookup),
        path("", include(settings.ROOT_URLCONF)),
    ]
    sys.modules[module.__name__] = module
    settings.ROOT_URLCONF = module.__name__
    clear_url_caches()


# --- data ---------------------------------------------------------------------------------------


def build_base() -> dict:
    """Identity and catalog demos, plus the two items the submit measurements use."""
    from yiwang.applications import services
    from yiwang.catalog import demo as catalog_demo
    from yiwang.catalog.models import Material, ServiceItem
    from yiwang.identity import demo as identity_demo
    from yiwang.identity.models import Department, User

    t0 = time.perf_counter()
    identity_demo.build()
    catalog_demo.build()
    seconds = time.perf_counter() - t0
    online = ServiceItem.objects.filter(
        status=ServiceItem.Status.PUBLISHED, online_depth__gte=ServiceItem.OnlineDepth.ONLINE_ACCEPTANCE
    )
    busy = Department.objects.get(code="610100-SCJG")
    in_busy = list(online.filter(department=busy).order_by("code")[:2])
    submit_item = in_busy[0] if in_busy else online.order_by("code").first()
    instant_item = (
        in_busy[1] if len(in_busy) > 1 else online.exclude(pk=submit_item.pk).order_by("code").first()
    )
    # The one-step API carries no uploads: make these two items' own materials optional.
    Material.objects.filter(item__in=[submit_item, instant_item]).exclude(
        source=Material.Source.GOVERNMENT
    ).update(required=False)
    admin = User.objects.get(username="admin")
    processes = ROOT / "yiwang" / "applications" / "processes"
    services.form_attach(actor=admin, item=instant_item, schema=INSTANT_SCHEMA)
    services.process_attach(
        actor=admin,
        item=instant_item,
        bpmn=(processes / "instant.bpmn").read_text(encoding="utf-8"),
        dmn=(processes / "instant.dmn").read_text(encoding="utf-8"),
        name="秒批",
    )
    return {"submit_item": submit_item, "instant_item": instant_item, "busy": busy, "demo_seconds": seconds}


def bulk_load(n_cases: int, open_share: float, busy_department, batch: int = 50_000) -> dict:
    """``n_cases`` cases with insert_rows; ended cases get two done tasks, open cases the done
    tasks of the steps before theirs and one open task. Case ids are given (then the sequence
    is reset) so task rows can point at them without reading anything back."""
    from django.contrib.auth.hashers import make_password
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.db.models import Max
    from django.utils import timezone

    from yiwang.applications.models import Case, Task
    from yiwang.catalog.models import ServiceItem
    from yiwang.core.bulk import insert_rows
    from yiwang.identity.models import User
    from yiwang.identity.permissions import department_subtree_ids

    t0 = time.perf_counter()
    rng = random.Random(20261124)
    unusable = make_password(None)
    User.objects.bulk_create(
        [
            User(username=f"bench-applicant-{i}", display_name=f"申请人{i}", password=unusable)
            for i in range(2000)
        ],
        batch_size=1000,
    )
    applicants = list(
        User.objects.filter(username__startswith="bench-applicant-").values_list("pk", flat=True)
    )
    items = list(
        ServiceItem.objects.filter(
            status=ServiceItem.Status.PUBLISHED, online_depth__gte=ServiceItem.OnlineDepth.ONLINE_ACCEPTANCE
        ).values_list("pk", "department_id", "region__code")
    )
    busy_ids = department_subtree_ids(busy_department.pk)
    busy_items = [i for i in items if i[1] in busy_ids] or items
    departments = {d for _i, d, _r in items}
    officials = list(
        User.objects.filter(username__in=["clerk", "reviewer", "approver"]).values_list("pk", flat=True)
    )

    case_fields = [
        *("id", "number", "item", "department", "applicant", "status", "data", "provided", "rule_hits"),
        *(
            "idempotency_key",
            "request_digest",
            "created_at",
            "updated_at",
            "submitted_at",
            "ended_at",
            "due_date",
        ),
    ]
    task_fields = [
        *("case", "spiff_id", "name", "title", "role", "department", "case_status", "decisions", "state"),
        *("flag", "due_date", "claimed_by", "claimed_at", "opened_at", "closed_at", "closed_by", "decision"),
        "comment",
    ]
    first_id = (Case.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
    today = timezone.localdate()
    now = timezone.now()
    per_day: dict[dt.date, int] = {}
    counts = {"cases": 0, "open": 0, "tasks": 0, "busy_open": 0}
    for start in range(0, n_cases, batch):
        case_rows, task_rows = [], []
        for k in range(start, min(n_cases, start + batch)):
            pk = first_id + k
            is_open = rng.random() < open_share
            # The clerk's department tree gets about a sixth of the open cases (a busy one).
            item_id, dept_id, region = rng.choice(busy_items if is_open and rng.random() < 0.16 else items)
            age_days = rng.randint(0, 40) if is_open else rng.randint(2, 730)
            created = now - dt.timedelta(days=age_days, seconds=rng.randint(0, 86_399))
            day = timezone.localdate(created)
            if day >= today:  # today's numbers belong to the live submissions of this run
                day, created = today - dt.timedelta(days=1), created - dt.timedelta(days=1)
            seq = per_day[day] = per_day.get(day, 0) + 1
            number = f"{region}-{day:%Y%m%d}-{seq:06d}"
            due = day + dt.timedelta(days=28)
            if is_open:
                role = ROLES[rng.randrange(3)]
                name, title, status, decisions = STEPS[role]
            else:
                status = ENDED[rng.randrange(len(ENDED))]
            ended = None if is_open else created + dt.timedelta(days=rng.randint(1, 20))
            applicant = rng.choice(applicants)
            case_rows.append(
                (pk, number, item_id, dept_id, applicant, status, VALID_DATA, ["applicant_name"], [], "", "",
                 created, ended or created, created, ended, due)
            )  # fmt: skip
            done_roles = ROLES[: ROLES.index(role)] if is_open else ("clerk", "reviewer")
            for n, done in enumerate(done_roles):
                dname, dtitle, dstatus, ddecisions = STEPS[done]
                at = created + dt.timedelta(hours=n + 1)
                closer = officials[n % len(officials)]
                task_rows.append(
                    (pk, f"{pk}-{dname}", dname, dtitle, done, dept_id, dstatus, ddecisions, "done", "", due,
                     None, None, at, at + dt.timedelta(hours=1), closer, ddecisions[0], "")
                )  # fmt: skip
            if is_open:
                overdue = due < today
                flag = "overdue" if overdue else ("due_soon" if (due - today).days < 3 else "")
                claimed = officials[0] if role == "clerk" and rng.random() < 0.05 else None
                opened = created + dt.timedelta(hours=len(done_roles) + 1)
                task_rows.append(
                    (pk, f"{pk}-{name}", name, title, role, dept_id, status, decisions, "open", flag, due,
                     claimed, now if claimed else None, opened, None, None, "", "")
                )  # fmt: skip
                counts["open"] += 1
                counts["busy_open"] += dept_id in busy_ids and role == "clerk"
        with transaction.atomic():
            insert_rows(Case, case_fields, case_rows)
            insert_rows(Task, task_fields, task_rows)
        counts["cases"] += len(case_rows)
        counts["tasks"] += len(task_rows)
        print(f"  {counts['cases']:,} cases, {counts['tasks']:,} tasks ({time.perf_counter() - t0:.0f} s)")
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Case, Task]):
            cursor.execute(sql)
    load_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    counts.update(seconds=load_s, analyze_seconds=time.perf_counter() - t1, departments=len(departments))
    return counts


# --- measurements -------------------------------------------------------------------------------


def alternate(
    paths: dict, n: int, rng: random.Random, cpu: dict[str, list[float]] | None = None
) -> dict[str, list[float]]:
    """Call each path n times, interleaved in a shuffled order per round; seconds per call. With
    ``cpu``, also the CPU seconds this thread spent on each call, appended there per path: unlike
    the wall clock, that does not grow when other processes take the cores (a long request is
    preempted more often than a short one, which skews a wall-clock ratio on a busy machine); it
    leaves out the database server's own work, so it fits SQLite (in-process) best."""
    samples: dict[str, list[float]] = {name: [] for name in paths}
    if cpu is not None:
        for name in paths:
            cpu.setdefault(name, [])
    names = list(paths)
    for i in range(n):
        rng.shuffle(names)
        for name in names:
            c0, t0 = time.thread_time(), time.perf_counter()
            paths[name](i)
            samples[name].append(time.perf_counter() - t0)
            if cpu is not None:
                cpu[name].append(time.thread_time() - c0)
    return samples


class fresh_capture:  # noqa: N801 — used like CaptureQueriesContext
    """Every statement the connection executes inside the block, reconnections included (the
    SQLite settings close the connection after each request, and the debug query log is a
    bounded deque that can be full), through an execute wrapper."""

    def __init__(self, connection):
        self.connection = connection
        self.captured_queries: list[dict] = []

    def _record(self, execute, sql, params, many, context):
        self.captured_queries.append({"sql": sql if params is None else self._render(sql, params)})
        return execute(sql, params, many, context)

    def _render(self, sql, params):
        try:
            with self.connection.cursor() as cursor:
                return self.connection.ops.last_executed_query(cursor, sql, params) or sql
        except Exception:  # noqa: BLE001 — only for display
            return sql

    def __enter__(self):
        self._wrapper = self.connection.execute_wrapper(self._record)
        self._wrapper.__enter__()
        return self

    def __exit__(self, *exc):
        return self._wrapper.__exit__(*exc)


def expect(response, *codes: int):
    assert response.status_code in codes, (response.status_code, response.content[:500])
    return response


def measure_submit(
    client, base: dict, n: int, rng: random.Random, tag: str = "", cpu: dict | None = None
) -> dict:
    from django.db import connection

    from yiwang.applications.models import Case

    item = base["submit_item"]

    def api(i, prefix="bench"):
        body = {"item": item.code, "data": VALID_DATA}
        prefix = f"{prefix}{tag}"
        expect(
            client.post(
                "/api/applications/cases",
                body,
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY=f"{prefix}-{i:08d}",
            ),
            201,
        )

    def bare(i):
        expect(
            client.post("/bench/bare-insert", {"subject": f"bare {i}"}, content_type="application/json"), 201
        )

    for i in range(20):  # warm up: templates, caches, the connection
        api(i, "warm")
        bare(i)
    samples = alternate({"bare": bare, "api": api}, n, rng, cpu)
    with fresh_capture(connection) as ctx:
        api(0, "count")
    replay = []
    for i in range(min(n, 100)):  # the same key again: the API's retry path
        t0 = time.perf_counter()
        expect(
            client.post(
                "/api/applications/cases",
                {"item": item.code, "data": VALID_DATA},
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY=f"bench{tag}-{i:08d}",
            ),
            200,
        )
        replay.append(time.perf_counter() - t0)
    status = (
        Case.objects.filter(idempotency_key=f"count{tag}-00000000").values_list("status", flat=True).get()
    )
    return {
        "bare": stats(samples["bare"]),
        "api": stats(samples["api"]),
        "replay": stats(replay),
        "queries": len(ctx.captured_queries),
        "status": status,
    }


def measure_page_double_submit(client, user, base: dict, n: int) -> dict:
    """The edit page's submit POSTed twice (a double click): the second must not make a case."""
    from yiwang.applications import services
    from yiwang.applications.models import Case

    first, second, codes = [], [], {}
    form = {**VALID_DATA, "submit": "1"}
    for _i in range(n):
        draft = services.case_start(actor=user, item=base["submit_item"])
        url = f"/cases/draft-{draft.pk}/edit/"
        t0 = time.perf_counter()
        expect(client.post(url, form), 302)
        t1 = time.perf_counter()
        before = Case.objects.count()
        t2 = time.perf_counter()
        again = expect(client.post(url, form), 302, 404)
        t3 = time.perf_counter()
        codes[again.status_code] = codes.get(again.status_code, 0) + 1
        assert Case.objects.count() == before
        assert Case.objects.get(pk=draft.pk).number
        first.append(t1 - t0)
        second.append(t3 - t2)
    return {"first": stats(first), "second": stats(second), "codes": codes}


def measure_instant(
    client, base: dict, n: int, rng: random.Random, tag: str = "", cpu: dict | None = None
) -> dict:
    from django.db import connection

    item = base["instant_item"]

    def instant(i, prefix="instant"):
        prefix = f"{prefix}{tag}"
        response = expect(
            client.post(
                "/api/applications/cases",
                {"item": item.code, "data": INSTANT_DATA},
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY=f"{prefix}-{i:08d}",
            ),
            201,
        )
        assert response.json()["status"] == "completed", response.json()["status"]

    def bare(i):
        expect(
            client.post("/bench/bare-insert", {"subject": f"bare {i}"}, content_type="application/json"), 201
        )

    for i in range(10):
        instant(i, "warm-instant")
    samples = alternate({"bare": bare, "instant": instant}, n, rng, cpu)
    with fresh_capture(connection) as ctx:
        instant(0, "count-instant")
    return {
        "bare": stats(samples["bare"]),
        "instant": stats(samples["instant"]),
        "queries": len(ctx.captured_queries),
    }


def measure_queue(client, n: int, rng: random.Random) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from yiwang.applications import selectors
    from yiwang.applications.models import Case

    clerk = get_user_model().objects.get(username="clerk")
    in_queue = selectors.queue(clerk, "accept").count()
    last = max(1, -(-in_queue // selectors.PAGE_SIZE))
    deep = max(1, int(last * 0.9))
    top = Case.objects.order_by("-pk").values_list("pk", flat=True).first()
    picks = [rng.randint(1, top) for _ in range(400)]
    numbers = [x for x in Case.objects.filter(pk__in=picks).values_list("number", flat=True) if x]
    paths = {
        "bare lookup": lambda i: expect(
            client.get("/bench/bare-lookup", {"number": numbers[i % len(numbers)]}), 200
        ),
        "page 1": lambda i: expect(client.get("/workbench/", {"queue": "accept"}), 200),
        f"page {deep}": lambda i: expect(client.get("/workbench/", {"queue": "accept", "page": deep}), 200),
        "API page 1": lambda i: expect(client.get("/api/applications/tasks", {"queue": "accept"}), 200),
        f"API page {deep}": lambda i: expect(
            client.get("/api/applications/tasks", {"queue": "accept", "page": deep}), 200
        ),
    }
    for i in range(10):
        for fn in paths.values():
            fn(i)
    page = client.get("/workbench/", {"queue": "accept"}).content.decode()
    assert page.count('class="mono"') == min(selectors.PAGE_SIZE, in_queue), (
        "the page lists a full page of tasks"
    )
    samples = alternate(paths, n, rng)

    # Query counts at three page sizes: they must not grow with the rows shown (no N+1).
    queries: dict[str, dict[int, int]] = {"page": {}, "API": {}}
    captured = {}
    saved = selectors.PAGE_SIZE
    try:
        for size in (10, 50, 100):
            selectors.PAGE_SIZE = size
            with fresh_capture(connection) as ctx:
                expect(client.get("/workbench/", {"queue": "accept", "page": 2}), 200)
            queries["page"][size] = len(ctx.captured_queries)
            captured[size] = [q["sql"] for q in ctx.captured_queries]
            with fresh_capture(connection) as ctx:
                expect(client.get("/api/applications/tasks", {"queue": "accept", "page": 2}), 200)
            queries["API"][size] = len(ctx.captured_queries)
    finally:
        selectors.PAGE_SIZE = saved
    for kind, by_size in queries.items():
        assert len(set(by_size.values())) == 1, f"N+1 in the {kind}: {by_size}"
    task_sql = [s for s in captured[50] if "applications_task" in s]
    return {
        "samples": {name: stats(values) for name, values in samples.items()},
        "in_queue": in_queue,
        "deep": deep,
        "queries": queries,
        "explain": explain(task_sql, deep),
        "sql": task_sql,
    }


def explain(task_sql: list[str], deep: int) -> dict[str, str]:
    """EXPLAIN (ANALYZE on PostgreSQL) of the queries a queue page runs, built through the
    selector: the narrow id page (first and deep page), then loading one page of rows."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from yiwang.applications import selectors
    from yiwang.applications.models import Task

    clerk = get_user_model().objects.get(username="clerk")
    size = selectors.PAGE_SIZE
    ids = selectors.queue(clerk, "accept").values_list("pk", flat=True)
    start = (deep - 1) * size
    rows = (
        Task.objects.filter(pk__in=list(ids[start : start + size]))
        .select_related("case", "case__item", "claimed_by")
        .only(*selectors.QUEUE_ROW_FIELDS)
    )
    options = {"analyze": True, "buffers": True} if connection.vendor == "postgresql" else {}
    out = {}
    for label, qs in [
        ("ids of page 1", ids[:size]),
        (f"ids of page {deep}", ids[start : start + size]),
        (f"rows of page {deep}", rows),
    ]:
        try:
            out[label] = qs.explain(**options)
        except Exception as exc:  # noqa: BLE001 — a plan is for reading; never lose the timings
            out[label] = f"(EXPLAIN failed: {exc})"
    return out


# --- report -------------------------------------------------------------------------------------


def ms(s: dict) -> str:
    return f"{s['p50']:.1f} / {s['p95']:.1f} ms"


def report(
    vendor: str, args, base: dict, load: dict, submit: dict, double: dict, instant: dict, queue: dict
) -> str:
    label = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[vendor]
    bare, api = submit["bare"], submit["api"]
    q = queue["samples"]
    ref = q["bare lookup"]
    deep = queue["deep"]
    lines = [
        f"### {label} ({load['cases']:,} cases; {time.strftime('%Y-%m-%d')}, "
        f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} cores)",
        "",
        f"Bulk load: {load['cases']:,} cases ({load['open']:,} open) and {load['tasks']:,} task rows over "
        f"{load['departments']} departments in {load['seconds']:.0f} s (`insert_rows`, 50,000 cases per "
        f"transaction), then `ANALYZE` {load['analyze_seconds']:.1f} s. Demo identity + catalog: "
        f"{base['demo_seconds']:.0f} s. The clerk's accept queue (610100-SCJG and the departments under it): "
        f"{queue['in_queue']:,} open tasks.",
        "",
        "| path (in-process test client) | median / p95 | rate (serial) | compared with (same run) "
        "| ratio | aim |",
        "|---|---|---|---|---|---|",
        f"| `POST /api/applications/cases` (create + submit + workflow + audit + notice), "
        f"{api['n']} requests | {ms(api)} | {api['rate']:,.0f} req/s "
        f"| bare view inserting one row: {ms(bare)}, {bare['rate']:,.0f} req/s "
        f"| **{api['rate'] / bare['rate']:.2f}** | ≥ 0.33 |",
        f"| same Idempotency-Key again (retry returns the case, 200) | {ms(submit['replay'])} | "
        f"{submit['replay']['rate']:,.0f} req/s | | | |",
        f"| page submit (`POST /cases/<draft>/edit/`, submit) | {ms(double['first'])} | "
        f"{double['first']['rate']:,.0f} req/s | | | |",
        f"| page double-submit (the same POST again; no second case; answered "
        f"{', '.join(f'{c} ×{k}' for c, k in double['codes'].items())}) | {ms(double['second'])} | "
        f"{double['second']['rate']:,.0f} req/s | | | |",
        f"| 秒批 `POST /api/applications/cases` (DMN decides, case completed in the request) "
        f"| {ms(instant['instant'])} | {instant['instant']['rate']:,.0f} req/s "
        f"| bare insert: {ms(instant['bare'])} "
        f"| {instant['instant']['p95'] / instant['bare']['p95']:.1f}× (p95) | p95 < 100 ms |",
        f"| `GET /workbench/?queue=accept` page 1 | {ms(q['page 1'])} | "
        f"| bare indexed lookup view: {ms(ref)} "
        f"| {q['page 1']['p95'] / ref['p95']:.1f}× (p95) | p95 < 150 ms |",
        f"| `GET /workbench/?queue=accept&page={deep}` | {ms(q[f'page {deep}'])} | | | "
        f"{q[f'page {deep}']['p95'] / ref['p95']:.1f}× | p95 < 150 ms |",
        f"| `GET /api/applications/tasks?queue=accept` | {ms(q['API page 1'])} | | | "
        f"{q['API page 1']['p95'] / ref['p95']:.1f}× | p95 < 150 ms |",
        f"| `GET /api/applications/tasks?queue=accept&page={deep}` | {ms(q[f'API page {deep}'])} | | | "
        f"{q[f'API page {deep}']['p95'] / ref['p95']:.1f}× | p95 < 150 ms |",
        "",
        f"Queries per request: API submit {submit['queries']}, 秒批 submit {instant['queries']}; "
        "workbench page "
        + ", ".join(f"{n} at page size {s}" for s, n in queue["queries"]["page"].items())
        + "; tasks API "
        + ", ".join(f"{n} at page size {s}" for s, n in queue["queries"]["API"].items())
        + " (constant: no N+1).",
        "",
        "EXPLAIN of a queue page's queries (the narrow id page, first and deep; then that page's rows):",
        "",
        "```",
        *(f"-- {name}\n{plan}" for name, plan in queue["explain"].items()),
        "```",
    ]
    return "\n".join(lines)


def submit_rounds(vendor: str, client, base: dict, args, rng: random.Random) -> int:
    """``--submit-rounds N``: the submit and the 秒批 submit, N rounds of ``--requests`` each beside the
    same-run bare insert; per round the wall-clock medians and bare ÷ submit, and the same from the
    CPU time of this thread (see ``alternate``); then the medians of the rounds. Prints only (the
    "Submit path" section of docs/benchmarks.md is written from it by hand)."""
    wall, cpu_ratios, instant_wall, instant_cpu = [], [], [], []
    for r in range(args.submit_rounds):
        cpu: dict[str, list[float]] = {}
        submit = measure_submit(client, base, args.requests, rng, tag=f"r{r}", cpu=cpu)
        cpu_i: dict[str, list[float]] = {}
        instant = measure_instant(client, base, args.requests, rng, tag=f"r{r}", cpu=cpu_i)
        bare, api = submit["bare"]["p50"], submit["api"]["p50"]
        c_bare, c_api = (statistics.median(cpu[k]) * 1e3 for k in ("bare", "api"))
        wall.append(bare / api)
        cpu_ratios.append(c_bare / c_api)
        instant_wall.append(instant["bare"]["p50"] / instant["instant"]["p50"])
        instant_cpu.append(statistics.median(cpu_i["bare"]) / statistics.median(cpu_i["instant"]))
        inst = instant["instant"]["p50"], instant["bare"]["p50"]
        print(
            f"{vendor} round {r + 1}: submit {api:.2f} ms, bare {bare:.2f} ms, ratio {wall[-1]:.3f} "
            f"(CPU {c_api:.2f} / {c_bare:.2f} ms, {cpu_ratios[-1]:.3f}); "
            f"秒批 {inst[0]:.2f} ms, bare {inst[1]:.2f} ms, ratio {instant_wall[-1]:.3f} "
            f"(CPU {instant_cpu[-1]:.3f}); statements {submit['queries']} / 秒批 {instant['queries']}; "
            f"load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    med = statistics.median
    print(
        f"{vendor}: median of {len(wall)} rounds: ratio {med(wall):.3f} (min {min(wall):.3f}, max "
        f"{max(wall):.3f}); CPU ratio {med(cpu_ratios):.3f}; "
        f"秒批 {med(instant_wall):.3f} (CPU {med(instant_cpu):.3f})"
    )
    return 0


def run(args) -> int:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    call_command("migrate", verbosity=0)
    setup_test_environment(debug=False)
    settings.DEBUG = False
    install_urlconf()
    rng = random.Random(2026)
    vendor = connection.vendor
    print(f"{vendor}: building the demo ...", flush=True)
    base = build_base()
    print(f"{vendor}: bulk-loading {args.cases:,} cases ...", flush=True)
    load = bulk_load(args.cases, args.open_share, base["busy"])
    citizen = get_user_model().objects.get(username="citizen")
    clerk = get_user_model().objects.get(username="clerk")
    applicant = Client()
    applicant.force_login(citizen)
    official = Client()
    official.force_login(clerk)

    if args.submit_rounds:
        return submit_rounds(vendor, applicant, base, args, rng)
    print(f"{vendor}: submit ...", flush=True)
    submit = measure_submit(applicant, base, args.requests, rng)
    double = measure_page_double_submit(applicant, citizen, base, min(args.requests, 100))
    print(f"{vendor}: 秒批 ...", flush=True)
    instant = measure_instant(applicant, base, args.requests, rng)
    print(f"{vendor}: queue ...", flush=True)
    queue = measure_queue(official, args.requests, rng)
    block = report(vendor, args, base, load, submit, double, instant, queue)
    print(block)
    print("\n".join(queue["sql"]))
    if not args.no_write:
        print("wrote", write_section(section=SECTION, key=f"applications:{vendor}", block=block, intro=INTRO))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases to bulk-load (default 1,000,000)")
    parser.add_argument("--open-share", type=float, default=0.07, help="share of open cases (default 0.07)")
    parser.add_argument("--requests", type=int, default=300, help="timed requests per path (default 300)")
    parser.add_argument("--no-write", action="store_true", help="Print only; leave docs/benchmarks.md alone.")
    parser.add_argument(
        "--submit-rounds",
        type=int,
        default=0,
        help="only the submit paths, this many rounds, printed (issue 9 §9's same-run ratios)",
    )
    args = parser.parse_args()

    return run_isolated("applications", run, args)


if __name__ == "__main__":
    raise SystemExit(main())
