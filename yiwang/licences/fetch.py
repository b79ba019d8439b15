"""The one HTTP client of licences: fetching another deployment's issuer metadata, keys and status
lists when an administrator adds a trusted issuer or `yiwang licences-cache` refreshes them, and a
trusted issuer's status list past its ttl when the online verifier needs it (the offline
`verify-licence` never fetches). Tests pass their own ``fetch`` callable instead."""

from __future__ import annotations

import urllib.request

MAX_BYTES = 1 << 20
TIMEOUT = 10


def http_get(url: str) -> bytes:
    """GET ``url`` (http or https only), at most 1 MiB, 10 s; raises OSError on any failure."""
    if not url.startswith(("https://", "http://")):
        raise OSError("only http(s) URLs are fetched")
    request = urllib.request.Request(url, headers={"Accept": "application/json, application/statuslist+jwt"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 — scheme checked above
        body = response.read(MAX_BYTES + 1)
    if len(body) > MAX_BYTES:
        raise OSError("response too large")
    return body
