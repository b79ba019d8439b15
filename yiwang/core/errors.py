"""The one shape of a refusal a service gives its callers (pages, the API, commands)."""

from collections.abc import Mapping


class ServiceError(Exception):
    """A refusal with a message for the user, in the active language, and per field what to fix;
    ``status`` is the status code the API answers with. Each app's services subclass it (their
    ``InvalidInput`` 422, ``WrongState`` 409 …) so that callers catch the app's own class."""

    status = 422

    def __init__(self, message: str, errors: Mapping[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = dict(errors or {})
