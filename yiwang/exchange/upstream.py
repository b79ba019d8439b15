"""Calling a resource's upstream HTTP source (``DataResource.source_kind == "http"``).

The gateway asks the department's own system for one page of rows: a ``POST`` of JSON to
``upstream_url``::

    {"resource": "C03001", "fields": ["id_number", "insured"], "filters": {"id_number": "…"},
     "q": "", "sort": [["insured_since", true]], "limit": 100, "offset": 0}

and expects ``200`` with ``{"rows": [{field: value, …}, …], "total": <int, optional>}``. The call
has one deadline, ``upstream_timeout_ms``, for everything (connecting, sending, waiting, reading):
the request runs in a worker thread and the gateway stops waiting when the deadline passes, so a
slow upstream costs the caller at most the deadline, whatever it does. Past the deadline the call
is refused as ``Unavailable(timed_out=True)`` (504); a refused connection, an error status or an
answer that is not the JSON above is ``Unavailable`` (502). Messages name the resource and what
went wrong, never the upstream's answer text.

Tests replace the network with ``use_transport(httpx.MockTransport(handler))``: a deterministic
fake; nothing here touches the network in tests.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import httpx
from django.utils.translation import gettext as _

from yiwang.exchange.errors import Unavailable
from yiwang.exchange.models import DataResource, ResourceField
from yiwang.exchange.rowquery import RowPage, RowQuery

MAX_BODY = 10 * 1024 * 1024  # an upstream answer over 10 MB is refused (a page is at most 1,000 rows)
WORKERS = 16  # concurrent upstream calls per process; more wait their turn within their deadline
USER_AGENT = "yiwang-exchange-gateway/1"

_pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="exchange-upstream")
_transport: httpx.BaseTransport | None = None
_lock = threading.Lock()


@contextlib.contextmanager
def use_transport(transport: httpx.BaseTransport) -> Iterator[None]:
    """Send every upstream call through ``transport`` (tests: ``httpx.MockTransport``)."""
    global _transport  # noqa: PLW0603 — one switch for the whole process, set by tests
    with _lock:
        previous, _transport = _transport, transport
    try:
        yield
    finally:
        with _lock:
            _transport = previous


class _UpstreamError(Exception):
    """What went wrong with the upstream (turned into ``Unavailable`` by the caller). The worker
    thread runs outside the request's language, so it gives a kind and the caller words it."""

    def __init__(self, kind: str, **params):
        super().__init__(kind)
        self.kind, self.params = kind, params

    @property
    def reason(self) -> str:
        words = {
            "status": _("it answered with status %(status)s"),
            "too_large": _("its answer is larger than 10 MB"),
            "unreachable": _("it could not be reached (%(error)s)"),
            "not_json": _("its answer is not JSON"),
            "no_rows": _("its answer has no list of “rows”"),
            "bad_row": _("a row of its answer is not an object"),
            "bad_total": _("its “total” is not a whole number"),
        }
        return words[self.kind] % self.params


def _post(url: str, body: bytes, timeout: float, transport: httpx.BaseTransport | None) -> bytes:
    """Runs in a worker thread: POST ``body`` and read at most ``MAX_BODY`` bytes of the answer."""
    try:
        with (
            httpx.Client(
                timeout=httpx.Timeout(timeout), transport=transport, follow_redirects=False
            ) as client,
            client.stream(
                "POST",
                url,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                    "User-Agent": USER_AGENT,
                },
            ) as response,
        ):
            if response.status_code != 200:
                raise _UpstreamError("status", status=response.status_code)
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_BODY:
                    raise _UpstreamError("too_large")
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.TimeoutException:
        raise TimeoutError from None
    except httpx.HTTPError as exc:
        raise _UpstreamError("unreachable", error=type(exc).__name__) from None


def _rows_of(answer: bytes, fields: Sequence[ResourceField], limit: int) -> tuple[list[dict], int | None]:
    try:
        data = json.loads(answer)
    except (ValueError, UnicodeDecodeError):
        raise _UpstreamError("not_json") from None
    if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
        raise _UpstreamError("no_rows")
    names = [f.name for f in fields]
    rows = []
    for row in data["rows"][:limit]:
        if not isinstance(row, dict):
            raise _UpstreamError("bad_row")
        rows.append({n: row.get(n) for n in names})
    total = data.get("total")
    if total is not None and (isinstance(total, bool) or not isinstance(total, int) or total < 0):
        raise _UpstreamError("bad_total")
    return rows, total


def fetch(resource: DataResource, fields: Sequence[ResourceField], query: RowQuery, filters: dict) -> RowPage:
    """One page of rows from ``resource``'s upstream within its deadline. ``filters``: the checked
    filters in clear (personal key values as the consumer sent them, never a blind index); only
    ``fields`` are asked for and kept. Raises ``Unavailable`` (502, or 504 past the deadline)."""
    timeout = max(resource.upstream_timeout_ms, 1) / 1000
    deadline = time.monotonic() + timeout
    body = json.dumps(
        {
            "resource": resource.code,
            "fields": [f.name for f in fields],
            "filters": filters,
            "q": query.q,
            "sort": [[name, bool(desc)] for name, desc in query.sort],
            "limit": query.limit,
            "offset": query.offset,
        },
        ensure_ascii=False,
        default=str,
    ).encode("utf-8")
    if not resource.upstream_url:
        raise Unavailable(
            _("The source of %(code)s has no upstream address: its provider must register one.")
            % {"code": resource.code}
        )
    future = _pool.submit(_post, resource.upstream_url, body, timeout, _transport)
    try:
        answer = future.result(timeout=max(0.0, deadline - time.monotonic()))
        rows, total = _rows_of(answer, fields, query.limit)
    except (FutureTimeout, TimeoutError):
        future.cancel()
        raise Unavailable(
            _("The system of %(code)s's provider did not answer within %(ms)d ms.")
            % {"code": resource.code, "ms": resource.upstream_timeout_ms},
            timed_out=True,
        ) from None
    except _UpstreamError as exc:
        raise Unavailable(
            _("The system of %(code)s's provider failed: %(reason)s.")
            % {"code": resource.code, "reason": exc.reason}
        ) from None
    if time.monotonic() > deadline:  # answered, but too late to count
        raise Unavailable(
            _("The system of %(code)s's provider did not answer within %(ms)d ms.")
            % {"code": resource.code, "ms": resource.upstream_timeout_ms},
            timed_out=True,
        )
    return RowPage(
        rows=rows,
        total=total if total is not None else query.offset + len(rows),
        limit=query.limit,
        offset=query.offset,
    )
