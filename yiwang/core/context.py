"""Per-request context (request id, client address, acting user) for the audit log.

Set by RequestContextMiddleware; read by audit.record. Outside a request (commands,
tasks) the values are empty and the caller passes the actor explicitly.
"""

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RequestContext:
    request_id: str = ""
    client_ip: str = ""


_current: ContextVar[RequestContext] = ContextVar("yiwang_request_context", default=RequestContext())  # noqa: B039 (frozen)


def current() -> RequestContext:
    return _current.get()


def bind(ctx: RequestContext):
    return _current.set(ctx)


def reset(token) -> None:
    _current.reset(token)
