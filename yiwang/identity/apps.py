from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentityConfig(AppConfig):
    name = "yiwang.identity"
    label = "identity"
    verbose_name = _("Identity")

    def ready(self) -> None:
        from yiwang.identity import checks  # noqa: F401 — registers the system checks
