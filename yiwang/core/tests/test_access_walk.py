"""Walk the access table (``access_table.py``) on demo data as every demo persona.

The demo is built once for the module with the demo builders (a smaller catalog and fewer cases
than ``yiwang demo``, the same accounts and kinds of objects) and rolled back at the end; each
test runs in a savepoint of it. Every persona signs in through the real door (password, then the
TOTP code for the administrators) and opens every row with the real ids of demo objects. A row's
refused personas are refused with an id that exists; POST rows and pages that take a POST are
also posted to (with the CSRF token) by every persona they refuse, and nothing may change. No
request may answer 500. Every link an allowed page shows must work for its viewer.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
import pytest
from django.contrib import admin
from django.db import transaction
from django.test import Client
from django.test.utils import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.utils import timezone

from config.api import api as platform_api
from yiwang.core.tests import access_table as table

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
# Demo account names of the personas (the table's column names are these, except two).
ACCOUNTS = {"citizen2": "citizen2", "anonymous": None}


# --- the demo, built once ------------------------------------------------------------------


def _one(queryset, what: str):
    found = queryset.first()
    assert found is not None, f"the walk's demo has no {what}"
    return found


def _build_demo() -> dict:
    from yiwang.applications import demo as applications_demo
    from yiwang.applications.models import (
        Attachment,
        BundleCase,
        Case,
        CaseEvent,
        Decision,
        Process,
        Rectification,
        Task,
    )
    from yiwang.audit import demo as audit_demo
    from yiwang.catalog import demo as catalog_demo
    from yiwang.catalog import search
    from yiwang.catalog.models import ServiceItem
    from yiwang.identity import demo as identity_demo
    from yiwang.identity import services as identity_services
    from yiwang.identity.models import Department, EnterpriseAgent, Official, User
    from yiwang.lib.idnumbers import make_id_number
    from yiwang.licences import demo as licences_demo
    from yiwang.licences.models import Licence

    identity_demo.build()
    search.clear_caches()
    catalog_demo.build(cities=1, kinds=["SCJG"], counties=False)
    search.clear_caches()
    licences_demo.build()
    applications_demo.build(cases=40)
    agent = User.objects.get(username="agent")
    enterprise = EnterpriseAgent.objects.get(person__user=agent).enterprise
    # A delegation the agent grants (the demo grants none): 钱奶奶 may apply for the enterprise.
    elder2 = next(c for c in identity_demo.CITIZENS if c.username == "elder2")
    delegation = identity_services.delegation_grant(
        enterprise=enterprise,
        name=elder2.name,
        id_number=make_id_number(identity_demo.DEMO_COUNTY, elder2.birth, elder2.seq),
        scope=EnterpriseAgent.Scope.APPLY,
        valid_until=timezone.localdate() + dt.timedelta(days=30),
        actor=agent,
    )
    from yiwang.exchange import tracker_demo  # uses of 张三's data, questions about them

    tracker_demo.build()
    audit_demo.build()

    x = Department.objects.get(code="610100-SCJG")
    elsewhere = Department.objects.get(code="610000-SCJG")
    mine = Case.objects.filter(applicant__username="citizen")

    draft = _one(mine.filter(status=Case.Status.DRAFT).order_by("pk"), "draft of 张三")
    # one a clerk accepted (its 受理通知书 exists) and with a file: 张三's 秒批 case, in review
    # too since he is under 60, was never accepted by hand and asks for no file
    accepted = CaseEvent.objects.filter(kind=CaseEvent.Kind.DECIDED, decision=Decision.ACCEPT)
    in_review = _one(
        mine.filter(status=Case.Status.IN_REVIEW, department=x, attachments__isnull=False)
        .filter(pk__in=accepted.values("case"))
        .distinct()
        .order_by("pk"),
        "case in review, accepted, with a file",
    )
    open_tasks = Task.objects.filter(state=Task.State.OPEN, claimed_by=None)
    processed = Process.objects.filter(is_active=True, item__department=x).values("item")
    if not Attachment.objects.filter(case=draft).exists():
        from django.core.files.uploadedfile import SimpleUploadedFile

        from yiwang.applications import services

        material = draft.item.materials.filter(source="applicant").first()
        services.attachment_add(
            actor=draft.applicant,
            case=draft,
            material_id=material.pk,
            upload=SimpleUploadedFile("申请书.pdf", PDF, content_type="application/pdf"),
        )
    items = ServiceItem.objects.filter(status="published")
    wallet = _wallet_objects()
    opendata = _opendata_objects()
    return {
        **wallet,
        **opendata,
        "draft_material": _one(draft.item.materials.order_by("pk"), "material of the draft").pk,
        "item": _one(items.filter(pk__in=processed).order_by("code"), "item of X with a process").code,
        "item_elsewhere": _one(items.filter(department=elsewhere), "item outside X").code,
        "bundle": applications_demo.BUNDLE_CODE,
        "bundle_case": _one(BundleCase.objects.filter(applicant=agent), "bundle case").pk,
        "department": x.code,
        "case": in_review.number,
        "attachment": _one(Attachment.objects.filter(case=in_review), "file of the case").pk,
        "draft": f"draft-{draft.pk}",
        "draft_attachment": _one(Attachment.objects.filter(case=draft), "file of the draft").pk,
        "material": _one(draft.item.materials.filter(source="applicant"), "material").pk,
        "supplement_case": _one(mine.filter(status=Case.Status.SUPPLEMENT, department=x), "补正 case").number,
        "done_case": _one(mine.filter(status=Case.Status.COMPLETED).order_by("pk"), "completed case").number,
        "case_elsewhere": _one(
            Case.objects.filter(department=elsewhere, status=Case.Status.IN_REVIEW), "case outside X"
        ).number,
        "task_accept": _one(open_tasks.filter(department=x, role="clerk").order_by("pk"), "clerk task").pk,
        "task_review": _one(
            open_tasks.filter(department=x, role="reviewer").order_by("pk"), "review task"
        ).pk,
        "task_approve": _one(
            open_tasks.filter(department=x, role="approver").order_by("pk"), "approve task"
        ).pk,
        "task_elsewhere": _one(
            open_tasks.filter(department=elsewhere).exclude(role="applicant"), "task outside X"
        ).pk,
        "enterprise": enterprise.pk,
        "delegation": delegation.pk,
        "official": Official.objects.get(user__username="clerk").pk,
        "official_elsewhere": _one(Official.objects.filter(department=elsewhere), "official outside X").pk,
        "licence": _one(Licence.objects.filter(department=x).order_by("pk"), "licence of X").pk,
        "licence_elsewhere": _one(
            Licence.objects.filter(department__code="610100-GAT").order_by("pk"), "licence outside X"
        ).pk,
        "status_list": f"{x.code}/1",
        "rectification": _one(
            Rectification.objects.filter(department=x).order_by("state"), "rectification"
        ).pk,
        **_tracker_objects(),
        **_feedback_objects(),
    }


def _feedback_objects() -> dict:
    """张三's 12345 items of the feedback demo (a smaller month), by their state."""
    from yiwang.feedback import demo as feedback_demo
    from yiwang.feedback.models import Item

    feedback_demo.build(items=40)
    mine = Item.objects.filter(filer__username="citizen", department__code="610100-SCJG").order_by("pk")
    replied = _one(
        mine.filter(status__in=("rated", "closed"), photos__isnull=False), "rated item with a photo"
    )
    return {
        "fb_item": replied.pk,
        "fb_photo": replied.photos.first().pk,
        "fb_number": replied.number,
        "fb_open": _one(mine.filter(status="accepted"), "accepted item of 张三").pk,
        "fb_routed": _one(mine.filter(status="routed"), "routed item of 张三").pk,
        "fb_filed": _one(
            Item.objects.filter(filer__username="citizen", status="filed"), "filed item of 张三"
        ).pk,
    }


def _tracker_objects() -> dict:
    """a use of 张三's data and his open question (the tracker demo)."""
    from yiwang.exchange.models import CallLog, UseQuestion

    citizen_question = UseQuestion.objects.filter(asked_by__username="citizen", state="open")
    return {
        "data_use": _one(CallLog.objects.filter(reference="demo-tracker-1"), "use of 张三's data").pk,
        "use_question": _one(citizen_question.order_by("pk"), "open question of 张三").pk,
    }


def _opendata_objects() -> dict:
    """the open data demo, and the names its rows use."""
    from yiwang.opendata import demo as opendata_demo
    from yiwang.opendata.models import Application

    opendata_demo.build()
    pending = _one(Application.objects.filter(state="pending", applicant__username="citizen"), "application")
    return {
        "od_dataset": "610100-air-quality",
        "od_conditional": pending.dataset.name,
        "od_application": pending.pk,
        "od_organization": "610100-sthj",
        "od_theme": "transport",
    }


def _wallet_objects() -> dict:
    """张三's licence (the 免证办 demo gives him one) and a QR link of it already read once."""
    from yiwang.identity.models import User
    from yiwang.licences import presentations
    from yiwang.licences.selectors import licences_for_user

    citizen = User.objects.get(username="citizen")
    licence = _one(licences_for_user(citizen).order_by("pk"), "licence of 张三")
    shown = presentations.presentation_create(licence=licence, disclose=[], actor=citizen)
    presentations.presentation_take(token=shown.token, actor=citizen, via="link")
    return {"wallet_licence": licence.pk, "presentation": shown.token}


def _exchange_objects() -> dict:
    """The exchange's demo and the objects its rows name."""
    from yiwang.exchange import demo as exchange_demo
    from yiwang.exchange.models import AccessRequest, DataDemand, Grant, InformationSystem

    exchange_demo.build("small")
    x = exchange_demo.X
    return {
        "resource": "A01001",
        "resource_own": "B01002",
        "request_pending": _one(
            AccessRequest.objects.filter(resource__code="B01002", consumer__code=x, state="pending"),
            "request",
        ).pk,
        "grant": _one(
            Grant.objects.filter(resource__code="A01001", consumer__code=x, standing=True), "grant"
        ).pk,
        "demand": _one(DataDemand.objects.filter(department__code=x).order_by("pk"), "demand").pk,
        "system": _one(
            InformationSystem.objects.filter(department__code=exchange_demo.DATA_OFFICE), "system"
        ).pk,
    }


def _supervision_objects() -> dict:
    """The supervision demo (after the exchange's, whose A02001 it fills) at a small size."""
    from yiwang.supervision import demo as supervision_demo
    from yiwang.supervision.models import Clause, DrawPlan, Inspection, MarketEntity, SupervisionItem

    supervision_demo.build(entities=400)
    published = _one(DrawPlan.objects.filter(state="published"), "published draw")
    of_inspector = Inspection.objects.filter(
        plan=published, assignments__official__user__username="inspector"
    )
    return {
        "sup_item": _one(SupervisionItem.objects.filter(code="XA-SCJG-JC-001"), "item of X").pk,
        "sup_item_elsewhere": _one(SupervisionItem.objects.filter(code="XA-YJT-JC-001"), "item of YJT").pk,
        "sup_law": _one(Clause.objects.filter(law__code="food-safety-law"), "clause").law_id,
        "sup_clause": _one(
            Clause.objects.filter(law__code="food-safety-law", effective_until__isnull=True), "clause"
        ).pk,
        "sup_plan": published.pk,
        "sup_plan_draft": _one(DrawPlan.objects.filter(state="draft"), "draft plan").pk,
        "sup_inspection": _one(
            of_inspector.filter(state="assigned").order_by("pk"), "inspection of 吴检查"
        ).pk,
        "sup_inspection_other": _one(
            Inspection.objects.filter(plan=published)
            .exclude(pk__in=of_inspector.values("pk"))
            .order_by("pk"),
            "inspection of another inspector",
        ).pk,
        "sup_entity": _one(
            MarketEntity.objects.filter(inspections__plan=published), "drawn entity"
        ).credit_code,
        **_credit_objects(),
    }


def _credit_objects() -> dict:
    """The credit demo (built by the supervision demo's build)."""
    from yiwang.supervision.models import DishonestyEntry, RiskWarning

    entry = _one(DishonestyEntry.objects.filter(state="listed").order_by("pk"), "listed entry")
    return {
        "credit_entity": entry.entity.credit_code,
        "credit_entry": entry.pk,
        "credit_warning": _one(
            RiskWarning.objects.filter(department__code="610100-SCJG", state="dispatched").order_by("pk"),
            "open warning of X",
        ).pk,
    }


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo ids; the data live in a transaction rolled back after the module."""
    from yiwang.catalog import search

    with (
        tempfile.TemporaryDirectory() as var,
        override_settings(AUDIT_SIGNING_KEY_FILE=Path(var) / "audit.pem"),
        django_db_blocker.unblock(),
    ):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield {**_build_demo(), **_exchange_objects(), **_supervision_objects()}
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            search.clear_caches()


# --- signing in as a persona -----------------------------------------------------------------


def _csrf(client: Client) -> str:
    return client.cookies["csrftoken"].value


def sign_in(persona: str, ids: dict) -> tuple[Client, str]:
    """A client signed in as ``persona`` through /login (and /login/code for administrators),
    acting for the enterprise when the persona is the agent; and where sign-in landed."""
    from yiwang.identity import demo as identity_demo
    from yiwang.identity import services as identity_services

    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.get("/login")
    if persona == "anonymous":
        return client, ""
    response = client.post(
        "/login",
        {"username": persona, "password": identity_demo.DEMO_PASSWORD, "csrfmiddlewaretoken": _csrf(client)},
    )
    assert response.status_code == 302, (persona, response.status_code)
    if response["Location"] == "/login/code":
        code = pyotp.TOTP(identity_services.DEMO_TOTP_SECRET).now()
        response = client.post("/login/code", {"code": code, "csrfmiddlewaretoken": _csrf(client)})
        assert response.status_code == 302, (persona, response.status_code)
    landing = response["Location"]
    if persona == "agent":
        moved = client.post(
            "/account/act-as", {"enterprise": ids["enterprise"], "csrfmiddlewaretoken": _csrf(client)}
        )
        assert moved.status_code == 302
    return client, landing


# --- outcomes ----------------------------------------------------------------------------------


def _drain(response) -> None:
    """Read a streamed response (a file) to its end, which closes it the test client's way
    (``response.close()`` would also close the database connection of the walk's transaction)."""
    if response.streaming:
        b"".join(response.streaming_content)


def outcome(response) -> str:
    status = response.status_code
    if status in (301, 302, 303):
        return (
            table.LOGIN if urlsplit(response["Location"]).path in ("/login", "/admin/login/") else table.MOVED
        )
    return {200: table.OK, 201: table.OK, 204: table.OK}.get(status, str(status))


def _fill(text: str, ids: dict) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(ids[m[1]]), text)


def _data(row: table.Row, ids: dict) -> dict:
    return {k: _fill(v, ids) if isinstance(v, str) else v for k, v in row.data.items()}


def fingerprint() -> tuple:
    """What a refused POST must leave as it was: every accountable write is audited, and the
    objects the POST rows aim at are compared besides."""
    from django.db.models import Count, Max

    from yiwang.applications.models import (
        Attachment,
        Case,
        FormDefinition,
        Process,
        Rating,
        Rectification,
        Task,
    )
    from yiwang.audit.models import AuditEntry
    from yiwang.identity.models import EnterpriseAgent, Person, RoleGrant

    def summary(model, *fields):
        return tuple(model.objects.aggregate(n=Count("pk"), **{f: Max(f) for f in fields}).values())

    return (
        summary(AuditEntry),
        summary(Case, "updated_at"),
        list(Task.objects.order_by("pk").values_list("pk", "state", "claimed_by")),
        summary(Attachment),
        summary(Rating),
        list(Rectification.objects.order_by("pk").values_list("state", "reply")),
        list(RoleGrant.objects.order_by("pk").values_list("official", "role")),
        list(EnterpriseAgent.objects.order_by("pk").values_list("valid_until", "revoked_at")),
        list(Person.objects.order_by("pk").values_list("realname_level")),
        summary(Process),
        summary(FormDefinition, "updated_at"),
    )


def send(client: Client, row: table.Row, ids: dict, method: str | None = None):
    path = _fill(row.path, ids) + (f"?{row.query}" if row.query else "")
    method = method or row.method
    if method == "GET":
        return client.get(path)
    token = client.cookies["csrftoken"].value if "csrftoken" in client.cookies else ""
    data = _data(row, ids)
    if path.startswith("/api/"):
        if path.endswith("/materials"):
            from django.core.files.uploadedfile import SimpleUploadedFile

            upload = SimpleUploadedFile("申请书.pdf", PDF, content_type="application/pdf")
            return client.post(path, {"material": ids["material"], "file": upload}, HTTP_X_CSRFTOKEN=token)
        return client.generic(
            method,
            path,
            data=__import__("json").dumps(data),
            content_type="application/json",
            HTTP_X_CSRFTOKEN=token,
        )
    return client.post(path, {**data, "csrfmiddlewaretoken": token})


ROWS = table.PAGES + table.API + table.ADMIN_SITE
LINKS_PER_ROUTE = 3  # links checked per route name and persona (a queue lists many tasks)
PUBLIC_NAMES = {r.name for r in table.PAGES if set(r.outcomes.values()) == {table.OK}}


class _Links(HTMLParser):
    """The page's internal links (``a href``) and the targets of its POST forms (buttons)."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path
        self.found: list[str] = []
        self.posts: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        href = attrs.get("href") or ""
        if tag == "a" and href.startswith("/") and not href.startswith("//"):
            self.found.append(href.split("#")[0])
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self.posts.append(urlsplit(attrs.get("action") or self.path).path)


def links_of(response, path: str) -> tuple[list[str], list[str]]:
    if not response.get("Content-Type", "").startswith("text/html"):
        return [], []
    parser = _Links(path)
    parser.feed(response.content.decode())
    return parser.found, parser.posts


def check_buttons(persona: str, posts: set[str], ids: dict) -> list[tuple]:
    """A form a page shows its viewer must post somewhere the table lets them post."""
    rows = {_fill(r.path, ids): r for r in table.PAGES}
    refused = {table.LOGIN, table.DENIED, table.HIDDEN}
    return [
        ("button", path, rows[path].outcomes[persona])
        for path in sorted(posts)
        if path in rows and rows[path].outcomes[persona] in refused
    ]


def check_links(client: Client, persona: str, links: set[str], walked: set[str]) -> list[tuple]:
    """Every link a page shows its viewer must work for them: no 403, 404 or 500, and for a
    signed-in viewer no sign-in page either."""
    broken, per_route = [], {}
    for href in sorted(links - walked):
        path = urlsplit(href).path
        if path.startswith(("/static/", "/media/")):
            continue
        try:
            name = resolve(path).view_name
        except Resolver404:
            broken.append(("link", href, "no such route"))
            continue
        if name in PUBLIC_NAMES and persona != "anonymous":
            continue  # a public page answers everyone alike: checked once, for the visitor
        per_route[name] = per_route.get(name, 0) + 1
        if per_route[name] > LINKS_PER_ROUTE:
            continue
        response = client.get(href)
        _drain(response)
        got = outcome(response)
        allowed = {table.OK, table.MOVED} | ({table.LOGIN} if persona == "anonymous" else set())
        if got not in allowed:
            broken.append(("link", href, got))
    return broken


@pytest.mark.parametrize("persona", table.PERSONAS)
def test_every_row_answers_each_persona_as_the_table_says(demo, persona):
    client, landing = sign_in(persona, demo)
    wrong, links, posts, walked = [], set(), set(), set()
    if landing:  # sign-in lands where the persona's work is, on a page they may open
        response = client.get(landing)
        if response.status_code != 200:
            wrong.append(("landing", landing, table.OK, response.status_code))
    for row in ROWS:
        expected = row.outcomes[persona]
        if row.method != "GET":
            if expected is not None and expected not in (table.OK, table.MOVED):
                before = fingerprint()
                got = outcome(send(client, row, demo))
                if got != expected or fingerprint() != before:
                    wrong.append(
                        (
                            row.method,
                            _fill(row.path, demo),
                            expected,
                            got,
                            "changed" if got == expected else "",
                        )
                    )
            continue
        response = send(client, row, demo)
        _drain(response)
        got = outcome(response)
        walked.add(_fill(row.path, demo) + (f"?{row.query}" if row.query else ""))
        if got == table.OK:
            found, forms = links_of(response, _fill(row.path, demo))
            links.update(found)
            posts.update(forms)
        if got != expected:
            wrong.append(("GET", _fill(row.path, demo), expected, got))
        if row.post and expected not in (table.OK, table.MOVED):
            before = fingerprint()
            got = outcome(send(client, row, demo, method="POST"))
            if got != expected or fingerprint() != before:
                wrong.append(
                    ("POST", _fill(row.path, demo), expected, got, "changed" if got == expected else "")
                )
    wrong += check_links(client, persona, links, walked)
    wrong += check_buttons(persona, posts, demo)
    assert not wrong, f"{persona}:\n" + "\n".join(" ".join(map(str, w)) for w in wrong)


# --- every route has a row ------------------------------------------------------------------------


def _walk(patterns, namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, ns)
        elif isinstance(p, URLPattern) and p.name:
            yield f"{namespace}{p.name}"


def test_the_table_has_a_row_for_every_named_page_and_every_api_operation():
    named = {n for n in _walk(get_resolver().url_patterns) if not n.startswith(("admin:", "api:"))}
    assert {r.name for r in table.PAGES} == named
    operations = set()
    for prefix, router in platform_api._routers:
        for path, view in router.path_operations.items():
            for operation in view.operations:
                for method in operation.methods:
                    operations.add(f"{method} /api/{prefix.strip('/')}{path}".replace("/api//", "/api/"))
    assert {r.name for r in table.API} == operations
    registered = {f"{m._meta.app_label}/{m._meta.model_name}" for m in admin.site._registry}
    assert set(table.ADMIN_MODELS) == registered
    for row in ROWS:
        assert set(row.outcomes) == set(table.PERSONAS), row.name
    assert len(table.as_markdown().splitlines()) == len(ROWS) + 2
