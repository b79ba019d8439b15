"""Electronic licences (电子证照) as SD-JWT VCs, their issuers' keys and status lists; e-seals.

Two sections, each owned by one part of the app: licence credentials (types, licences, issuer
keys, status lists, trusted issuers, holder keys) and, below it, PDF e-seals.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# =============================================================================================
# Licence credentials: types, licences, issuer keys, status lists, trust list, holder keys.
# Written only through yiwang.licences.services; read by other apps through selectors.
# =============================================================================================


class LicenceType(models.Model):
    """A kind of licence (证照类型) with its claim schema, validity rule and issuing departments.

    ``claims`` is a list of claim specs, in display order::

        {"name": "holder_name", "zh": "经营者姓名", "en": "Operator", "sd": true,
         "personal": true, "required": true, "from": "person.name"}

    ``sd``: issued as a salted disclosure the holder may withhold; ``personal``: personal
    information (always ``sd``). ``from`` says where issuance on a case takes the value:
    ``person.name``, ``person.id_number``, ``enterprise.name``, ``enterprise.credit_code``,
    ``enterprise.legal_representative``, ``enterprise.address``, ``case.number``,
    ``case.data.<field>`` or ``department.name``; a claim without ``from`` is given by the
    official who issues by hand.
    """

    class HolderKind(models.TextChoices):
        PERSON = "person", _("Natural person")
        ENTERPRISE = "enterprise", _("Enterprise")
        ANY = "any", _("Natural person or enterprise")

    code = models.SlugField(_("code"), max_length=48, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    vct = models.CharField(_("credential type (vct)"), max_length=200, unique=True)
    holder_kind = models.CharField(_("holder"), max_length=16, choices=HolderKind.choices)
    claims = models.JSONField(_("claims"), default=list)
    # None: open-ended (长期有效).
    validity_years = models.PositiveSmallIntegerField(_("validity (years)"), null=True, blank=True)
    # Department kinds (the suffix of a department code, e.g. "SCJG") that may issue it.
    issuer_kinds = models.JSONField(_("issuing department kinds"), default=list)
    # Basic catalog item codes whose approval issues this licence (implementations included).
    item_codes = models.JSONField(_("issued on approval of items"), default=list, blank=True)
    # The catalog materials' ``licence_type`` names this licence stands in for (免证办).
    material_names = models.JSONField(_("replaces the materials named"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("licence type")
        verbose_name_plural = _("licence types")

    def __str__(self) -> str:
        return f"{self.name_zh} | {self.name_en}"

    @property
    def label(self) -> str:
        """The bilingual label (``中文 | English``) for the ``|inlang`` filter."""
        return f"{self.name_zh} | {self.name_en}"

    def claim_spec(self, name: str) -> dict | None:
        return next((c for c in self.claims if c.get("name") == name), None)


class IssuerKey(models.Model):
    """One Ed25519 signing key of an issuing department. The private key is stored encrypted with
    the field encryption keys (``yiwang.lib.crypto``); retired keys stay to verify old licences."""

    class State(models.TextChoices):
        ACTIVE = "active", _("Active (signs new licences)")
        RETIRED = "retired", _("Retired (verifies old licences only)")

    department = models.ForeignKey(
        "identity.Department",
        on_delete=models.PROTECT,
        related_name="issuer_keys",
        verbose_name=_("department"),
    )
    kid = models.CharField(_("key id"), max_length=64, unique=True)  # RFC 7638 thumbprint
    public_x = models.CharField(_("public key (base64url)"), max_length=64)
    private_ciphertext = models.BinaryField(_("private key (encrypted)"), editable=False)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.ACTIVE)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)

    class Meta:
        ordering = ["department_id", "-created_at"]
        verbose_name = _("issuer key")
        verbose_name_plural = _("issuer keys")
        constraints = [
            models.UniqueConstraint(
                fields=["department"], condition=Q(state="active"), name="issuerkey_one_active_per_department"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kid[:12]}… ({self.get_state_display()})"

    @property
    def public_jwk(self) -> dict:
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": self.public_x,
            "kid": self.kid,
            "alg": "EdDSA",
            "use": "sig",
        }


class StatusList(models.Model):
    """A Token Status List (2 bits per licence: 0 valid, 1 invalid/revoked, 2 suspended) of one
    department, published as a signed ``statuslist+jwt`` (see yiwang.licences.status)."""

    department = models.ForeignKey(
        "identity.Department",
        on_delete=models.PROTECT,
        related_name="status_lists",
        verbose_name=_("department"),
    )
    number = models.PositiveIntegerField(_("list number"))
    size = models.PositiveIntegerField(_("entries"))
    bits = models.BinaryField(_("status bits"), editable=False)  # size * 2 bits, uncompressed
    next_index = models.PositiveIntegerField(_("next free index"), default=0)
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    # The signed token of the current version, made when first asked for (see status.token_for).
    token = models.TextField(blank=True, editable=False)
    token_version = models.PositiveIntegerField(default=0, editable=False)
    token_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["department_id", "number"]
        verbose_name = _("status list")
        verbose_name_plural = _("status lists")
        constraints = [
            models.UniqueConstraint(fields=["department", "number"], name="statuslist_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.department_id}/{self.number}"


class Licence(models.Model):
    """One electronic licence issued to a verified person or a registered enterprise.

    The claims and the issued credential carry personal information, so both are stored
    encrypted (purposes ``CLAIMS_PURPOSE`` and ``CREDENTIAL_PURPOSE`` of yiwang.licences.services).
    ``state`` is what the department decided; expiry is by time (``effective_state``).
    """

    class State(models.TextChoices):
        VALID = "valid", _("Valid")
        SUSPENDED = "suspended", _("Suspended")
        REVOKED = "revoked", _("Revoked")

    EXPIRED = "expired"  # effective state only: valid but past valid_until

    type = models.ForeignKey(
        LicenceType, on_delete=models.PROTECT, related_name="licences", verbose_name=_("type")
    )
    number = models.CharField(_("licence number"), max_length=40, unique=True)
    holder_person = models.ForeignKey(
        "identity.Person",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="licences",
        verbose_name=_("holder (person)"),
    )
    holder_enterprise = models.ForeignKey(
        "identity.Enterprise",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="licences",
        verbose_name=_("holder (enterprise)"),
    )
    department = models.ForeignKey(
        "identity.Department", on_delete=models.PROTECT, related_name="licences", verbose_name=_("issued by")
    )
    issuer_key = models.ForeignKey(IssuerKey, on_delete=models.PROTECT, related_name="licences")
    status_list = models.ForeignKey(StatusList, on_delete=models.PROTECT, related_name="licences")
    status_index = models.PositiveIntegerField(_("index in the status list"))
    claims_ciphertext = models.BinaryField(editable=False)
    credential_ciphertext = models.BinaryField(editable=False)
    holder_jwk = models.JSONField(_("holder key (cnf)"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.VALID)
    state_reason = models.CharField(_("reason"), max_length=500, blank=True)
    state_changed_at = models.DateTimeField(_("state changed"), null=True, blank=True)
    issued_at = models.DateTimeField(_("issued"), default=timezone.now)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)  # None: open-ended
    issued_by = models.ForeignKey(
        "identity.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issued by"),
    )
    issue_reason = models.CharField(_("reason for issuing by hand"), max_length=500, blank=True)
    # The case it came from (applications sits above licences: kept as its id and number).
    case_id = models.PositiveBigIntegerField(_("case id"), null=True, blank=True)
    case_number = models.CharField(_("case number"), max_length=32, blank=True)
    replaces = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="renewals",
        verbose_name=_("renews"),
    )

    class Meta:
        ordering = ["-issued_at", "-pk"]
        verbose_name = _("licence")
        verbose_name_plural = _("licences")
        constraints = [
            models.CheckConstraint(
                condition=(Q(holder_person__isnull=False) & Q(holder_enterprise__isnull=True))
                | (Q(holder_person__isnull=True) & Q(holder_enterprise__isnull=False)),
                name="licence_one_holder",
            ),
            models.UniqueConstraint(
                fields=["status_list", "status_index"], name="licence_status_index_unique"
            ),
            models.UniqueConstraint(
                fields=["type", "case_id"],
                condition=Q(case_id__isnull=False),
                name="licence_one_per_case_and_type",
            ),
        ]
        indexes = [
            models.Index(fields=["department", "-issued_at"], name="licence_department_idx"),
            models.Index(fields=["holder_person", "-issued_at"], name="licence_person_idx"),
            models.Index(fields=["holder_enterprise", "-issued_at"], name="licence_enterprise_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def effective_state(self) -> str:
        """valid / suspended / revoked / expired (valid by decision but past ``valid_until``)."""
        if (
            self.state == self.State.VALID
            and self.valid_until is not None
            and self.valid_until <= timezone.now()
        ):
            return self.EXPIRED
        return self.state


class TrustedIssuer(models.Model):
    """Another deployment's issuer (跨域互认), added by an administrator: its metadata and JWKS are
    fetched and checked against its public audit log when added or refreshed (``yiwang
    licences-cache --refresh``), never at verify time; ``jwks["audit_log"]`` keeps the tree head
    they were checked against. Its status lists are fetched again once past their ttl."""

    issuer = models.URLField(_("issuer URL (iss)"), max_length=300, unique=True)
    name = models.CharField(_("name"), max_length=200)
    jwks = models.JSONField(_("keys (JWKS)"), default=dict)
    # Cached status list tokens of this issuer: {uri: token}, refreshed with the keys.
    status_lists = models.JSONField(_("cached status lists"), default=dict, blank=True)
    # When each cached list was fetched ({uri: unix seconds}): a list older than its ttl is
    # fetched again before it is used, or gives "status unknown" (selectors.DatabaseTrust).
    status_fetched = models.JSONField(_("status lists fetched"), default=dict, blank=True)
    fetched_at = models.DateTimeField(_("keys fetched"), null=True, blank=True)
    is_active = models.BooleanField(_("trusted"), default=True)
    added_by = models.ForeignKey(
        "identity.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("added by"),
    )
    created_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        ordering = ["issuer"]
        verbose_name = _("trusted issuer")
        verbose_name_plural = _("trusted issuers")

    def __str__(self) -> str:
        return self.name


class HolderKey(models.Model):
    """A public key a holder's wallet registered (Ed25519 JWK); licences issued while it is active
    are bound to it (``cnf``), so a presentation must carry a key-binding JWT signed by it."""

    user = models.ForeignKey("identity.User", on_delete=models.CASCADE, related_name="holder_keys")
    thumbprint = models.CharField(_("key thumbprint"), max_length=64)
    jwk = models.JSONField(_("public key (JWK)"))
    label = models.CharField(_("device"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("registered"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("holder key")
        verbose_name_plural = _("holder keys")
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(revoked_at__isnull=True), name="holderkey_one_active_per_user"
            ),
        ]

    def __str__(self) -> str:
        return self.thumbprint[:12]


# =============================================================================================
# Seals (电子印章): the deployment's own certification authority and one seal certificate per
# department, ECDSA P-256 (see seals.py). Private keys are stored encrypted with the platform's
# field encryption (yiwang.lib.crypto); certificates and fingerprints are public.
# =============================================================================================


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


# =============================================================================================
# Wallet (证照夹, 亮证): presentations a holder shows as a QR code. Owned by the wallet part
# (yiwang.licences.presentations); written only there.
# =============================================================================================


class Presentation(models.Model):
    """One 亮证: a presentation of a licence revealing the claims the holder chose, kept under a
    short random one-time ``token`` for a few minutes so a QR code can carry the link and the
    presentation's SHA-256 instead of the 1–2 KB presentation itself. The text is stored
    encrypted and cleared when it is fetched or has expired; the row stays as the record of
    what was shown (the names disclosed, never the values) and when."""

    token = models.CharField(_("code"), max_length=32, unique=True)
    sha256 = models.CharField(_("SHA-256 (base64url)"), max_length=43)
    licence = models.ForeignKey(
        Licence, on_delete=models.CASCADE, related_name="presentations", verbose_name=_("licence")
    )
    user = models.ForeignKey(
        "identity.User", on_delete=models.CASCADE, related_name="+", verbose_name=_("shown by")
    )
    disclosed = models.JSONField(_("claims disclosed"), default=list)
    text_ciphertext = models.BinaryField(editable=False, null=True)  # None once used or expired
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("fetched"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("presentation")
        verbose_name_plural = _("presentations")
        indexes = [models.Index(fields=["expires_at"], name="presentation_expires_idx")]

    def __str__(self) -> str:
        return self.token[:6]
