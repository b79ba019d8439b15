"""The exchange's refusals: one family, so pages, the API and the gateway catch one class.

``InvalidInput`` (422) names the fields to fix; ``WrongState`` (409) says why the thing cannot be
done now; ``NotAllowed`` (403) says what the caller lacks (no grant, an expired grant …);
``Unavailable`` is an upstream source that failed (502) or answered too late (504); ``RateLimited``
(429) carries the seconds to wait."""

from yiwang.core.errors import ServiceError


class ExchangeError(ServiceError):
    status = 422


class InvalidInput(ExchangeError):  # noqa: N818 — named for what happened
    status = 422


class WrongState(ExchangeError):  # noqa: N818 — named for what happened
    status = 409


class NotAllowed(ExchangeError):  # noqa: N818 — named for what happened
    status = 403


class NotFound(ExchangeError):  # noqa: N818 — named for what happened
    status = 404


class RateLimited(ExchangeError):  # noqa: N818 — named for what happened
    status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(ExchangeError):  # noqa: N818 — named for what happened
    """An upstream source failed (502) or timed out (504)."""

    status = 502

    def __init__(self, message: str, *, timed_out: bool = False):
        super().__init__(message)
        self.status = 504 if timed_out else 502
