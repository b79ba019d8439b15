"""Electronic licences (电子证照) as SD-JWT VCs, their issuers' keys and status lists; e-seals."""

# ==========================================================================================
# Seals (电子印章): the deployment's own certification authority and one seal certificate per
# department, ECDSA P-256 (see seals.py). Private keys are stored encrypted with the platform's
# field encryption (yiwang.lib.crypto); certificates and fingerprints are public.
# ==========================================================================================

from django.db import models  # noqa: E402 - the Seals section is kept apart from the licences part
from django.db.models import Q  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.translation import gettext_lazy as _  # noqa: E402


class SealAuthority(models.Model):
    """The deployment's e-seal root certificate (created once; ``slot`` keeps it to one row)."""

    slot = models.PositiveSmallIntegerField(default=1, unique=True, editable=False)
    subject = models.CharField(_("subject"), max_length=255)
    certificate_pem = models.TextField(_("certificate (PEM)"))
    private_key_ciphertext = models.BinaryField(_("private key (encrypted)"), editable=False)
    fingerprint = models.CharField(_("SHA-256 fingerprint"), max_length=64, unique=True)
    serial_number = models.CharField(_("serial number"), max_length=64)
    not_before = models.DateTimeField(_("valid from"))
    not_after = models.DateTimeField(_("valid until"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("e-seal root certificate")
        verbose_name_plural = _("e-seal root certificates")

    def __str__(self) -> str:
        return self.subject


class SealCertificate(models.Model):
    """A department's seal certificate. Rotation retires the current one (``retired_at``) and
    makes a new one; documents sealed with a retired certificate still validate, as the
    certificate travels in each signature and chains to the same root."""

    department = models.ForeignKey(
        "identity.Department",
        on_delete=models.PROTECT,
        related_name="seal_certificates",
        verbose_name=_("department"),
    )
    authority = models.ForeignKey(SealAuthority, on_delete=models.PROTECT, related_name="seals")
    subject = models.CharField(_("subject"), max_length=255)
    certificate_pem = models.TextField(_("certificate (PEM)"))
    private_key_ciphertext = models.BinaryField(_("private key (encrypted)"), editable=False)
    fingerprint = models.CharField(_("SHA-256 fingerprint"), max_length=64, unique=True)
    serial_number = models.CharField(_("serial number"), max_length=64)
    not_before = models.DateTimeField(_("valid from"))
    not_after = models.DateTimeField(_("valid until"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)

    class Meta:
        verbose_name = _("seal certificate")
        verbose_name_plural = _("seal certificates")
        constraints = [
            models.UniqueConstraint(
                fields=["department"],
                condition=Q(retired_at__isnull=True),
                name="seal_certificate_one_current_per_department",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} {self.fingerprint[:16]}"
