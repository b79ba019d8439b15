"""Response headers and what pages load (issue 8, section 7).

* Every page carries a Content-Security-Policy that allows no inline script, and no rendered
  page has an inline script, an inline event handler or a source off the platform.
* ``/api/docs`` is served entirely from the platform (django-ninja's Swagger UI files) and
  names its language.
* Answers that show personal data are ``Cache-Control: no-store``.
* ``HEAD`` is answered wherever ``GET`` is: walked over every route of the resolver and every
  GET operation of the API.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.urls import URLPattern, URLResolver, get_resolver

from config.api import api
from yiwang.applications.models import Attachment
from yiwang.core.tests import test_bad_input as sweep
from yiwang.identity.models import Official

pytestmark = pytest.mark.django_db

# The bad-input sweep's world: every kind of page has something real to show.
_throwaway_signing_key, little_catalog, item_online = (
    sweep._throwaway_signing_key,
    sweep.little_catalog,
    sweep.item_online,
)
app_world, as_persona = sweep.app_world, sweep.as_persona

# A source off the platform: an absolute or scheme-relative URL.
OFF_SITE = r"""["']?\s*(?:https?:)?//"""
FORBIDDEN = {
    "external script": re.compile(r"<script\b[^>]*\bsrc=" + OFF_SITE, re.I),
    "external stylesheet or icon": re.compile(r"<link\b[^>]*\bhref=" + OFF_SITE, re.I),
    "external image or frame": re.compile(
        r"<(?:img|iframe|source|embed|object)\b[^>]*\b(?:src|data)=" + OFF_SITE, re.I
    ),
    "external url() in a style": re.compile(r"url\(\s*" + OFF_SITE, re.I),
    "@import": re.compile(r"@import\b", re.I),
    "inline script": re.compile(
        r"<script\b(?![^>]*\bsrc=)(?![^>]*\btype=[\"']?application/(?:ld\+)?json)[^>]*>", re.I
    ),
    "inline event handler": re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I),
    "javascript: URL": re.compile(r"""(?:href|src|action)=["']?\s*javascript:""", re.I),
    "inline style element": re.compile(r"<style\b", re.I),
    "style attribute": re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I),
}


def drain(response) -> bytes:
    """The body, read to the end. A streamed response (a file) is closed by the test client once
    it is read; closing it by hand would close the test's database connection on PostgreSQL."""
    return b"".join(response.streaming_content) if response.streaming else response.content


def _problems(html: str) -> list[str]:
    return [f"{what}: {m.group(0)[:120]}" for what, rx in FORBIDDEN.items() for m in rx.finditer(html)]


def _pages(world, official_pk: int) -> dict[str, list[str]]:
    """Persona → pages it can open, covering every template family of the platform."""
    number, draft = world.open.number, f"draft-{world.draft.pk}"
    return {
        "anonymous": [
            "/",
            "/services/?q=%E9%A4%90",
            f"/services/items/{world.item.code}/",
            "/services/bundles/",
            "/services/bundles/open-restaurant/",
            "/services/departments/",
            "/services/departments/610100-SCJG/",
            "/services/themes/",
            "/services/guide/",
            "/track/",
            "/transparency/",
            "/login",
            "/register",
            "/accessibility",
            "/api/docs",
            "/admin/login/",
            "/no-such-page/",
        ],
        "citizen": [
            "/account",
            "/account/password",
            "/account/two-factor",
            "/account/enterprises/new",
            "/cases/",
            f"/cases/{number}/",
            f"/cases/{draft}/edit/",
            f"/apply/{world.item.code}/",
            f"/bundle-cases/{world.bundle_case.pk}/",
            "/notices/",
        ],
        "official_x": ["/workbench/", f"/workbench/tasks/{world.task.pk}/", f"/workbench/cases/{number}/"],
        "dept_admin": [
            "/officials",
            f"/officials/{official_pk}/grant",
            "/workbench/waits/",
            "/workbench/processes/",
            f"/workbench/processes/{world.item.code}/",
            "/workbench/rectifications/",
        ],
        "superuser": ["/admin/", "/admin/identity/official/", "/admin/applications/case/"],
    }


def test_every_page_has_a_policy_without_inline_script(client):
    for url in ("/", "/login", "/api/docs", "/admin/login/", "/no-such-page/", "/api/openapi.json"):
        policy = client.get(url)["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
        assert directives["script-src"] == "'self'", url
        assert directives["default-src"] == "'self'" and directives["object-src"] == "'none'", url
        assert directives["frame-ancestors"] == "'none'", url
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, url


def test_no_page_loads_anything_off_the_platform_or_runs_inline_script(as_persona):
    world = as_persona.world()
    official_pk = Official.objects.get(user__username="official_x").pk
    found, opened = {}, 0
    for persona, urls in _pages(world, official_pk).items():
        client = as_persona(persona)
        for url in urls:
            response = client.get(url)
            if response.status_code == 302 and url.startswith("/apply/"):  # re-opens the open draft
                response = client.get(response["Location"])
            if response.status_code == 302:  # the admin site's door is the platform's sign-in
                assert response["Location"].startswith("/login?next="), (persona, url)
                continue
            assert response.status_code in (200, 404), (persona, url, response.status_code)
            opened += response.status_code == 200
            problems = _problems(response.content.decode())
            if problems:
                found[f"{persona} {url}"] = problems
    assert found == {}
    assert opened >= 35  # the walk really rendered the pages


def test_the_platforms_own_stylesheets_load_nothing_from_elsewhere():
    for name in ("core/site.css", "catalog/catalog.css", "ninja/swagger-ui.css"):
        path = finders.find(name)
        assert path, name
        text = Path(path).read_text(encoding="utf-8")
        assert not re.search(r"url\(\s*[\"']?\s*(?:https?:)?//", text), name
        assert "@import" not in text, name


def test_api_docs_are_served_from_the_platform_with_a_language(client):
    response = client.get("/api/docs", HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200 and re.search(r'<html lang="en"', html)
    sources = re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"', html)
    assert {s.rsplit("/", 1)[-1] for s in sources} >= {
        "swagger-ui-bundle.js",
        "swagger-ui-init.js",
        "swagger-ui.css",
    }
    for source in sources:
        assert source.startswith("/static/"), source
        served = client.get(source)
        assert served.status_code == 200, source
        drain(served)
    assert "cdn" not in html.lower() and "unpkg" not in html.lower() and "jsdelivr" not in html.lower()


@pytest.mark.parametrize(
    ("persona", "url"),
    [
        ("citizen", "/account"),
        ("citizen", "/cases/"),
        ("citizen", "/cases/{number}/"),
        ("citizen", "/notices/"),
        ("citizen", "/api/applications/cases"),
        ("citizen", "/api/applications/notices"),
        ("citizen", "/api/identity/me"),
        ("official_x", "/workbench/"),
        ("official_x", "/workbench/tasks/{task}/"),
        ("official_x", "/api/applications/tasks"),
        ("dept_admin", "/officials"),
    ],
)
def test_answers_with_personal_data_are_not_stored(as_persona, persona, url):
    world = as_persona.world()
    url = url.format(number=world.open.number, task=world.task.pk, last4=world.last4)
    response = as_persona(persona).get(url)
    assert response.status_code == 200, (url, response.status_code)
    cache_control = {d.strip() for d in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= cache_control, (url, response["Cache-Control"])


@pytest.mark.parametrize("url", ["/track/", "/api/applications/track"])
def test_the_signed_out_progress_answer_is_not_stored(as_persona, url):
    world = as_persona.world()
    data = {"number": world.open.number, "id_last4": world.last4}
    client = as_persona("anonymous")
    response = (
        client.post(url, data, content_type="application/json")
        if url.startswith("/api/")
        else client.post(url, data)
    )
    assert response.status_code == 200, (url, response.status_code)
    cache_control = {d.strip() for d in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= cache_control, (url, response["Cache-Control"])


def test_a_file_download_is_not_stored_either(as_persona):
    world = as_persona.world()
    attachment = Attachment.objects.filter(case=world.open).first()
    response = as_persona("citizen").get(f"/cases/{world.open.number}/files/{attachment.pk}/")
    drain(response)
    assert "no-store" in response["Cache-Control"]


# --- HEAD wherever GET ---------------------------------------------------------------------------


def _routes(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            route = str(p.pattern)
            if route.startswith(("admin/", "api/")):
                continue  # the admin's own views are Django's; the API is walked from its schema
            yield from _routes(p.url_patterns, prefix + route)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def _fill(route: str, world, official_pk: int) -> str:
    """A route with real ids of the world in its parameters."""
    attachment = Attachment.objects.filter(case=world.open).first()
    values = {
        "apply-bundle/<slug:code>/": "world-bundle",
        "services/bundles/<slug:code>/": "open-restaurant",
        "services/departments/<str:code>/": "610100-SCJG",
        "bundle-cases/<int:pk>/": str(world.bundle_case.pk),
        "bundle-cases/<int:pk>/licences/": str(world.bundle_case.pk),
        "bundle-cases/<int:pk>/licences/<int:material>/withdraw/": str(world.bundle_case.pk),
        "workbench/tasks/<int:pk>/": str(world.task.pk),
        "cases/<str:number>/files/<int:pk>/": str(attachment.pk),
        "cases/<str:number>/materials/<int:pk>/remove/": str(attachment.pk),
        "officials/<int:pk>/<slug:action>": str(official_pk),
        # a stranger's enterprise and delegation: HEAD must answer as GET does (404 or 405)
        "account/enterprises/<int:pk>/delegate": "1",
        "account/delegations/<int:pk>/revoke": "1",
    }
    path = route
    for name, value in (
        ("<str:code>", world.item.code),
        ("<str:number>", world.open.number),
        ("<slug:action>", "grant"),
        ("<int:version>", "1"),
        ("<str:kind>", "bpmn"),
        ("<int:number>", "1"),  # a status list (licences)
        ("<str:pk>", "1"),  # a licence of a department (licences)
        ("<str:token>", "AAAAAAAAAAAAAAAA"),  # no such QR link: a real one is read once, by the GET
        ("<int:material>", "1"),
    ):
        path = path.replace(name, value)
    if "<int:pk>" in path or "<slug:code>" in path:
        path = re.sub(r"<(?:int:pk|slug:code)>", values.get(route, "1"), path)
    # any other parameter: "1" (HEAD must answer as GET does, found or not)
    return "/" + re.sub(r"<[^>]+>", "1", path)


def _api_get_urls(world) -> list[str]:
    schema = api.get_openapi_schema()
    values = {
        "code": world.item.code,
        "number": world.open.number,
        "draft_id": f"draft-{world.draft.pk}",
        "task_id": str(world.task.pk),
        "leaf_index": "0",
    }
    urls = []
    for path, operations in schema["paths"].items():
        if "get" not in operations:
            continue
        query = [
            p for p in operations["get"].get("parameters", []) if p["in"] == "query" and p.get("required")
        ]
        params = {"number": world.open.number, "id_last4": world.last4, "start": "0", "end": "0"}
        params |= {"tree_size": "1", "first": "1", "second": "1"}
        url = re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "1"), path)
        if query:
            url += "?" + "&".join(f"{p['name']}={params.get(p['name'], '1')}" for p in query)
        urls.append(url)
    return urls


@pytest.mark.parametrize("persona", ["anonymous", "citizen", "official_x", "dept_admin", "superuser"])
def test_head_is_answered_wherever_get_is(as_persona, persona):
    world = as_persona.world()
    official_pk = Official.objects.get(user__username="official_x").pk
    urls = [_fill(r, world, official_pk) for r in _routes(get_resolver().url_patterns)]
    urls += _api_get_urls(world) + ["/admin/login/", "/admin/"]
    client = as_persona(persona)
    differ, answered = [], 0
    for url in urls:
        got = client.get(url)
        drain(got)
        head = client.head(url)
        if got.status_code != head.status_code or drain(head):
            differ.append((url, got.status_code, head.status_code, len(head.content)))
        answered += got.status_code == 200
    assert differ == []
    assert answered >= 8  # every persona really reached pages, not only refusals
