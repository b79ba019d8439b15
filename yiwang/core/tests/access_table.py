"""The access table: who may open what. One row per named URL (and per API operation), one
column per demo persona, read against the demo data (``yiwang demo``; the walk builds a smaller
demo with the same builders). ``test_access_walk.py`` signs in as every persona and walks every
row with the real ids of demo objects; a route with an id proves its check, since the refused
personas are refused with the id of an object that exists.

Personas (the demo accounts of the README, "Demo accounts"):

==============  ==============================================================================
anonymous       not signed in
citizen         张三, a citizen; owns the cases the rows name (``case``, ``draft`` …)
citizen2        李四, another citizen: must never reach 张三's cases
agent           王五, acting for the demo enterprise (chosen on "My account"); owns the bundle
elder           赵大爷, an older citizen (秒批 allowances)
clerk           受理 of 西安市市场监督管理局 (department X)
reviewer        审核 of X
approver        审批 of X
steward         data steward of 陕西省数据和政务服务局
inspector       inspector of X
auditor         auditor of 陕西省数据和政务服务局
deptadmin       department administrator of X (two-factor sign-in)
leader          leader of X (陈局长)
admin           platform superuser (two-factor sign-in)
==============  ==============================================================================

Print it as a grid: ``python -m yiwang.core.tests.access_table``.

Outcomes: ``OK`` 200; ``MOVED`` a redirect that is not to the sign-in page (the page sends the
viewer where the thing is, e.g. a draft's case page); ``LOGIN`` a redirect to sign in; ``DENIED``
403 (the viewer may not do this kind of thing at all); ``HIDDEN`` 404 (not theirs: the same answer
as for an object that does not exist); API: ``UNAUTHORIZED`` 401. ``None`` in a POST row: allowed,
not exercised by the walk (it would change the demo). No request may answer 500.

Object names in paths (``{case}`` …) are resolved from the demo data by the walk:

==================  ============================================================================
item                a published item of X with a process (食品经营许可（新办）)
item_elsewhere      a published item of 陕西省市场监督管理局 (not under X)
bundle              the 开办药店 bundle; ``bundle_case`` the agent's application of it
department          X's code
case                张三's case in review at X; ``attachment`` one of its files
draft               张三's draft (``draft-<id>``); ``draft_attachment`` one of its files
supplement_case     张三's case waiting for his 补正
done_case           张三's completed case of X (may be rated; its decision may be downloaded)
case_elsewhere      the agent's bundle case in review at 陕西省市场监督管理局 (not under X)
task_accept         an open acceptance task of X (clerk); ``task_review``, ``task_approve`` likewise
task_elsewhere      an open task of 陕西省市场监督管理局
enterprise          the agent's enterprise; ``delegation`` a delegation the agent granted
official            the clerk's official record (X); ``official_elsewhere`` one outside X
rectification       an open rectification of X
licence             a licence issued by X (the demo enterprise's); ``licence_elsewhere`` one of 西安市公安局
status_list         X's first status list (``<department code>/1``)
wallet_licence      a licence 张三 holds (证照夹); ``presentation`` a QR link of it, read once
draft_material      a material of 张三's draft's item (免证办)
data_use            a use of 张三's data (a gateway call that returned it; the tracker demo)
use_question        张三's open question about a use of 公安厅's population data
resource            a published resource of 陕西省公安厅 (A01001, the population base data; exchange)
resource_own        a published resource of 陕西省数据和政务服务局, which the steward manages (B01002)
request_pending     X's request for ``resource_own`` waiting for the steward's decision
grant               the standing grant of ``resource`` to X
demand              a data demand of X
system              an information system of 陕西省数据和政务服务局 (the steward keeps it)
od_dataset          an open dataset (西安市空气质量日报); ``od_conditional`` one open on conditions of the
                    data office, which 张三 applied for (``od_application``, pending)
od_organization     the organization of ``od_dataset``; ``od_theme`` a theme of the portal
sup_item            X's supervision item 食品经营者监督检查 (the walk's supervision demo);
                    ``sup_item_elsewhere`` one of 西安市应急管理局 (no role of X reaches it)
sup_law             the food safety law of the law library; ``sup_clause`` one of its clauses in force
sup_plan            X's published 双随机 draw; ``sup_plan_draft`` X's draft plan (public pages: 404)
sup_inspection      an inspection of ``sup_plan`` drawn for 吴检查 (``inspector``), not recorded yet;
                    ``sup_inspection_other`` one he was not drawn for
sup_entity          the credit code of an entity ``sup_plan`` drew
fb_item             张三's 12345 complaint replied by X and rated (``fb_photo`` its photo,
                    ``fb_number`` its number); ``fb_open`` his complaint X accepted and has not
                    answered; ``fb_routed`` one routed to X, not accepted; ``fb_filed`` one
                    waiting for the routing officer (a clerk of a 数据和政务服务局: no persona
                    but the admin routes)
credit_entity       the credit code of a demo entity on the serious-dishonesty list; ``credit_entry``
                    its entry (no persona represents it: repair is 404 for all)
credit_warning      an open risk warning of X (the credit demo's scan)
==================  ============================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field

PERSONAS = (
    "anonymous",
    "citizen",
    "citizen2",
    "agent",
    "elder",
    "clerk",
    "reviewer",
    "approver",
    "steward",
    "inspector",
    "auditor",
    "deptadmin",
    "leader",
    "admin",
)
SIGNED_IN = PERSONAS[1:]
PEOPLE = ("citizen", "citizen2", "agent", "elder")
OFFICIALS = ("clerk", "reviewer", "approver", "steward", "inspector", "auditor", "deptadmin", "leader")
HANDLERS = ("clerk", "reviewer", "approver")  # who processes X's cases (and sees their files)
READERS = (*HANDLERS, "leader", "deptadmin")  # X's officials who read X's cases (status, waits)

OK, MOVED, LOGIN, DENIED, HIDDEN, UNAUTHORIZED = "ok", "moved", "login", "403", "404", "401"


def expect(default: str | None, anonymous: str | None = LOGIN, **groups) -> dict[str, str | None]:
    """Outcomes by persona: ``default`` for everyone signed in, ``anonymous`` for the visitor,
    then ``groups``: ``ok=("clerk", "admin")`` gives those personas OK, and so on."""
    names = {"ok": OK, "moved": MOVED, "login": LOGIN, "denied": DENIED, "hidden": HIDDEN, "allowed": None}
    table = {p: default for p in SIGNED_IN} | {"anonymous": anonymous}
    for group, personas in groups.items():
        for persona in (personas,) if isinstance(personas, str) else personas:
            if persona not in table:
                raise ValueError(f"unknown persona {persona!r}")
            table[persona] = names[group]
    return table


PUBLIC = expect(OK, anonymous=OK)
# the supervision workbench: X's inspector, administrator and leader, and the platform admin
SUPERVISION_WORKBENCH = expect(DENIED, ok=("inspector", "deptadmin", "leader", "admin"))
# A sign-in request of the demo's single sign-on client (yiwang.identity.demo), with PKCE.
DEMO_SSO_REQUEST = (
    "response_type=code&client_id=yiwang-demo-scjg&redirect_uri=http%3A%2F%2F127.0.0.1%3A8001%2Fcallback"
    "&scope=openid+profile&state=walk&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    "&code_challenge_method=S256"
)


@dataclass(frozen=True)
class Row:
    """``name``: the URL name (or ``METHOD /api/path`` of an API operation); ``path`` with
    ``{object}`` placeholders; ``method``: what the walk sends; ``post``: also POST (with the CSRF
    token) as every persona the row refuses, and check that nothing changed."""

    name: str
    path: str
    outcomes: dict[str, str | None]
    method: str = "GET"
    post: bool = False
    data: dict = field(default_factory=dict)
    query: str = ""


PAGES: list[Row] = [
    # --- core ---
    Row("core:home", "/", PUBLIC),
    Row("core:healthz", "/healthz", PUBLIC),
    Row("core:accessibility", "/accessibility", PUBLIC),
    Row("core:care_mode", "/preferences/care-mode", expect(MOVED, anonymous=MOVED), method="POST"),
    Row(
        "catalog:region",
        "/services/region/",
        expect(MOVED, anonymous=MOVED),
        method="POST",
        data={"region": "610100"},
    ),
    Row(
        "set_language",
        "/i18n/setlang/",
        expect(MOVED, anonymous=MOVED),
        method="POST",
        data={"language": "en"},
    ),
    # --- identity ---
    Row("identity:login", "/login", PUBLIC),
    Row("identity:login_totp", "/login/code", expect(LOGIN)),  # no sign-in started: back to /login
    Row("identity:logout", "/logout", expect(None, anonymous=MOVED), method="POST"),
    Row("identity:register", "/register", PUBLIC),
    Row("identity:account", "/account", expect(OK)),
    Row(
        "identity:act_as",
        "/account/act-as",
        expect(HIDDEN, allowed="agent"),
        method="POST",
        data={"enterprise": "{enterprise}"},
    ),
    Row("identity:password_change", "/account/password", expect(OK), post=True),
    Row("identity:two_factor", "/account/two-factor", expect(OK)),
    Row("identity:verify", "/account/verify", expect(DENIED, moved=PEOPLE), post=True),  # verified: back
    Row("identity:enterprise_register", "/account/enterprises/new", expect(DENIED, ok=PEOPLE), post=True),
    Row(
        "identity:delegation_new",
        "/account/enterprises/{enterprise}/delegate",
        expect(HIDDEN, ok="agent"),
        post=True,
    ),
    Row(
        "identity:delegation_revoke",
        "/account/delegations/{delegation}/revoke",
        expect(HIDDEN, allowed="agent"),
        method="POST",
    ),
    Row(
        "identity:verify_in_person",
        "/officials/verify-identity",
        expect(DENIED, ok=("clerk", "admin")),
        post=True,
    ),
    Row("identity:officials", "/officials", expect(DENIED, ok="deptadmin", moved="admin")),
    Row(
        "identity:official_roles",
        "/officials/{official}/grant",
        expect(DENIED, ok=("deptadmin", "admin")),
        post=True,
        data={"role": "reviewer", "password": "x"},
    ),
    Row(
        "identity:official_roles",
        "/officials/{official_elsewhere}/grant",
        expect(DENIED, hidden="deptadmin", ok="admin"),
        post=True,
        data={"role": "reviewer", "password": "x"},
    ),
    # --- single sign-on (OpenID Connect provider; without a client's request the endpoints refuse) ---
    Row("oauth2_provider:oidc-connect-discovery-info", "/.well-known/openid-configuration", PUBLIC),
    Row("oauth2_provider:jwks-info", "/o/jwks/", PUBLIC),
    Row("oauth2_provider:authorize", "/o/authorize/", expect("400")),  # no client_id: the error page
    Row("oauth2_provider:authorize", "/o/authorize/", expect(OK), query=DEMO_SSO_REQUEST),  # consent page
    Row("oauth2_provider:token", "/o/token/", expect("400", anonymous="400"), method="POST"),
    Row("oauth2_provider:user-info", "/o/userinfo/", expect(UNAUTHORIZED, anonymous=UNAUTHORIZED)),
    Row("oauth2_provider:rp-initiated-logout", "/o/logout/", expect(OK, anonymous=MOVED)),
    # --- catalog (public) ---
    Row("catalog:search", "/services/", PUBLIC, query="q=食品"),
    Row("catalog:guide", "/services/guide/", PUBLIC, query="q=开饭店"),
    Row("catalog:themes", "/services/themes/", PUBLIC),
    Row("catalog:item", "/services/items/{item}/", PUBLIC),
    Row("catalog:bundles", "/services/bundles/", PUBLIC),
    Row("catalog:bundle", "/services/bundles/{bundle}/", PUBLIC),
    Row("catalog:departments", "/services/departments/", PUBLIC),
    Row("catalog:department", "/services/departments/{department}/", PUBLIC),
    # --- applications: applicants ---
    Row("applications:apply", "/apply/{item}/", expect(OK)),
    Row("applications:apply_bundle", "/apply-bundle/{bundle}/", expect(None), method="POST"),
    Row("applications:bundle_case", "/bundle-cases/{bundle_case}/", expect(HIDDEN, ok="agent"), post=True),
    Row("applications:my_cases", "/cases/", expect(OK)),
    Row("applications:case", "/cases/{case}/", expect(HIDDEN, ok=("citizen", *READERS, "admin"))),
    Row("applications:case", "/cases/{case_elsewhere}/", expect(HIDDEN, ok=("agent", "admin"))),
    Row("applications:case", "/cases/{draft}/", expect(HIDDEN, moved="citizen")),  # a draft opens its form
    Row("applications:edit", "/cases/{draft}/edit/", expect(HIDDEN, ok="citizen"), post=True),
    Row("applications:edit", "/cases/{case}/edit/", expect(HIDDEN, moved="citizen"), post=True),
    Row("applications:discard", "/cases/{draft}/delete/", expect(HIDDEN, allowed="citizen"), method="POST"),
    Row("applications:upload", "/cases/{draft}/materials/", expect(HIDDEN, allowed="citizen"), method="POST"),
    Row(
        "applications:remove_attachment",
        "/cases/{draft}/materials/{draft_attachment}/remove/",
        expect(HIDDEN, allowed="citizen"),
        method="POST",
    ),
    Row(
        "applications:file",
        "/cases/{case}/files/{attachment}/",
        expect(HIDDEN, ok=("citizen", *HANDLERS, "admin")),
    ),
    # --- 免证办 and the wallet (证照夹, 亮证): 张三's only ---
    Row(
        "applications:licence_use",
        "/cases/{draft}/licences/",
        expect(HIDDEN, allowed="citizen"),
        method="POST",
    ),
    Row(
        "applications:licence_withdraw",
        "/cases/{draft}/licences/{draft_material}/withdraw/",
        expect(HIDDEN, allowed="citizen"),
        method="POST",
    ),
    Row(
        "applications:bundle_licence_use",
        "/bundle-cases/{bundle_case}/licences/",
        expect(HIDDEN, allowed="agent"),
        method="POST",
    ),
    Row(
        "applications:bundle_licence_withdraw",
        "/bundle-cases/{bundle_case}/licences/{draft_material}/withdraw/",
        expect(HIDDEN, allowed="agent"),
        method="POST",
    ),
    Row("wallet:list", "/wallet/", expect(OK)),
    Row(
        "wallet:licence",
        "/wallet/{wallet_licence}/",
        expect(HIDDEN, ok="citizen"),
        post=True,
        data={"reveal": "1"},
    ),
    Row(
        "wallet:present",
        "/wallet/{wallet_licence}/show/",
        expect(HIDDEN, ok="citizen"),
        post=True,
        data={"disclose": "owner"},
    ),
    # The sealed PDF of the licence (licence_pdf.py): GET masked, POST full=1 identity numbers in full.
    Row(
        "licences:licence_pdf",
        "/wallet/{wallet_licence}/licence.pdf",
        expect(HIDDEN, ok="citizen"),
        post=True,
        data={"full": "1"},
    ),
    # The QR link is public and read once: the walk's was read already (410 for everyone).
    Row("wallet:presentation", "/p/{presentation}", expect("410", anonymous="410")),
    Row(
        "applications:supplement",
        "/cases/{supplement_case}/supplement/",
        expect(HIDDEN, allowed="citizen"),
        method="POST",
        data={"comment": "已补正"},
    ),
    Row(
        "applications:withdraw",
        "/cases/{case}/withdraw/",
        expect(HIDDEN, allowed="citizen"),
        method="POST",
        data={"reason": "不办了"},
    ),
    Row(
        "applications:rate",
        "/cases/{done_case}/rate/",
        expect(HIDDEN, allowed="citizen"),
        method="POST",
        data={"level": "1", "comment": "差"},
    ),
    # sealed documents: the decision for the applicant after 办结 and for X's handlers; the step
    # notices for the handlers only (documents.py)
    Row(
        "applications:document",
        "/cases/{done_case}/documents/approval/",
        expect(HIDDEN, ok=("citizen", *HANDLERS, "admin")),
    ),
    Row(
        "applications:document",
        "/cases/{case}/documents/acceptance/",
        expect(HIDDEN, ok=(*HANDLERS, "admin")),
    ),
    Row("applications:delivery", "/cases/{done_case}/delivery/", expect(HIDDEN, ok="citizen"), post=True),
    Row("applications:track", "/track/", PUBLIC),
    Row("applications:notices", "/notices/", expect(OK)),
    # --- applications: officials ---
    Row(
        "applications:workbench",
        "/workbench/",
        expect(DENIED, ok=(*HANDLERS, "leader", "deptadmin", "admin")),
    ),
    Row(
        "applications:task",
        "/workbench/tasks/{task_accept}/",
        expect(DENIED, ok=("clerk", "admin"), hidden=("reviewer", "approver")),
        post=True,
        data={"op": "claim"},
    ),
    Row(
        "applications:task",
        "/workbench/tasks/{task_review}/",
        expect(DENIED, ok=("reviewer", "admin"), hidden=("clerk", "approver")),
        post=True,
        data={"op": "claim"},
    ),
    Row(
        "applications:task",
        "/workbench/tasks/{task_approve}/",
        expect(DENIED, ok=("approver", "admin"), hidden=("clerk", "reviewer")),
        post=True,
        data={"op": "claim"},
    ),
    Row(
        "applications:task",
        "/workbench/tasks/{task_elsewhere}/",
        expect(DENIED, ok="admin", hidden=HANDLERS),
        post=True,
        data={"op": "claim"},
    ),
    Row("applications:official_case", "/workbench/cases/{case}/", expect(HIDDEN, ok=(*READERS, "admin"))),
    Row("applications:official_case", "/workbench/cases/{case_elsewhere}/", expect(HIDDEN, ok="admin")),
    Row(
        "applications:waits",
        "/workbench/waits/",
        expect(DENIED, ok=("approver", "leader", "deptadmin", "admin")),
    ),
    Row("applications:processes", "/workbench/processes/", expect(DENIED, ok=("deptadmin", "admin"))),
    Row(
        "applications:process_item",
        "/workbench/processes/{item}/",
        expect(DENIED, ok=("deptadmin", "admin")),
        post=True,
        data={"op": "form", "s-schema": "{}"},
    ),
    Row(
        "applications:process_item",
        "/workbench/processes/{item_elsewhere}/",
        expect(DENIED, ok="admin"),
        post=True,
        data={"op": "form", "s-schema": "{}"},
    ),
    Row(
        "applications:process_version",
        "/workbench/processes/{item}/v1/",
        expect(DENIED, ok=("deptadmin", "admin")),
    ),
    Row(
        "applications:process_download",
        "/workbench/processes/{item}/v1/bpmn/",
        expect(DENIED, ok=("deptadmin", "admin")),
    ),
    Row(
        "applications:process_activate",
        "/workbench/processes/{item}/v1/activate/",
        expect(DENIED, allowed=("deptadmin", "admin")),
        method="POST",
    ),
    Row(
        "applications:process_modeler",
        "/workbench/processes/{item}/modeler/",
        expect(DENIED, ok=("deptadmin", "admin")),
    ),
    Row(
        "applications:process_modeler",
        "/workbench/processes/{item_elsewhere}/modeler/",
        expect(DENIED, ok="admin"),
    ),
    Row(
        "applications:form_editor",
        "/workbench/processes/{item}/form/",
        expect(DENIED, ok=("deptadmin", "admin")),
    ),
    Row(
        "applications:form_editor", "/workbench/processes/{item_elsewhere}/form/", expect(DENIED, ok="admin")
    ),
    Row(
        "applications:rectifications",
        "/workbench/rectifications/",
        expect(DENIED, ok=("leader", "deptadmin", "admin")),
        post=True,
        data={"id": "{rectification}", "reply": "已整改"},
    ),
    # --- licences: public endpoints for verifiers, department pages ---
    Row("licences:issuer_metadata", "/.well-known/jwt-vc-issuer/licences/issuers/{department}", PUBLIC),
    Row("licences:issuer", "/licences/issuers/{department}", PUBLIC),
    Row("licences:status_list", "/licences/status/{status_list}", PUBLIC),
    Row("licences:verify", "/verify/", PUBLIC),
    Row(
        "licences:department_list", "/workbench/licences/", expect(DENIED, ok=("approver", "leader", "admin"))
    ),
    Row(
        "licences:department_licence",
        "/workbench/licences/{licence}/",
        expect(DENIED, ok=("approver", "leader", "admin")),
        post=True,
        data={"action": "suspend", "reason": "x"},
    ),
    Row(
        "licences:department_licence",
        "/workbench/licences/{licence_elsewhere}/",
        expect(DENIED, hidden=("approver", "leader"), ok="admin"),
        post=True,
        data={"action": "suspend", "reason": "x"},
    ),
    Row("licences:issue", "/workbench/licences/issue/", expect(DENIED, ok="approver")),
    Row(
        "licences:keys",
        "/workbench/licences/keys/",
        expect(DENIED, ok="deptadmin"),
        post=True,
        data={"reason": "x", "password": "x"},
    ),
    Row(
        "licences:trusted_issuers",
        "/workbench/licences/trusted-issuers/",
        expect(DENIED, ok="admin"),
        post=True,
        data={"issuer": "https://deployment.example.org/licences/issuers/X", "name": "x"},
    ),
    # --- audit ---
    Row("audit:transparency", "/transparency/", PUBLIC),
    Row(
        "audit:records",
        "/transparency/records/",
        expect(DENIED, ok=("auditor", "admin")),
        query="event=applications:case:submit",
    ),
    Row("audit:my_records", "/account/records/", expect(OK)),
    # --- exchange gateway: API keys for data stewards; the call records for a
    # department's stewards, leaders and auditors ---
    Row(
        "gateway:keys",
        "/workbench/data/gateway/",
        expect(DENIED, ok=("steward", "admin")),
        post=True,
        data={"op": "create", "name": "walk", "department": "1", "password": "x"},
    ),
    Row(
        "gateway:calls",
        "/workbench/data/gateway/calls/",
        expect(DENIED, ok=("steward", "auditor", "leader", "admin")),
    ),
    Row(
        "gateway:uses",
        "/workbench/data/gateway/uses/",
        expect(DENIED, ok=("steward", "auditor", "leader", "admin")),
    ),
    # --- the citizen's data-use record (我的数据使用记录) and the stewards' answers ---
    Row("tracker:uses", "/account/data-uses/", expect(OK)),  # below L2 / no person: why not
    Row("tracker:use", "/account/data-uses/{data_use}/", expect(HIDDEN, ok="citizen"), post=True),
    Row("tracker:questions", "/workbench/data/questions/", expect(DENIED, ok=("steward", "admin"))),
    Row(
        "tracker:question",
        "/workbench/data/questions/{use_question}/",
        expect(DENIED, hidden="steward", ok="admin"),  # the steward of 数据局 is not 公安厅's
        post=True,
    ),
]

# --- exchange: the resource catalog, requests, grants, inventories ---
EXCHANGE_OFFICIALS = expect(DENIED, ok=(*OFFICIALS, "admin"))
NOT_STEWARDS = tuple(p for p in OFFICIALS if p != "steward")
X_OFFICIALS = tuple(p for p in OFFICIALS if p not in ("steward", "auditor"))
PAGES += [
    Row("exchange:resources", "/workbench/data/", EXCHANGE_OFFICIALS, query="q=人口"),
    Row(
        "exchange:resource_new",
        "/workbench/data/resources/new/",
        expect(DENIED, ok=("steward", "admin")),
        post=True,
        data={
            "code": "C09901",
            "name": "x",
            "provider": "610000-GAT",
            "fields_text": "a | 甲 | | string | 1 |",
        },
    ),
    Row(
        "exchange:resource",
        "/workbench/data/resources/{resource}/",
        EXCHANGE_OFFICIALS,
        post=True,
        data={"action": "retire", "reason": "x"},
    ),
    Row("exchange:resource", "/workbench/data/resources/{resource_own}/", EXCHANGE_OFFICIALS),
    Row(
        "exchange:resource_edit",
        "/workbench/data/resources/{resource_own}/edit/",
        expect(DENIED, ok=("steward", "admin"), hidden=NOT_STEWARDS),
        post=True,
        data={"name": "x"},
    ),
    Row(
        "exchange:resource_edit",
        "/workbench/data/resources/{resource}/edit/",
        expect(DENIED, ok="admin", hidden=OFFICIALS),
        post=True,
        data={"name": "x"},
    ),
    Row(
        "exchange:resource_rows",
        "/workbench/data/resources/{resource_own}/rows/",
        expect(DENIED, ok=("steward", "admin"), hidden=NOT_STEWARDS),
        post=True,
    ),
    Row(
        "exchange:resource_request",
        "/workbench/data/resources/{resource}/request/",
        expect(DENIED, ok=OFFICIALS),
        post=True,
        data={"fields": "name", "purpose": "走查核验", "valid_until": "2099-01-01"},
    ),
    Row(
        "exchange:resource_grant",
        "/workbench/data/resources/{resource_own}/grant/",
        expect(DENIED, ok=("steward", "admin"), hidden=NOT_STEWARDS),
        post=True,
        data={
            "consumer": "610100-SCJG",
            "fields": "case_no",
            "purpose": "走查核验",
            "valid_until": "2099-01-01",
        },
    ),
    Row("exchange:requests", "/workbench/data/requests/", EXCHANGE_OFFICIALS),
    Row(
        "exchange:request",
        "/workbench/data/requests/{request_pending}/",
        expect(DENIED, ok=(*X_OFFICIALS, "steward", "admin"), hidden="auditor"),
        post=True,
        data={"decision": "refuse", "reason": "x"},
    ),
    Row("exchange:grants", "/workbench/data/grants/", EXCHANGE_OFFICIALS),
    Row(
        "exchange:grant",
        "/workbench/data/grants/{grant}/",
        expect(DENIED, ok=(*X_OFFICIALS, "admin"), hidden=("steward", "auditor")),
        post=True,
        data={"reason": "x", "password": "x"},
    ),
    Row(
        "exchange:systems",
        "/workbench/data/systems/",
        EXCHANGE_OFFICIALS,
        post=True,
        data={"code": "WALK-1", "name": "x"},
    ),
    Row(
        "exchange:system",
        "/workbench/data/systems/{system}/",
        EXCHANGE_OFFICIALS,
        post=True,
        data={"name": "x"},
    ),
    Row(
        "exchange:demands",
        "/workbench/data/demands/",
        EXCHANGE_OFFICIALS,
        post=True,
        data={"title": "x", "description": "x", "purpose": "走查核验"},
    ),
    Row(
        "exchange:demand",
        "/workbench/data/demands/{demand}/",
        EXCHANGE_OFFICIALS,
        post=True,
        data={"action": "close"},
    ),
    # --- the open data portal (public), applications, the steward's page, DCAT, CKAN ---
    Row("opendata:datasets", "/data/", PUBLIC, query="q=%E5%85%AC%E4%BA%A4&res_format=CSV"),
    Row("opendata:dataset", "/data/datasets/{od_dataset}/", PUBLIC),
    Row("opendata:dataset", "/data/datasets/{od_conditional}/", PUBLIC),
    Row("opendata:download", "/data/datasets/{od_dataset}/download/csv", PUBLIC),
    Row(
        "opendata:download", "/data/datasets/{od_conditional}/download/csv", expect(DENIED, anonymous=DENIED)
    ),
    Row("opendata:apply", "/data/datasets/{od_conditional}/apply/", expect(OK), post=True),
    Row("opendata:organizations", "/data/organizations/", PUBLIC),
    Row("opendata:organization", "/data/organizations/{od_organization}/", PUBLIC),
    Row("opendata:themes", "/data/themes/", PUBLIC),
    Row("opendata:theme", "/data/themes/{od_theme}/", PUBLIC),
    Row("opendata:tags", "/data/tags/", PUBLIC),
    Row("opendata:statistics", "/data/statistics/", PUBLIC),
    Row("opendata:my_data", "/data/account/", expect(OK)),
    Row(
        "opendata:steward",
        "/workbench/open-data/",
        expect(DENIED, ok=("steward", "admin")),
        post=True,
        data={"application": "{od_application}", "decision": "approve"},
    ),
    Row("opendata:catalog_ttl", "/catalog.ttl", PUBLIC),
    Row("opendata:catalog_jsonld", "/catalog.jsonld", PUBLIC),
    Row("opendata:ckan_action", "/api/3/action/package_search", PUBLIC, query="q=%E5%85%AC%E4%BA%A4"),
    Row("opendata:ckan_action_unversioned", "/api/action/status_show", PUBLIC),
    # --- supervision: the departments' workbench and the public 双随机、一公开 ---
    Row("supervision:workbench", "/workbench/supervision/", SUPERVISION_WORKBENCH),
    Row(
        "supervision:item_new",
        "/workbench/supervision/items/new",
        expect(DENIED, ok=("deptadmin", "leader")),
        post=True,
        data={"code": "WALK-1", "name": "x", "kind": "inspection", "basis": "food-safety-law:87"},
    ),
    Row(
        "supervision:item",
        "/workbench/supervision/items/{sup_item}/",
        SUPERVISION_WORKBENCH,
        post=True,
        data={"action": "confirm"},
    ),
    Row(
        "supervision:item",
        "/workbench/supervision/items/{sup_item_elsewhere}/",
        expect(DENIED, ok="admin", hidden=("inspector", "deptadmin", "leader")),
    ),
    Row(
        "supervision:laws",
        "/workbench/supervision/laws/",
        SUPERVISION_WORKBENCH,
        post=True,
        data={
            "code": "walk",
            "title": "x",
            "kind": "law",
            "effective_from": "2026-01-01",
            "clauses": "1 | x",
        },
    ),
    Row(
        "supervision:law",
        "/workbench/supervision/laws/{sup_law}/",
        SUPERVISION_WORKBENCH,
        post=True,
        data={"action": "repeal", "clause": "{sup_clause}", "effective_until": "2026-01-01"},
    ),
    Row(
        "supervision:plan_new",
        "/workbench/supervision/plans/new",
        expect(DENIED, ok=("deptadmin", "leader", "admin")),
        post=True,
        data={"title": "x"},
    ),
    Row(
        "supervision:plan",
        "/workbench/supervision/plans/{sup_plan}/",
        SUPERVISION_WORKBENCH,
        post=True,
        data={"action": "publish_results"},
    ),
    Row(
        "supervision:plan",
        "/workbench/supervision/plans/{sup_plan_draft}/",
        SUPERVISION_WORKBENCH,
        post=True,
        data={"action": "commit"},
    ),
    Row(
        "supervision:inspection",
        "/workbench/supervision/inspections/{sup_inspection}/",
        SUPERVISION_WORKBENCH,
        post=True,
        data={"result": "pass", "inspected_on": "2026-01-01"},
    ),
    Row(
        "supervision:inspection",
        "/workbench/supervision/inspections/{sup_inspection_other}/",
        expect(DENIED, ok=("deptadmin", "leader", "admin"), hidden="inspector"),
    ),
    Row("supervision:draws", "/supervision/", PUBLIC, query="q=%E6%BC%94%E7%A4%BA"),
    Row("supervision:draw", "/supervision/draws/{sup_plan}/", PUBLIC),
    Row("supervision:draw", "/supervision/draws/{sup_plan_draft}/", expect(HIDDEN, anonymous=HIDDEN)),
    Row("supervision:results", "/supervision/results/", PUBLIC),
    Row("supervision:entity", "/supervision/entities/{sup_entity}/", PUBLIC),
    # --- feedback (12345) ---
    Row("feedback:public", "/feedback/", PUBLIC, query="category=market"),
    Row("feedback:public_item", "/feedback/replies/{fb_item}/", PUBLIC),
    Row(
        "feedback:public_item", "/feedback/replies/{fb_open}/", expect(HIDDEN, anonymous=HIDDEN)
    ),  # unreplied
    Row("feedback:new", "/feedback/new/", expect(OK)),
    Row("feedback:mine", "/feedback/mine/", expect(OK)),
    Row(
        "feedback:item",
        "/feedback/items/{fb_item}/",
        expect(HIDDEN, ok=("citizen", "clerk", "leader", "admin")),
    ),
    Row("feedback:item", "/feedback/items/{fb_filed}/", expect(HIDDEN, ok=("citizen", "admin"))),
    Row(
        "feedback:photo",
        "/feedback/items/{fb_item}/photos/{fb_photo}",
        expect(HIDDEN, ok=("citizen", "clerk", "leader", "admin")),
    ),
    Row(
        "feedback:route",
        "/feedback/items/{fb_filed}/route",
        expect(HIDDEN, denied="citizen", allowed="admin"),
        method="POST",
        data={"category": "market", "department": "610100-SCJG"},
    ),
    Row(
        "feedback:accept",
        "/feedback/items/{fb_routed}/accept",
        expect(HIDDEN, denied="citizen", allowed=("clerk", "leader", "admin")),
        method="POST",
    ),
    Row(
        "feedback:transfer",
        "/feedback/items/{fb_open}/transfer",
        expect(HIDDEN, denied="citizen", allowed=("clerk", "leader", "admin")),
        method="POST",
        data={"department": "610100-GAT", "reason": "不属于本部门职责"},
    ),
    Row(
        "feedback:reply",
        "/feedback/items/{fb_open}/reply",
        expect(HIDDEN, denied="citizen", allowed=("clerk", "leader", "admin")),
        method="POST",
        data={"reply": "经查已整改完毕。"},
    ),
    Row(
        "feedback:rate",
        "/feedback/items/{fb_item}/rate",
        expect(HIDDEN, denied=("clerk", "leader", "admin"), allowed="citizen"),
        method="POST",
        data={"rating": "5"},
    ),
    Row("feedback:routing", "/workbench/feedback/routing/", expect(DENIED, ok="admin")),
    Row("feedback:queue", "/workbench/feedback/", expect(DENIED, ok=("clerk", "leader", "admin"))),
    Row(
        "feedback:rules",
        "/workbench/feedback/rules/",
        expect(DENIED, ok=("deptadmin", "admin")),
        post=True,
        data={"category": "market", "region": "610100", "department": "610100-SCJG"},
    ),
    Row("feedback:open311_discovery", "/open311/v2/discovery.json", PUBLIC),
    Row("feedback:open311_services", "/open311/v2/services.json", PUBLIC),
    Row("feedback:open311_services", "/open311/v2/services.xml", PUBLIC),
    Row("feedback:open311_service", "/open311/v2/services/market.json", PUBLIC),
    Row("feedback:open311_requests", "/open311/v2/requests.json", PUBLIC, query="status=closed"),
    Row(
        "feedback:open311_requests",
        "/open311/v2/requests.json",
        expect(DENIED, anonymous=DENIED),  # no api_key: 403 in the spec's error format
        method="POST",
        data={"service_code": "market", "lat": "34.26", "long": "108.95", "description": "路边摊卖过期食品"},
    ),
    Row("feedback:open311_request", "/open311/v2/requests/{fb_number}.xml", PUBLIC),
    # --- credit: tiers, the serious-dishonesty list, credit repair, risk warnings ---
    Row(
        "credit:entity",
        "/workbench/supervision/credit/{credit_entity}/",
        SUPERVISION_WORKBENCH,
        post=True,
        data={"action": "recompute"},
    ),
    Row("credit:warnings", "/workbench/supervision/warnings/", SUPERVISION_WORKBENCH, post=True),
    Row(
        "credit:warning",
        "/workbench/supervision/warnings/{credit_warning}/",
        SUPERVISION_WORKBENCH,
        post=True,
        data={"to": "handling"},
    ),
    Row("credit:record", "/supervision/credit/{credit_entity}/", PUBLIC),
    Row("credit:list", "/supervision/dishonesty-list/", PUBLIC, query="removed=1"),
    Row(
        "credit:repair",
        "/supervision/dishonesty-list/{credit_entry}/repair",
        expect(HIDDEN),
        post=True,
        data={"statement": "已全部整改完毕，申请信用修复。"},
    ),
]

# --- the JSON API (/api/...): anonymous callers of a signed-in operation get 401 ---

API_PUBLIC = expect(OK, anonymous=OK)
# A sign-in request of the demo's single sign-on client (yiwang.identity.demo), with PKCE.
DEMO_SSO_REQUEST = (
    "response_type=code&client_id=yiwang-demo-scjg&redirect_uri=http%3A%2F%2F127.0.0.1%3A8001%2Fcallback"
    "&scope=openid+profile&state=walk&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    "&code_challenge_method=S256"
)


def api(default, **groups):
    return expect(default, anonymous=UNAUTHORIZED, **groups)


API: list[Row] = [
    Row("GET /api/identity/me", "/api/identity/me", api(OK)),
    Row("GET /api/catalog/items", "/api/catalog/items", API_PUBLIC, query="q=食品"),
    Row("GET /api/catalog/items/{code}", "/api/catalog/items/{item}", API_PUBLIC),
    Row("GET /api/catalog/bundles", "/api/catalog/bundles", API_PUBLIC),
    Row("GET /api/catalog/bundles/{code}", "/api/catalog/bundles/{bundle}", API_PUBLIC),
    Row("GET /api/catalog/guide", "/api/catalog/guide", API_PUBLIC, query="q=开饭店"),
    Row("GET /api/audit/sth", "/api/audit/sth", API_PUBLIC),
    Row("GET /api/audit/entries", "/api/audit/entries", API_PUBLIC, query="start=0&end=5"),
    Row(
        "GET /api/audit/proof/inclusion",
        "/api/audit/proof/inclusion",
        API_PUBLIC,
        query="leaf_index=0&tree_size=2",
    ),
    Row(
        "GET /api/audit/proof/consistency",
        "/api/audit/proof/consistency",
        API_PUBLIC,
        query="first=1&second=2",
    ),
    Row("GET /api/audit/public-key", "/api/audit/public-key", API_PUBLIC),
    Row(
        "GET /api/audit/records",
        "/api/audit/records",
        api(DENIED, ok=("auditor", "admin")),
        query="event=applications:case:submit",
    ),
    Row("GET /api/audit/my-records", "/api/audit/my-records", api(OK)),
    Row("GET /api/applications/items/{code}/form", "/api/applications/items/{item}/form", api(OK)),
    Row("POST /api/applications/drafts", "/api/applications/drafts", api(None), method="POST"),
    Row(
        "GET /api/applications/drafts/{draft_id}",
        "/api/applications/drafts/{draft}",
        api(HIDDEN, ok="citizen"),
    ),
    Row(
        "PUT /api/applications/drafts/{draft_id}",
        "/api/applications/drafts/{draft}",
        api(HIDDEN, allowed="citizen"),
        method="PUT",
        data={"data": {"phone": "13912345678"}},
    ),
    Row(
        "DELETE /api/applications/drafts/{draft_id}",
        "/api/applications/drafts/{draft}",
        api(HIDDEN, allowed="citizen"),
        method="DELETE",
    ),
    Row(
        "POST /api/applications/drafts/{draft_id}/materials",
        "/api/applications/drafts/{draft}/materials",
        api(HIDDEN, allowed="citizen"),
        method="POST",
    ),
    Row(
        "GET /api/applications/drafts/{draft_id}/prereview",
        "/api/applications/drafts/{draft}/prereview",
        api(HIDDEN, ok="citizen"),
    ),
    Row(
        "POST /api/applications/drafts/{draft_id}/submit",
        "/api/applications/drafts/{draft}/submit",
        api(HIDDEN, allowed="citizen"),
        method="POST",
    ),
    Row("POST /api/applications/cases", "/api/applications/cases", api(None), method="POST"),
    Row("GET /api/applications/cases", "/api/applications/cases", api(OK)),
    Row(
        "GET /api/applications/cases/{number}",
        "/api/applications/cases/{case}",
        api(HIDDEN, ok=("citizen", *READERS, "admin")),
    ),
    Row(
        "GET /api/applications/cases/{number}",
        "/api/applications/cases/{case_elsewhere}",
        api(HIDDEN, ok=("agent", "admin")),
    ),
    Row(
        "POST /api/applications/cases/{number}/withdraw",
        "/api/applications/cases/{case}/withdraw",
        api(HIDDEN, allowed="citizen"),
        method="POST",
        data={"reason": "不办了"},
    ),
    Row(
        "POST /api/applications/cases/{number}/materials",
        "/api/applications/cases/{supplement_case}/materials",
        api(HIDDEN, allowed="citizen"),
        method="POST",
    ),
    Row(
        "POST /api/applications/cases/{number}/supplement",
        "/api/applications/cases/{supplement_case}/supplement",
        api(HIDDEN, allowed="citizen"),
        method="POST",
        data={"comment": "已补正"},
    ),
    Row(
        "POST /api/applications/cases/{number}/rating",
        "/api/applications/cases/{done_case}/rating",
        api(HIDDEN, allowed="citizen"),
        method="POST",
        data={"level": 1, "comment": "差"},
    ),
    Row(
        "POST /api/applications/track", "/api/applications/track", expect(None, anonymous=None), method="POST"
    ),
    Row(
        "GET /api/applications/tasks",
        "/api/applications/tasks",
        api(DENIED, ok=(*HANDLERS, "leader", "deptadmin", "admin")),
    ),
    Row(
        "GET /api/applications/tasks/{task_id}",
        "/api/applications/tasks/{task_accept}",
        api(HIDDEN, ok=("clerk", "admin")),
    ),
    Row(
        "GET /api/applications/tasks/{task_id}",
        "/api/applications/tasks/{task_elsewhere}",
        api(HIDDEN, ok="admin"),
    ),
    Row(
        "POST /api/applications/tasks/{task_id}/claim",
        "/api/applications/tasks/{task_accept}/claim",
        api(HIDDEN, allowed=("clerk", "admin")),
        method="POST",
    ),
    Row(
        "POST /api/applications/tasks/{task_id}/release",
        "/api/applications/tasks/{task_accept}/release",
        api(HIDDEN, allowed=("clerk", "admin")),
        method="POST",
    ),
    Row(
        "POST /api/applications/tasks/{task_id}/action",
        "/api/applications/tasks/{task_accept}/action",
        api(HIDDEN, allowed=("clerk", "admin")),
        method="POST",
        data={"decision": "accept", "comment": ""},
    ),
    Row("GET /api/applications/notices", "/api/applications/notices", api(OK)),
    # Process versions: the department's admins, as the version pages.
    Row(
        "GET /api/applications/items/{code}/processes",
        "/api/applications/items/{item}/processes",
        api(DENIED, ok=("deptadmin", "admin")),
    ),
    Row(
        "GET /api/applications/items/{code}/processes",
        "/api/applications/items/{item_elsewhere}/processes",
        api(DENIED, ok="admin"),
    ),
    Row(
        "POST /api/applications/items/{code}/processes",
        "/api/applications/items/{item}/processes",
        api(DENIED, allowed=("deptadmin", "admin")),
        method="POST",
    ),
    Row(
        "GET /api/applications/items/{code}/processes/{version}",
        "/api/applications/items/{item}/processes/1",
        api(DENIED, ok=("deptadmin", "admin")),
    ),
    Row(
        "GET /api/applications/items/{code}/processes/{version}/{kind}",
        "/api/applications/items/{item}/processes/1/bpmn",
        api(DENIED, ok=("deptadmin", "admin")),
    ),
    Row(
        "POST /api/applications/items/{code}/processes/{version}/activate",
        "/api/applications/items/{item}/processes/1/activate",
        api(DENIED, allowed=("deptadmin", "admin")),
        method="POST",
    ),
    Row("GET /api/licences/types", "/api/licences/types", API_PUBLIC),
    Row("GET /api/licences/holder-key", "/api/licences/holder-key", api(OK)),
    Row("POST /api/licences/holder-key", "/api/licences/holder-key", api(None), method="POST"),
    Row(
        "POST /api/licences/verify",
        "/api/licences/verify",
        expect("400", anonymous="400"),  # the walk sends text that is no licence: 400 for everyone
        method="POST",
        data={"credential": "not-a-licence"},
    ),
    # --- exchange gateway: API keys only, no session: 401 for every persona ---
    Row(
        "GET /api/exchange/resources/{code}/query",
        "/api/exchange/resources/A01001/query",
        expect(UNAUTHORIZED, anonymous=UNAUTHORIZED),
        query="purpose=walk",
    ),
    Row(
        "POST /api/exchange/resources/{code}/query",
        "/api/exchange/resources/A01001/query",
        expect(UNAUTHORIZED, anonymous=UNAUTHORIZED),
        method="POST",
        data={"purpose": "walk"},
    ),
    Row("GET /api/supervision/draws", "/api/supervision/draws", API_PUBLIC),
    Row("GET /api/supervision/draws/{draw_id}", "/api/supervision/draws/{sup_plan}", API_PUBLIC),
    Row(
        "GET /api/supervision/draws/{draw_id}",
        "/api/supervision/draws/{sup_plan_draft}",
        expect(HIDDEN, anonymous=HIDDEN),
    ),
    Row(
        "GET /api/supervision/draws/{draw_id}/replay", "/api/supervision/draws/{sup_plan}/replay", API_PUBLIC
    ),
    Row("GET /api/supervision/entities/{credit_code}", "/api/supervision/entities/{sup_entity}", API_PUBLIC),
]

# --- exchange: the catalog API; the walk's bodies are valid, so refusals are
# about access, not about the values ---
WALK_RESOURCE = {
    "provider": "610000-GAT",
    "code": "C09902",
    "name": "走查资源",
    "kind": "department",
    "share_class": "unconditional",
    "update_frequency": "daily",
    "fields": [{"name": "a", "label_zh": "甲"}],
}
API += [
    Row("GET /api/exchange/resources", "/api/exchange/resources", api(DENIED, ok=(*OFFICIALS, "admin"))),
    Row(
        "GET /api/exchange/resources/{code}",
        "/api/exchange/resources/{resource}",
        api(DENIED, ok=(*OFFICIALS, "admin")),
    ),
    Row(
        "POST /api/exchange/resources",
        "/api/exchange/resources",
        api(DENIED, allowed="admin"),
        method="POST",
        data=WALK_RESOURCE,
    ),
    Row(
        "PUT /api/exchange/resources/{code}",
        "/api/exchange/resources/{resource_own}",
        api(HIDDEN, allowed=("steward", "admin"), denied=PEOPLE),
        method="PUT",
        data={"name": "走查"},
    ),
    Row(
        "POST /api/exchange/resources/{code}/publish",
        "/api/exchange/resources/{resource_own}/publish",
        api(HIDDEN, allowed=("steward", "admin"), denied=PEOPLE),
        method="POST",
    ),
    Row(
        "POST /api/exchange/resources/{code}/rows",
        "/api/exchange/resources/{resource_own}/rows",
        api(HIDDEN, allowed=("steward", "admin"), denied=PEOPLE),
        method="POST",
    ),
    Row("GET /api/exchange/requests", "/api/exchange/requests", api(DENIED, ok=(*OFFICIALS, "admin"))),
    Row(
        "POST /api/exchange/requests",
        "/api/exchange/requests",
        api(None, denied=(*PEOPLE, "admin")),
        method="POST",
        data={
            "resource": "{resource}",
            "fields": ["name"],
            "purpose": "走查核验",
            "valid_until": "2099-01-01",
        },
    ),
    Row(
        "POST /api/exchange/requests/{request_id}/decide",
        "/api/exchange/requests/{request_pending}/decide",
        api(HIDDEN, allowed=("steward", "admin"), denied=PEOPLE),
        method="POST",
        data={"approve": False, "reason": "x"},
    ),
    Row(
        "POST /api/exchange/requests/{request_id}/withdraw",
        "/api/exchange/requests/{request_pending}/withdraw",
        api(HIDDEN, allowed=(*X_OFFICIALS, "admin"), denied=PEOPLE),
        method="POST",
    ),
    Row("GET /api/exchange/grants", "/api/exchange/grants", api(DENIED, ok=(*OFFICIALS, "admin"))),
    Row(
        "POST /api/exchange/grants",
        "/api/exchange/grants",
        api(DENIED, allowed="admin"),
        method="POST",
        data={
            "resource": "{resource}",
            "consumer": "610100-SCJG",
            "fields": ["name"],
            "purpose": "走查核验",
            "valid_until": "2099-01-01",
        },
    ),
    Row(
        "POST /api/exchange/grants/{grant_id}/revoke",
        "/api/exchange/grants/{grant}/revoke",
        api(HIDDEN, allowed="admin", denied=PEOPLE),
        method="POST",
        data={"reason": "x"},
    ),
    Row("GET /api/exchange/demands", "/api/exchange/demands", api(DENIED, ok=(*OFFICIALS, "admin"))),
    Row(
        "POST /api/exchange/demands",
        "/api/exchange/demands",
        api(None, denied=(*PEOPLE, "admin")),
        method="POST",
        data={"title": "x", "description": "x", "purpose": "走查核验"},
    ),
    Row("GET /api/exchange/systems", "/api/exchange/systems", api(DENIED, ok=(*OFFICIALS, "admin"))),
    Row(
        "POST /api/exchange/systems",
        "/api/exchange/systems",
        api(DENIED, allowed="admin"),
        method="POST",
        data={"department": "610000-GAT", "code": "WALK-1", "name": "x"},
    ),
]

# The admin site (one door: its login sends to /login, so the walk counts it as LOGIN). Staff
# with two-factor sign-in reach it; the department administrator manages only X's officials, and
# records nobody may add by hand (audit entries, persons from registration …) have no add page.
STAFF_ONLY = expect(LOGIN, ok="admin", denied="deptadmin")
READ_ONLY = expect(LOGIN, ok="admin", denied="deptadmin")
READ_ONLY_ADD = expect(LOGIN, denied=("deptadmin", "admin"))
ADMINS = expect(LOGIN, ok=("deptadmin", "admin"))
ADMIN_MODELS = {
    # model path: (changelist, add page)
    "auth/group": (STAFF_ONLY, STAFF_ONLY),
    "audit/auditentry": (READ_ONLY, READ_ONLY_ADD),
    "audit/signedtreehead": (READ_ONLY, READ_ONLY_ADD),
    "identity/region": (STAFF_ONLY, STAFF_ONLY),
    "identity/department": (STAFF_ONLY, STAFF_ONLY),
    "identity/user": (STAFF_ONLY, STAFF_ONLY),
    "identity/person": (READ_ONLY, READ_ONLY_ADD),
    "identity/enterprise": (READ_ONLY, READ_ONLY_ADD),
    "identity/enterpriseagent": (READ_ONLY, READ_ONLY_ADD),
    "identity/official": (expect(LOGIN, ok=("deptadmin", "admin")), STAFF_ONLY),
    "identity/oidcclient": (ADMINS, ADMINS),  # each department administrator: their department's
    "catalog/theme": (STAFF_ONLY, STAFF_ONLY),
    "catalog/serviceitem": (STAFF_ONLY, STAFF_ONLY),
    "catalog/lifeevent": (STAFF_ONLY, STAFF_ONLY),
    "catalog/synonym": (STAFF_ONLY, STAFF_ONLY),
    "django_tasks_database/dbtaskresult": (READ_ONLY, READ_ONLY_ADD),
}
ADMIN_SITE: list[Row] = [
    Row("admin:index", "/admin/", expect(LOGIN, ok=("deptadmin", "admin"))),
    Row(
        "admin:identity_official_change",
        "/admin/identity/official/{official}/change/",
        expect(LOGIN, ok=("deptadmin", "admin")),
    ),
    Row(
        "admin:identity_official_change",
        "/admin/identity/official/{official_elsewhere}/change/",
        expect(LOGIN, ok="admin", moved="deptadmin"),
    ),
]
for _model, (_changelist, _add) in ADMIN_MODELS.items():
    _name = _model.replace("/", "_")
    ADMIN_SITE += [
        Row(f"admin:{_name}_changelist", f"/admin/{_model}/", _changelist),
        Row(f"admin:{_name}_add", f"/admin/{_model}/add/", _add),
    ]


def as_markdown(rows: list[Row] | None = None) -> str:
    """The table as a grid, one line per row (``python -m yiwang.core.tests.access_table``)."""
    marks = {OK: "ok", MOVED: "→", LOGIN: "login", None: "(ok)"}
    lines = [
        "| route | path | " + " | ".join(PERSONAS) + " |",
        "|---|---|" + "---|" * len(PERSONAS),
    ]
    for row in rows if rows is not None else PAGES + API + ADMIN_SITE:
        cells = [marks.get(row.outcomes[p], row.outcomes[p]) for p in PERSONAS]
        lines.append(f"| {row.name} | {row.method} {row.path} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(as_markdown())
