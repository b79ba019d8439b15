"""Deny by default: walk the whole URLconf and check that anonymous visitors reach only the
public allow-list; everything else sends them to sign in or refuses them."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

# Named routes anyone may open without signing in.
PUBLIC = {
    "core:home",
    "core:healthz",
    "core:accessibility",
    "core:care_mode",
    "set_language",
    "identity:login",
    "identity:register",
    "identity:logout",
    "identity:login_totp",
    "catalog:search",
    "catalog:item",
    "catalog:bundles",
    "catalog:bundle",
    "catalog:departments",
    "catalog:department",
    "catalog:themes",
    "catalog:guide",
    "catalog:region",  # the region switcher (切换地区): a session preference, like care_mode
    "audit:transparency",
    "applications:track",
}
# Prefixes handled by their own access layers, tested in their apps.
OWN_ACCESS = ("admin/", "api/", "i18n/")


def _walk(patterns, prefix="", namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), f"{namespace}{p.name}" if p.name else None


def _sample_path(route: str) -> str:
    route = route.lstrip("^").rstrip("$")
    route = re.sub(r"<int:[^>]+>", "1", route)
    route = re.sub(r"<[^>]+>", "x", route)
    return "/" + route


def test_every_page_route_is_named():
    unnamed = [
        r for r, name in _walk(get_resolver().url_patterns) if name is None and not r.startswith(OWN_ACCESS)
    ]
    assert unnamed == []


def test_anonymous_visitors_reach_only_public_pages(client):
    leaks = []
    for route, name in _walk(get_resolver().url_patterns):
        if route.startswith(OWN_ACCESS) or name in PUBLIC:
            continue
        response = client.get(_sample_path(route))
        refused = response.status_code in {401, 403, 404, 405} or (
            response.status_code == 302 and "/login" in response["Location"]
        )
        if not refused:
            leaks.append((route, name, response.status_code))
    assert leaks == []
