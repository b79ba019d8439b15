"""The feedback app's refusals, one family (see ``core.errors.ServiceError``)."""

from yiwang.core.errors import ServiceError


class FeedbackError(ServiceError):
    status = 422


class InvalidInput(FeedbackError):  # noqa: N818 — named for what happened
    status = 422


class WrongState(FeedbackError):  # noqa: N818 — named for what happened
    status = 409


class NotAllowed(FeedbackError):  # noqa: N818 — named for what happened
    status = 403


class TooLarge(FeedbackError):  # noqa: N818 — named for what happened
    status = 413
