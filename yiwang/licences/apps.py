from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LicencesConfig(AppConfig):
    name = "yiwang.licences"
    label = "licences"
    verbose_name = _("Electronic licences")

    def ready(self) -> None:
        from yiwang.core import encrypted_fields
        from yiwang.licences import seals, vault

        # claims, credentials, issuer and seal keys, presentations: re-encrypted by `yiwang rotate-keys`
        encrypted_fields.register(vault.ENCRYPTED_FIELDS)
        encrypted_fields.register(seals.ENCRYPTED_FIELDS)
