from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentityConfig(AppConfig):
    name = "yiwang.identity"
    label = "identity"
    verbose_name = _("Identity")

    def ready(self) -> None:
        from yiwang.audit import hooks
        from yiwang.core import encrypted_fields
        from yiwang.identity import audit_hooks, checks, pii  # noqa: F401 — checks registers the system checks

        encrypted_fields.register(pii.ENCRYPTED_FIELDS)

        hooks.register(
            actor_profile=audit_hooks.actor_profile, may_read_all_records=audit_hooks.may_read_all_records
        )
