"""Deny by default: every URL is named, so the access table (``access_table.py``, walked as
every demo persona by ``test_access_walk.py``) can name every route."""

from django.urls import URLPattern, URLResolver, get_resolver

# Prefixes whose routes the table covers otherwise (the API by operation) or that Django names.
OWN_ACCESS = ("admin/", "api/", "i18n/")


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p.name


def test_every_page_route_is_named():
    unnamed = [
        r for r, name in _walk(get_resolver().url_patterns) if name is None and not r.startswith(OWN_ACCESS)
    ]
    assert unnamed == []
