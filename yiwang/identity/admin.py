"""Admin site for identity records. Identity numbers appear masked only; changes to roles go
through the services (audited), whether made in the inline or by an action."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from yiwang.identity import selectors, services
from yiwang.identity.models import (
    Department,
    Enterprise,
    EnterpriseAgent,
    Official,
    Person,
    Region,
    Role,
    RoleGrant,
    User,
)
from yiwang.identity.permissions import departments_for, has_role
from yiwang.identity.pii import id_number_index
from yiwang.lib.idnumbers import validate_id_number


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "region", "parent", "phone"]
    list_filter = ["region__level"]
    search_fields = ["code", "name", "short_name"]
    raw_id_fields = ["region", "parent"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin adapted to our fields: the password is only ever a hash, set
    through the change-password form; TOTP secrets are never shown."""

    list_display = ["username", "display_name", "is_active", "is_staff", "is_superuser", "totp_enabled"]
    list_filter = ["is_active", "is_staff", "is_superuser", "totp_enabled"]
    search_fields = ["username", "display_name", "email"]
    ordering = ["username"]
    readonly_fields = ["last_login", "date_joined", "totp_enabled"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("display_name", "email", "phone")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Sign-in"), {"fields": ("totp_enabled", "last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "display_name", "password1", "password2")}),
    )
    actions = ["reset_two_factor"]

    @admin.action(description=_("Turn two-factor sign-in off (lost phone)"))
    def reset_two_factor(self, request, queryset):
        try:
            for user in queryset:
                services.totp_reset(user=user, actor=request.user)
        except PermissionDenied:
            self.message_user(request, _("Only a superuser may do this."), messages.ERROR)
            return
        self.message_user(request, _("Two-factor sign-in was turned off for the chosen users."))


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    """Shows the masked identity number only. Searching by a full identity number finds the
    person through the blind index; otherwise the search matches names."""

    list_display = ["name", "id_number_masked", "user", "realname_level", "verified_at"]
    list_filter = ["realname_level"]
    search_fields = ["name"]
    search_help_text = _("Search by name, or by a full identity number.")
    fields = [
        "name",
        "id_number_masked",
        "phone",
        "user",
        "region",
        "realname_level",
        "verified_at",
        "verified_by",
        "created_at",
    ]
    # Who a person is changes only through the verification services (register, in person),
    # which check and audit it; the admin site shows it.
    readonly_fields = [
        "name",
        "id_number_masked",
        "user",
        "realname_level",
        "verified_at",
        "verified_by",
        "created_at",
    ]
    raw_id_fields = ["user", "region"]

    def has_add_permission(self, request):
        return False  # persons are created by real-name registration (services.person_register)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        try:
            normalised = validate_id_number(term)
        except ValidationError:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(id_number_index=id_number_index(normalised)), False


class ReadOnlyAdminMixin:
    """Enterprises and who acts for them come from the legal-entity register and from
    delegations (services, audited); the admin site only shows them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


AGENT_FIELDS = [
    "person",
    "role",
    "scope",
    "granted_by",
    "valid_until",
    "revoked_at",
    "revoked_by",
    "created_at",
]


class EnterpriseAgentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = EnterpriseAgent
    extra = 0
    fields = AGENT_FIELDS
    readonly_fields = AGENT_FIELDS


@admin.register(Enterprise)
class EnterpriseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "credit_code", "legal_representative", "source", "register_checked_at"]
    list_filter = ["source"]
    search_fields = ["name", "=credit_code"]
    inlines = [EnterpriseAgentInline]


@admin.register(EnterpriseAgent)
class EnterpriseAgentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["enterprise", "person", "role", "scope", "valid_until", "revoked_at"]
    list_filter = ["role", "scope"]


def _administers(request, official: Official | None = None) -> bool:
    """Department administrators manage the officials of their departments here, without
    Django model permissions; superusers and holders of model permissions as usual."""
    if official is None:
        return has_role(request.user, Role.ADMIN)
    return has_role(request.user, Role.ADMIN, official.department_id)


class RoleGrantInline(admin.TabularInline):
    model = RoleGrant
    extra = 1
    fields = ["role", "granted_at"]
    readonly_fields = ["granted_at"]

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or _administers(request, obj)

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) or _administers(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) or _administers(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) or _administers(request, obj)


@admin.register(Official)
class OfficialAdmin(admin.ModelAdmin):
    list_display = ["user", "department", "title", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["user__username", "user__display_name", "department__name", "department__code"]
    raw_id_fields = ["user", "department"]
    inlines = [RoleGrantInline]

    def has_module_permission(self, request):
        return super().has_module_permission(request) or _administers(request)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or _administers(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) or _administers(request, obj)

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("user", "department")
        if super().has_view_permission(request):
            return queryset
        scope = departments_for(request.user, Role.ADMIN)
        return queryset if scope is None else queryset.filter(department_id__in=scope)

    # Department administrators change roles, title and status only; they see the account and
    # the department as text (a read-only foreign key would link to admin pages they may not open).
    _AS_TEXT = {"user": "account", "department": "department_name"}

    @admin.display(description=Official._meta.get_field("user").verbose_name)
    def account(self, obj):
        return str(obj.user) if obj else ""

    @admin.display(description=Official._meta.get_field("department").verbose_name)
    def department_name(self, obj):
        return str(obj.department) if obj else ""

    def get_readonly_fields(self, request, obj=None):
        if super().has_change_permission(request, obj):
            return []
        return list(self._AS_TEXT.values())

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if super().has_change_permission(request, obj):
            return fields
        return list(dict.fromkeys(self._AS_TEXT.get(f, f) for f in fields))

    def save_formset(self, request, form, formset, change):
        """Role changes made in the inline go through role_grant / role_revoke (checked, audited);
        a refused change raises PermissionDenied, which rolls the whole save back."""
        if formset.model is not RoleGrant:
            return super().save_formset(request, form, formset, change)
        official = form.instance
        formset.save(commit=False)
        for grant in formset.deleted_objects:
            services.role_revoke(official=official, role=grant.role, actor=request.user)
        for grant, _changed in formset.changed_objects:
            old_role = RoleGrant.objects.get(pk=grant.pk).role
            if old_role != grant.role:
                services.role_revoke(official=official, role=old_role, actor=request.user)
                services.role_grant(official=official, role=grant.role, actor=request.user)
        for grant in formset.new_objects:
            services.role_grant(official=official, role=grant.role, actor=request.user)
        warning = selectors.separation_of_duties_warning(official.roles.values_list("role", flat=True))
        if warning and (formset.new_objects or formset.changed_objects):
            self.message_user(request, warning, messages.WARNING)
        return None
