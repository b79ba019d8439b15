"""Wallet (证照夹) benchmark: the wallet page of a holder with 200 licences beside a bare view.

    .venv/bin/python bench/bench_wallet.py [--licences 200] [--requests 200]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/bench_wallet.py

Builds the identity demo in a throwaway database (``benchkit.run_isolated``), issues
``--licences`` licences to the demo citizen 张三 (half his own, half the demo enterprise's, whose
agent he is made), then times through the Django test client (full middleware, session
authentication), alternated in the same run:

1. ``GET /wallet/`` as 张三 (every licence listed);
2. ``GET /wallet/<pk>/`` (one licence, its claims decrypted and masked);
3. ``POST /wallet/<pk>/show/`` (亮证: a presentation, its one-time token and the QR SVG);
4. an empty page of the site (base.html only) and a bare view answering one indexed lookup
   with a tiny template, the same middleware: the references.

Counts the queries of the wallet page at 1 and at ``--licences`` licences (constant: no N+1).
Writes the figures into the "## Wallet (证照夹)" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import statistics
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchkit import pct, run_isolated, write_section  # noqa: E402 — after the path set-up

SECTION = "## Wallet (证照夹)"
INTRO = (
    "Run `bench/bench_wallet.py` (SQLite) and with `DATABASE_URL` (PostgreSQL). The limit it is "
    "compared with is a bare signed-in view measured in the same run."
)


def bare(request):
    """One indexed lookup and a one-line template: the reference for a signed-in page."""
    from django.http import HttpResponse
    from django.template import engines

    from yiwang.identity.models import User

    name = User.objects.filter(pk=request.user.pk).values_list("username", flat=True).first()
    template = engines["django"].from_string("<!DOCTYPE html><title>x</title><p>{{ name }}</p>")
    return HttpResponse(template.render({"name": name}, request))


def bare_page(request):
    """The site's page chrome (base.html: header, menu, language and large-text switches) with
    one line of content: what any page of the site costs before its own content."""
    from django.http import HttpResponse
    from django.template import engines

    template = engines["django"].from_string(
        '{% extends "core/base.html" %}{% block content %}<p>{{ user.username }}</p>{% endblock %}'
    )
    return HttpResponse(template.render({}, request))


def install_urlconf() -> None:
    from django.conf import settings
    from django.urls import clear_url_caches, include, path

    module = types.ModuleType("bench_wallet_urls")
    module.urlpatterns = [
        path("bench/bare", bare),
        path("bench/bare-page", bare_page),
        path("", include(settings.ROOT_URLCONF)),
    ]
    sys.modules[module.__name__] = module
    settings.ROOT_URLCONF = module.__name__
    clear_url_caches()


def stats(values: list[float]) -> dict:
    return {"p50": statistics.median(values) * 1e3, "p95": pct(values, 0.95) * 1e3, "n": len(values)}


def issue(count: int):
    from django.utils import timezone

    from yiwang.identity import demo as identity_demo
    from yiwang.identity.models import Department, Enterprise, EnterpriseAgent, Person, User
    from yiwang.licences import services
    from yiwang.licences.models import LicenceType

    identity_demo.build()
    services.licence_types_sync(actor="bench")
    citizen = User.objects.get(username="citizen")
    person = Person.objects.get(user=citizen)
    enterprise = Enterprise.objects.filter(source=Enterprise.Source.REGISTER).order_by("pk").first()
    EnterpriseAgent.objects.get_or_create(
        enterprise=enterprise,
        person=person,
        defaults={
            "role": EnterpriseAgent.Role.AGENT,
            "valid_until": timezone.localdate() + dt.timedelta(days=30),
        },
    )
    gat = Department.objects.filter(code__endswith="-GAT").order_by("code").first()
    scjg = Department.objects.get(code="610100-SCJG")
    dog, business = (
        LicenceType.objects.get(code="dog-registration"),
        LicenceType.objects.get(code="business-licence"),
    )
    t0 = time.perf_counter()
    first = None
    for n in range(count):
        if n % 2 == 0:
            lic = services.licence_issue(
                licence_type=dog, holder=person, department=gat, claims={"dog": f"犬只{n}"}, actor="bench"
            )
        else:
            lic = services.licence_issue(
                licence_type=business,
                holder=enterprise,
                department=scjg,
                claims={"business_scope": f"经营{n}"},
                actor="bench",
            )
        first = first or lic
    return citizen, first, time.perf_counter() - t0


def count_queries(client, path: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


def measure(client, licence, requests: int) -> dict:
    paths = {
        "wallet": lambda: client.get("/wallet/"),
        "licence": lambda: client.get(f"/wallet/{licence.pk}/"),
        "present": lambda: client.post(f"/wallet/{licence.pk}/show/", {"disclose": ["owner", "dog"]}),
        "bare_page": lambda: client.get("/bench/bare-page"),
        "bare": lambda: client.get("/bench/bare"),
    }
    for call in paths.values():  # warm up
        assert call().status_code == 200
    times = {name: [] for name in paths}
    for _ in range(requests):
        for name, call in paths.items():
            t = time.perf_counter()
            response = call()
            times[name].append(time.perf_counter() - t)
            assert response.status_code == 200, (name, response.status_code)
    return {name: stats(values) for name, values in times.items()}


def report(vendor: str, args, figures: dict, queries: dict, issue_seconds: float, held: int) -> str:
    w, b = figures["wallet"], figures["bare"]
    lines = [
        f"### {vendor} ({time.strftime('%Y-%m-%d')}, "
        f"Python {platform.python_version()}, {platform.machine()})",
        "",
        f"张三 holds {held} licences (his own and an enterprise's); {args.requests} requests per path, "
        "alternated in one run through the test client.",
        "",
        "| path | p50 ms | p95 ms | × bare p50 |",
        "|---|---:|---:|---:|",
    ]
    names = {
        "wallet": f"`GET /wallet/` ({held} licences)",
        "licence": "`GET /wallet/<pk>/` (claims decrypted, masked)",
        "present": "`POST /wallet/<pk>/show/` (亮证 + QR SVG)",
        "bare_page": "empty page of the site (base.html chrome only)",
        "bare": "bare view (one lookup, tiny template)",
    }
    for key, label in names.items():
        f = figures[key]
        lines.append(f"| {label} | {f['p50']:.2f} | {f['p95']:.2f} | {f['p50'] / b['p50']:.1f} |")
    lines += [
        "",
        f"Wallet page queries: {queries['one']} with 1 licence, {queries['many']} with {held} "
        "(constant: no N+1). "
        f"Issuing the {held} licences took {issue_seconds:.2f} s ({issue_seconds / held * 1e3:.2f} ms each). "
        f"The wallet page costs {w['p50'] - b['p50']:.2f} ms more than the bare view at the median, "
        f"{w['p50'] - figures['bare_page']['p50']:.2f} ms more than an empty page of the site.",
    ]
    return "\n".join(lines)


def run(args) -> int:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    call_command("migrate", verbosity=0)
    setup_test_environment(debug=False)
    settings.DEBUG = False
    install_urlconf()
    vendor = connection.vendor
    print(f"{vendor}: issuing {args.licences} licences ...", flush=True)
    citizen, first, issue_seconds = issue(1)
    client = Client()
    client.force_login(citizen)
    one = count_queries(client, "/wallet/")
    _c, _f, more_seconds = issue(args.licences - 1)
    many = count_queries(client, "/wallet/")
    from yiwang.licences.selectors import licences_for_user

    held = licences_for_user(citizen).count()
    print(f"{vendor}: timing ...", flush=True)
    figures = measure(client, first, args.requests)
    block = report(vendor, args, figures, {"one": one, "many": many}, issue_seconds + more_seconds, held)
    print(block)
    if not args.no_write:
        print("wrote", write_section(section=SECTION, key=f"wallet:{vendor}", block=block, intro=INTRO))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--licences", type=int, default=200, help="licences the holder has (default 200)")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per path (default 200)")
    parser.add_argument("--no-write", action="store_true", help="Print only; leave docs/benchmarks.md alone.")
    return run_isolated("wallet", run, parser.parse_args())


if __name__ == "__main__":
    raise SystemExit(main())
