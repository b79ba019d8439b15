"""People, enterprises, departments and regions; who may act for whom.

Identity numbers are never stored in clear: ``Person.id_number_ciphertext`` holds the
AES-GCM ciphertext, ``id_number_index`` an HMAC blind index for exact lookup and
``id_number_masked`` the masked form shown by default (see yiwang.lib.crypto / masking).
"""

from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin, UserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Region(models.Model):
    """An administrative division with its GB/T 2260 code."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("Province")
        CITY = "city", _("City")
        COUNTY = "county", _("County")

    code = models.CharField(_("division code"), max_length=6, unique=True)
    name = models.CharField(_("name"), max_length=64)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    """A government department of one region, possibly under another department."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=128)
    short_name = models.CharField(_("short name"), max_length=64, blank=True)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="departments", verbose_name=_("region")
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )
    phone = models.CharField(_("consulting phone"), max_length=32, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)

    class Meta:
        ordering = ["region__code", "code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name


class User(AbstractBaseUser, PermissionsMixin):
    """A sign-in account. Who the account is (a person, an official) hangs off it."""

    username = models.CharField(_("user name"), max_length=64, unique=True)
    display_name = models.CharField(_("name"), max_length=64, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("may use the admin site"), default=False)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)
    # Base32 TOTP secret, encrypted with the field key; empty when two-factor sign-in is off.
    totp_secret_ciphertext = models.BinaryField(
        _("TOTP secret (encrypted)"), null=True, blank=True, editable=False
    )
    totp_enabled = models.BooleanField(_("two-factor sign-in on"), default=False)
    # The last TOTP time step accepted, so one code cannot be used twice (replay).
    totp_last_step = models.BigIntegerField(_("last TOTP step used"), null=True, blank=True, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username


class RealNameLevel(models.IntegerChoices):
    """How sure the platform is that an account belongs to the person it names (实名等级).

    The one definition used by models, pages, the API and the catalog (an item declares the
    level applying for it needs). Higher is stronger; compare with ``>=``.
    """

    SELF_DECLARED = 1, _("L1 · self-declared")  # typed at registration, checked by nobody
    REGISTER = 2, _("L2 · checked against the population register")  # 人口库 confirmed name + number
    IN_PERSON = 3, _("L3 · checked in person")  # an official saw the identity card at a service hall


class Person(models.Model):
    """A natural person's real-name identity as one account states it (自然人).

    At L1 the name and number are only declared: several accounts may declare the same number,
    so registration reveals nothing about who else registered. From L2 on the identity is bound:
    one verified person per identity number (constraint ``person_verified_id_number_unique``).
    """

    Level = RealNameLevel

    user = models.OneToOneField(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="person",
        verbose_name=_("account"),
    )
    name = models.CharField(_("name"), max_length=64)
    id_number_ciphertext = models.BinaryField(_("identity number (encrypted)"), editable=False)
    id_number_index = models.CharField(
        _("identity number blind index"), max_length=64, db_index=True, editable=False
    )
    id_number_masked = models.CharField(_("identity number"), max_length=18, editable=False)
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("household region"),
    )
    realname_level = models.PositiveSmallIntegerField(
        _("real-name level"), choices=RealNameLevel.choices, default=RealNameLevel.SELF_DECLARED
    )
    # When the current level was reached (null at L1) and, for L3, the official who checked.
    verified_at = models.DateTimeField(_("real-name verified at"), null=True, blank=True)
    verified_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("checked in person by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("natural person")
        verbose_name_plural = _("natural persons")
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_index"],
                condition=Q(realname_level__gte=2),
                name="person_verified_id_number_unique",
            ),
            models.CheckConstraint(
                condition=Q(realname_level__gte=1, realname_level__lte=3), name="person_realname_level_1_3"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.id_number_masked})"

    @property
    def is_verified(self) -> bool:
        """Whether a register or an official confirmed this identity (L2 or higher)."""
        return self.realname_level >= RealNameLevel.REGISTER


class Enterprise(models.Model):
    """A legal person or other organisation with a unified social credit code (法人).

    Rows come from the legal-entity register (``source`` = register): nobody types an enterprise
    into existence. Rows made before the register was wired in are kept as ``declared``; they
    are shown as declared and nobody acts for them until the register confirms them.
    """

    class Source(models.TextChoices):
        REGISTER = "register", _("Legal-entity register")
        DECLARED = "declared", _("Declared by an applicant (not confirmed)")

    name = models.CharField(_("name"), max_length=128)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    legal_representative = models.CharField(_("legal representative"), max_length=64, blank=True)
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("registered region"),
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    source = models.CharField(
        _("source of these details"), max_length=16, choices=Source.choices, default=Source.DECLARED
    )
    register_checked_at = models.DateTimeField(_("last checked with the register"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")

    def __str__(self) -> str:
        return self.name

    @property
    def from_register(self) -> bool:
        return self.source == self.Source.REGISTER


class EnterpriseAgent(models.Model):
    """A person allowed to act for an enterprise: its legal representative (法定代表人, as the
    legal-entity register names them) or an agent the representative delegated (授权委托:
    scoped, with an end date, revocable). Revoked rows are kept as the record of who could act."""

    class Role(models.TextChoices):
        LEGAL_REPRESENTATIVE = "legal_rep", _("Legal representative")
        AGENT = "agent", _("Authorised agent")

    class Scope(models.TextChoices):
        APPLY = "apply", _("Apply for services and follow the enterprise's applications")
        TRACK = "track", _("Follow the enterprise's applications only")

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="agents")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="agencies")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.AGENT)
    scope = models.CharField(_("scope"), max_length=16, choices=Scope.choices, default=Scope.APPLY)
    granted_by = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="delegations_granted",
        verbose_name=_("delegated by"),
    )
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("revoked by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("enterprise agent")
        verbose_name_plural = _("enterprise agents")
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "person"],
                condition=Q(revoked_at__isnull=True),
                name="agent_unique_per_enterprise",
            ),
            # A delegation always ends; only the register's representative has no end date.
            models.CheckConstraint(
                condition=Q(role="legal_rep") | Q(valid_until__isnull=False),
                name="agent_delegation_has_end_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person.name} → {self.enterprise.name}"


class AccountNotice(models.Model):
    """A security notice to an account holder (e.g. someone else declared their identity
    number). Shown on "My account" and emailed after commit when the account has an address."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="account_notices")
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    # The message as a key and parameters (notice_texts), rendered in the reader's language;
    # ``subject`` and ``body`` keep the zh-Hans rendering for email and for rows without a key.
    message_key = models.CharField(_("message key"), max_length=64, blank=True)
    params = models.JSONField(_("message parameters"), default=dict, blank=True)
    created_at = models.DateTimeField(_("sent"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("account notice")
        verbose_name_plural = _("account notices")

    def __str__(self) -> str:
        return self.subject

    @property
    def subject_text(self) -> str:
        """The subject in the reader's language (as written for a row without a key)."""
        from yiwang.identity import notice_texts

        rendered = notice_texts.subject(self.message_key, self.params) if self.message_key else ""
        return rendered or self.subject

    @property
    def body_text(self) -> str:
        """The text in the reader's language (as written for a row without a key)."""
        from yiwang.identity import notice_texts

        rendered = notice_texts.body(self.message_key, self.params) if self.message_key else ""
        return rendered or self.body


class RealNameAttempt(models.Model):
    """A failed real-name check of one account, kept to limit guessing names against numbers."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.at:%Y-%m-%d %H:%M}"


class Official(models.Model):
    """A government employee (工作人员) belonging to one department."""

    user = models.OneToOneField(
        User, on_delete=models.PROTECT, related_name="official", verbose_name=_("account")
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="officials", verbose_name=_("department")
    )
    title = models.CharField(_("post"), max_length=64, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("official")
        verbose_name_plural = _("officials")

    def __str__(self) -> str:
        return f"{self.user} · {self.department}"


class Role(models.TextChoices):
    CLERK = "clerk", _("Clerk (acceptance)")
    REVIEWER = "reviewer", _("Reviewer")
    APPROVER = "approver", _("Approver")
    DATA_STEWARD = "data_steward", _("Data steward")
    INSPECTOR = "inspector", _("Inspector")
    AUDITOR = "auditor", _("Auditor")
    ADMIN = "admin", _("Department administrator")
    LEADER = "leader", _("Leader")


# The roles that handle cases, one per duty: acceptance, review, approval (受理、审核、审批).
CASE_ROLES = (Role.CLERK, Role.REVIEWER, Role.APPROVER)
# Officials whose work is on the applications workbench: case handlers, their leaders, admins.
WORKBENCH_ROLES = (*CASE_ROLES, Role.LEADER, Role.ADMIN)


class RoleGrant(models.Model):
    """One role held by one official, scoped to the official's department."""

    official = models.ForeignKey(
        Official, on_delete=models.CASCADE, related_name="roles", verbose_name=_("official")
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    granted_at = models.DateTimeField(_("granted"), auto_now_add=True)

    class Meta:
        verbose_name = _("role grant")
        verbose_name_plural = _("role grants")
        constraints = [models.UniqueConstraint(fields=["official", "role"], name="role_grant_unique")]

    def __str__(self) -> str:
        return f"{self.official} · {self.get_role_display()}"


class LoginFailure(models.Model):
    """A failed sign-in, kept briefly to throttle guessing (per account and per address)."""

    username_key = models.CharField(max_length=64, db_index=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["client_ip", "at"], name="loginfailure_ip_at")]

    def __str__(self) -> str:
        return f"{self.username_key} @ {self.at:%Y-%m-%d %H:%M}"


class OidcClient(models.Model):
    """A department's own system that signs its users in through the platform (OpenID Connect).

    The protocol side (client id, hashed secret, redirect URIs) is django-oauth-toolkit's
    ``Application``; this row says which department registered it and answers for it. Clients
    are registered, changed and removed only through ``oidc_services`` (audited)."""

    application = models.OneToOneField(
        "oauth2_provider.Application",
        on_delete=models.CASCADE,
        related_name="oidc_client",
        verbose_name=_("OAuth application"),
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="oidc_clients", verbose_name=_("department")
    )
    created_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("registered by"),
    )
    created_at = models.DateTimeField(_("registered"), auto_now_add=True)

    class Meta:
        ordering = ["department__code", "application__name"]
        verbose_name = _("single sign-on client")
        verbose_name_plural = _("single sign-on clients")

    def __str__(self) -> str:
        return self.application.name


class OidcSignIn(models.Model):
    """One sign-in of a user at a client: made when the user consents (an authorization code is
    issued), redeemed once at the token endpoint. Remembers which enterprise the user acted for
    and which tokens the code gave, so a replayed code can revoke them (RFC 6749 §4.1.2). Only a
    hash of the code is kept; tokens are django-oauth-toolkit's rows (stored as checksums)."""

    client = models.ForeignKey(OidcClient, on_delete=models.CASCADE, related_name="sign_ins")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    code_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=255)
    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    redeemed_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    access_token = models.OneToOneField(
        "oauth2_provider.AccessToken", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("single sign-on")
        verbose_name_plural = _("single sign-ons")

    def __str__(self) -> str:
        return f"{self.client_id} · {self.user_id} @ {self.created_at:%Y-%m-%d %H:%M}"
