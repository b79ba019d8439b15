"""People, enterprises, departments and regions; who may act for whom.

Identity numbers are never stored in clear: ``Person.id_number_ciphertext`` holds the
AES-GCM ciphertext, ``id_number_index`` an HMAC blind index for exact lookup and
``id_number_masked`` the masked form shown by default (see yiwang.lib.crypto / masking).
"""

from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin, UserManager
from django.db import models
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


class Person(models.Model):
    """A natural person with a real-name identity (自然人)."""

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
        _("identity number blind index"), max_length=64, unique=True, editable=False
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
    verified_at = models.DateTimeField(_("real-name verified at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("natural person")
        verbose_name_plural = _("natural persons")

    def __str__(self) -> str:
        return f"{self.name} ({self.id_number_masked})"


class Enterprise(models.Model):
    """A legal person or other organisation with a unified social credit code (法人)."""

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
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")

    def __str__(self) -> str:
        return self.name


class EnterpriseAgent(models.Model):
    """A person allowed to act for an enterprise (法定代表人 or 经办人)."""

    class Role(models.TextChoices):
        LEGAL_REPRESENTATIVE = "legal_rep", _("Legal representative")
        AGENT = "agent", _("Authorised agent")

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="agents")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="agencies")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.AGENT)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("enterprise agent")
        verbose_name_plural = _("enterprise agents")
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "person"], name="agent_unique_per_enterprise")
        ]

    def __str__(self) -> str:
        return f"{self.person.name} → {self.enterprise.name}"


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
