from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "yiwang.exchange"
    label = "exchange"
    verbose_name = _("Data sharing exchange")

    def ready(self) -> None:
        from yiwang.core import encrypted_fields
        from yiwang.exchange import vault

        # personal fields of stored rows: re-encrypted by `yiwang rotate-keys`
        encrypted_fields.register(vault.ENCRYPTED_FIELDS)
