"""Core models: the throttle counters (see yiwang.core.throttle)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ThrottleCounter(models.Model):
    """Attempts counted for one key of one throttle scope in one fixed time period.

    Written only by ``yiwang.core.throttle`` with one atomic upsert per attempt. The key is an
    HMAC of the normalised key (a user name, an address, a case number), never the key itself,
    so the table holds no personal data; rows of past periods are pruned as new ones start.
    """

    scope = models.CharField(_("scope"), max_length=32)
    key_hash = models.CharField(_("key (HMAC)"), max_length=64)
    # The period's number: seconds since the epoch divided by the scope's window.
    period = models.BigIntegerField(_("period"))
    count = models.PositiveIntegerField(_("attempts"), default=0)

    class Meta:
        verbose_name = _("throttle counter")
        verbose_name_plural = _("throttle counters")
        constraints = [
            models.UniqueConstraint(fields=["scope", "key_hash", "period"], name="throttle_counter_unique")
        ]
        indexes = [models.Index(fields=["scope", "period"], name="throttle_scope_period")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key_hash[:8]}… #{self.period}: {self.count}"
