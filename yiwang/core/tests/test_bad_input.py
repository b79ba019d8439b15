"""Malformed input everywhere: the platform answers 4xx (or a form with errors), never 500, never a
stack trace.

* Every JSON API endpoint of the OpenAPI document gets each odd value in each of its path and query
  parameters; refusals must be 4xx JSON shaped ``{"detail": ..., "errors": [...]}``.
* Every page of the catalog, identity, audit and core URL modules gets the same odd values in its
  path and query parameters, and the forms get empty and junk POSTs (signed in where they need it).
"""

from urllib.parse import quote

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, reverse

from config.api import api
from yiwang.audit import urls as audit_urls
from yiwang.catalog import urls as catalog_urls
from yiwang.catalog.models import BundleItem, LifeEvent, Theme
from yiwang.catalog.tests.factories import make_item
from yiwang.core import urls as core_urls
from yiwang.identity import urls as identity_urls
from yiwang.identity.models import Official

pytestmark = pytest.mark.django_db

ON_POSTGRES = "postgresql" in settings.DATABASES["default"]["ENGINE"]

# Each odd value as the user typed it; every slot gets ODD, search fields FTS too.
ODD = {
    "zero": "0",
    "minus-one": "-1",
    "nul": "\x00",
    "percent-00-literal": "%00",
    "sql": "' OR 1=1 --",
    "long-300": "码" * 150 + "x" * 150,
    "long-600": "a" * 600,
    "chinese": "我要开餐馆",
    "huge": str(10**30),
    "empty": "",
    "float": "1.5",
    "word": "abc",
    "control": "\x01\x08\x1b[0m\x7f\t",
    "superscript-digit": "²",
    "emoji": "😀",
}
FTS = {
    "fts-quote": '"',
    "fts-star": "*",
    "fts-near": "NEAR(",
    "fts-and": "AND",
    "fts-colon": ":",
    "fts-caret": "^",
    "fts-open": "(",
    "fts-close": ")",
    "fts-mix": 'search_title:"a" OR b* NOT (c ^d NEAR(e f, 2)',
}
RAW = {name: value for name, value in (ODD | FTS).items()}
# As it goes into a URL: percent-encoded, plus two deliberately broken encodings.
ENCODED = {name: quote(value, safe="") for name, value in RAW.items()}
ENCODED |= {"bad-utf8": "%ff%fe%c3", "dot-dot": "..%2F..%2Fetc%2Fpasswd"}
RAW |= {"bad-utf8": "\ufffd\ufffe", "dot-dot": "../../etc/passwd"}  # as form fields get them
PLAIN = [*ODD, "bad-utf8", "dot-dot"]
SEARCHY = [*PLAIN, *FTS]

PAGE_STATUSES = {200, 302, 400, 403, 404, 405}
TRACE_MARKERS = ("Traceback (most recent call last)", 'File "/', "django/core/handlers", "site-packages")


def values_for(slot: str) -> list[str]:
    """Search fields get the full-text syntax too; every other slot the plain odd values."""
    return SEARCHY if slot.endswith(("?q", ":q")) else PLAIN


# (slot, value id) → (condition, reason): known bugs, each to fix in the app. They are left out of
# the per-slot sweeps and run alone as strict xfails, so a fix shows up as XPASS.
# Cases that fail today, each with its reason; empty when every sweep passes.
KNOWN_BUGS: dict[tuple[str, str], tuple[bool, str]] = {}


def _known_bug_params(slots):
    """One case per known bug; where its condition is false (other database) it must pass."""
    return [
        pytest.param(
            slot, value_id, id=f"{slot}={value_id}", marks=pytest.mark.xfail(cond, strict=True, reason=why)
        )
        for (slot, value_id), (cond, why) in KNOWN_BUGS.items()
        if slot in slots
    ]


def _sweep(slot: str, check) -> None:
    """``check(value_id)`` for every odd value of ``slot`` except known bugs; report every failure."""
    failures = []
    for value_id in values_for(slot):
        if KNOWN_BUGS.get((slot, value_id), (False,))[0]:
            continue
        try:
            check(value_id)
        except Exception as exc:  # noqa: BLE001 — collect them all, then fail once
            failures.append(f"{value_id}: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}")
    assert not failures, f"{slot}:\n" + "\n".join(failures)


def _assert_no_trace(response, url):
    body = response.content.decode("utf-8", "replace")
    for marker in TRACE_MARKERS:
        assert marker not in body, f"{url} shows a stack trace ({marker!r})"


def _assert_page_ok(response, url):
    assert response.status_code in PAGE_STATUSES, f"{url} answered {response.status_code}"
    _assert_no_trace(response, url)


def _assert_api_ok(response, url):
    assert response.status_code < 500, f"{url} answered {response.status_code}: {response.content[:300]!r}"
    _assert_no_trace(response, url)
    assert response["Content-Type"].startswith("application/json"), f"{url}: {response['Content-Type']}"
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"detail", "errors"}, (url, body)
        assert isinstance(body["detail"], str) and body["detail"], (url, body)
        assert isinstance(body["errors"], list), (url, body)
        for error in body["errors"]:
            assert set(error) == {"field", "message"}, (url, error)
    else:
        assert response.status_code == 200, url


@pytest.fixture(autouse=True)
def _throwaway_signing_key(tmp_path_factory, settings):
    # The audit pages sign a tree head; never with the developer's own key.
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path_factory.getbasetemp() / "audit-key" / "ed25519.pem"


@pytest.fixture
def little_catalog(department_x):
    """One published item in a theme and a bundle, so searches and filters have something to chew."""
    item = make_item(code="TEST-0001", name="食品经营许可", department=department_x, aliases="开餐馆")
    theme = Theme.objects.create(code="kaiban", name="开办企业", audience="enterprise")
    item.themes.add(theme)
    bundle = LifeEvent.objects.create(code="open-restaurant", name="我要开餐馆", audience="enterprise")
    BundleItem.objects.create(bundle=bundle, item=item, order=1)
    return item


# --- JSON API ------------------------------------------------------------------------------------
API_SCHEMA = api.get_openapi_schema()
# Valid values for the required integer parameters, so each odd value is the only thing wrong.
API_BASE = {"start": "0", "end": "0", "leaf_index": "0", "tree_size": "1", "first": "1", "second": "1"}


def _api_slots():
    slots = []
    for path, operations in API_SCHEMA["paths"].items():
        for method, operation in operations.items():
            if method != "get":
                continue  # bodies of POST/PUT/DELETE operations: swept in the applications API tests
            names = [(p["in"], p["name"]) for p in operation.get("parameters", [])]
            slots += [f"{path}|{where}:{name}" for where, name in names]
            if not any(where == "path" for where, _name in names):
                slots.append(f"{path}|query:junk")  # parameters nobody asked for are ignored
    return slots


API_SLOTS = _api_slots()


def _api_url(slot: str, value_id: str) -> str:
    path, param = slot.split("|")
    where, name = param.split(":")
    value = ENCODED[value_id]
    query = {
        p["name"]: API_BASE.get(p["name"], "")
        for p in API_SCHEMA["paths"][path]["get"].get("parameters", [])
        if p["in"] == "query" and p.get("required")
    }
    if where == "path":
        path = path.replace("{" + name + "}", value)
    else:
        query[name] = value
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_openapi_document_lists_exactly_the_swept_endpoints(client):
    served = client.get("/api/openapi.json").json()["paths"]
    assert set(served) == set(API_SCHEMA["paths"])
    gets = {path for path, operations in served.items() if "get" in operations}
    assert {slot.split("|")[0] for slot in API_SLOTS} == gets


def _check_api(client, slot, value_id):
    url = _api_url(slot, value_id)
    _assert_api_ok(client.get(url), url)


@pytest.mark.parametrize("slot", API_SLOTS)
def test_api_refuses_odd_input_cleanly(client, little_catalog, slot):
    _sweep(slot, lambda value_id: _check_api(client, slot, value_id))


@pytest.mark.parametrize(("slot", "value_id"), _known_bug_params(API_SLOTS))
def test_api_known_bugs(client, little_catalog, slot, value_id):
    _check_api(client, slot, value_id)


@pytest.mark.parametrize("value_id", ["long-600", "fts-mix", "nul", "bad-utf8"])
def test_api_for_a_signed_in_citizen(login, citizen, value_id):
    url = f"/api/identity/me?junk={ENCODED[value_id]}"
    response = login(citizen).get(url)
    _assert_api_ok(response, url)
    # Unknown parameters are ignored; a NUL anywhere in the request is refused before any view.
    assert response.status_code == (400 if value_id == "nul" else 200)


def test_api_refuses_other_methods_and_unknown_paths_as_json(client):
    for method, url in [
        ("post", "/api/catalog/items"),
        ("delete", "/api/audit/sth"),
        ("get", "/api/catalog/no-such-thing"),
    ]:
        response = getattr(client, method)(url)
        assert 400 <= response.status_code < 500, (method, url, response.status_code)
        _assert_no_trace(response, url)


# --- pages ---------------------------------------------------------------------------------------
def _url_names(module) -> set[str]:
    names = set()
    for pattern in module.urlpatterns:
        assert isinstance(pattern, URLPattern) and not isinstance(pattern, URLResolver)
        names.add(f"{module.app_name}:{pattern.name}")
    return names


ALL_PAGES = set().union(*(_url_names(m) for m in (catalog_urls, identity_urls, audit_urls, core_urls)))

# Page slot → (persona, URL with {v} where the odd value goes). Personas are conftest fixture names.
PAGE_SLOTS = {
    "home?q": ("anonymous", "/?q={v}"),
    "search?q": ("anonymous", "/services/?q={v}"),
    "search?page": ("anonymous", "/services/?q=%E8%AE%B8%E5%8F%AF&page={v}"),
    "search?department": ("anonymous", "/services/?department={v}"),
    "search?theme": ("anonymous", "/services/?theme={v}"),
    "search?item_type": ("anonymous", "/services/?item_type={v}"),
    "search?audience": ("citizen", "/services/?audience={v}&q={v}"),
    "guide?q": ("citizen", "/services/guide/?q={v}"),
    "themes?junk": ("anonymous", "/services/themes/?theme={v}"),
    "item/code": ("anonymous", "/services/items/{v}/"),
    "bundles?junk": ("anonymous", "/services/bundles/?page={v}"),
    "bundle/code": ("anonymous", "/services/bundles/{v}/"),
    "departments?junk": ("anonymous", "/services/departments/?region={v}"),
    "department/code": ("anonymous", "/services/departments/{v}/"),
    "department?page": ("anonymous", "/services/departments/610100-SCJG/?page={v}"),
    "transparency?leaf_index": ("anonymous", "/transparency/?leaf_index={v}"),
    "healthz?junk": ("anonymous", "/healthz?x={v}"),
    "accessibility?junk": ("anonymous", "/accessibility?x={v}"),
    "login?next": ("anonymous", "/login?next={v}"),
    "login_totp?junk": ("anonymous", "/login/code?code={v}"),
    "register?junk": ("anonymous", "/register?name={v}"),
    "account?junk": ("citizen", "/account?enterprise={v}"),
    "act_as(get)": ("citizen", "/account/act-as?enterprise={v}"),
    "password_change?junk": ("citizen", "/account/password?x={v}"),
    "two_factor?junk": ("citizen", "/account/two-factor?action={v}"),
    "enterprise_register?junk": ("citizen", "/account/enterprises/new?credit_code={v}"),
    "officials?junk": ("dept_admin", "/officials?department={v}"),
    "official_roles/pk": ("dept_admin", "/officials/{v}/grant"),
    "official_roles/action": ("dept_admin", "/officials/{official}/{v}"),
    "official_roles?role": ("dept_admin", "/officials/{official}/grant?role={v}"),
    "officials(superuser)": ("superuser", "/officials?x={v}"),
    "logout(get)": ("citizen", "/logout?next={v}"),
    "care_mode(get)": ("anonymous", "/preferences/care-mode?next={v}"),
}
# Pages whose odd input is POSTed rather than put in the URL: (name, persona, URL, field).
POST_SLOTS = {
    "care_mode:next": ("anonymous", "/preferences/care-mode", {"on": "1", "next": "{v}"}),
    "logout:next": ("citizen", "/logout", {"next": "{v}"}),
    "login:username": ("anonymous", "/login", {"username": "{v}", "password": "wrong-password-1"}),
    "login:password": ("anonymous", "/login", {"username": "citizen", "password": "{v}"}),
    "login_totp:code": ("anonymous", "/login/code", {"code": "{v}"}),
    "register:all": (
        "anonymous",
        "/register",
        {k: "{v}" for k in ("name", "id_number", "phone", "email", "username", "password1", "password2")},
    ),
    "register:id_number": (
        "anonymous",
        "/register",
        {
            "name": "赵六",
            "id_number": "{v}",
            "phone": "13812345678",
            "email": "zhao@example.org",
            "username": "zhaoliu",
            "password1": "a-good-passw0rd",
            "password2": "a-good-passw0rd",
        },
    ),
    "act_as:enterprise": ("citizen", "/account/act-as", {"enterprise": "{v}"}),
    "act_as:enterprise(agent)": ("agent", "/account/act-as", {"enterprise": "{v}"}),
    "password_change:all": (
        "citizen",
        "/account/password",
        {k: "{v}" for k in ("old_password", "new_password1", "new_password2")},
    ),
    "two_factor:confirm": ("citizen", "/account/two-factor", {"action": "confirm", "confirm-code": "{v}"}),
    "two_factor:disable": (
        "citizen",
        "/account/two-factor",
        {"action": "disable", "disable-password": "{v}"},
    ),
    "two_factor:action": ("citizen", "/account/two-factor", {"action": "{v}"}),
    "enterprise_register:credit_code": (
        "citizen",
        "/account/enterprises/new",
        {"name": "好吃餐饮有限公司", "credit_code": "{v}", "legal_representative": "张三"},
    ),
    "enterprise_register:all": (
        "citizen",
        "/account/enterprises/new",
        {"name": "{v}", "credit_code": "{v}", "legal_representative": "{v}"},
    ),
    "enterprise_register(superuser)": ("superuser", "/account/enterprises/new", {"credit_code": "{v}"}),
    "official_roles:role": ("dept_admin", "/officials/{official}/grant", {"role": "{v}", "password": "x"}),
    "official_roles:password": (
        "dept_admin",
        "/officials/{official}/revoke",
        {"role": "clerk", "password": "{v}"},
    ),
}


def test_every_page_is_swept():
    def name_of(url: str) -> str:
        from django.urls import resolve

        match = resolve(url.split("?")[0].replace("{v}", "1").replace("{official}", "1"))
        return f"{match.namespace}:{match.url_name}"

    swept = {name_of(url) for _persona, url in PAGE_SLOTS.values()}
    swept |= {name_of(url) for _persona, url, _data in POST_SLOTS.values()}
    assert swept == ALL_PAGES
    assert reverse("catalog:search") == "/services/"


@pytest.fixture
def as_persona(request, login, little_catalog, official_x):
    """``as_persona(name)`` → a client signed in as that conftest persona (or anonymous)."""

    def _as(persona: str):
        if persona == "anonymous":
            return login(None)
        return login(request.getfixturevalue(persona))

    _as.official_pk = Official.objects.get(user=official_x).pk
    return _as


def _check_page(as_persona, slot, value_id):
    persona, template = PAGE_SLOTS[slot]
    url = template.replace("{official}", str(as_persona.official_pk)).replace("{v}", ENCODED[value_id])
    _assert_page_ok(as_persona(persona).get(url), url)


def _check_post(as_persona, slot, value_id):
    persona, url, template = POST_SLOTS[slot]
    url = url.replace("{official}", str(as_persona.official_pk))
    data = {k: v.replace("{v}", RAW[value_id]) for k, v in template.items()}
    _assert_page_ok(as_persona(persona).post(url, data), f"POST {url} {data!r}"[:400])


@pytest.mark.parametrize("slot", list(PAGE_SLOTS))
def test_pages_survive_odd_query_and_path_values(as_persona, slot):
    _sweep(slot, lambda value_id: _check_page(as_persona, slot, value_id))


@pytest.mark.parametrize("slot", list(POST_SLOTS))
def test_forms_survive_junk_posts(as_persona, slot):
    _sweep(slot, lambda value_id: _check_post(as_persona, slot, value_id))


@pytest.mark.parametrize(("slot", "value_id"), _known_bug_params({**PAGE_SLOTS, **POST_SLOTS}))
def test_pages_known_bugs(as_persona, slot, value_id):
    (_check_page if slot in PAGE_SLOTS else _check_post)(as_persona, slot, value_id)


@pytest.mark.parametrize("slot", list(POST_SLOTS))
def test_forms_survive_empty_posts(as_persona, slot):
    persona, url, _template = POST_SLOTS[slot]
    url = url.replace("{official}", str(as_persona.official_pk))
    _assert_page_ok(as_persona(persona).post(url, {}), f"POST {url} (empty)")
