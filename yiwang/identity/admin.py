"""Admin site for identity records. Identity numbers appear masked only; changes to roles go
through the services (audited), whether made in the inline or by an action."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from oauth2_provider import models as oauth2_models

from yiwang.identity import oidc_services, selectors, services
from yiwang.identity.models import (
    Department,
    Enterprise,
    EnterpriseAgent,
    Official,
    OidcClient,
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


# --- single sign-on clients (docs/sso.md) ------------------------------------------------------
# django-oauth-toolkit's own admin pages show tokens, grants and every department's applications
# to anyone with model permissions; here a department's administrators manage their department's
# clients only, through the services (audited), and secrets are shown once.
for _model in (
    oauth2_models.get_application_model(),
    oauth2_models.get_access_token_model(),
    oauth2_models.get_grant_model(),
    oauth2_models.get_id_token_model(),
    oauth2_models.get_refresh_token_model(),
):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


class OidcClientForm(forms.ModelForm):
    name = forms.CharField(label=_("name of the system"), max_length=255)
    redirect_uris = forms.CharField(
        label=_("redirect addresses"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One full address a line, exactly as the system sends it (https://…/callback)."),
    )
    post_logout_redirect_uris = forms.CharField(
        label=_("addresses after sign-out"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Where the system may send users after they sign out; one a line."),
    )
    reset_secret = forms.BooleanField(
        label=_("issue a new client secret"),
        required=False,
        help_text=_("The old secret stops working at once; the new one is shown once."),
    )

    class Meta:
        model = OidcClient
        fields = ["department"]

    def __init__(self, *args, departments=None, **kwargs):
        super().__init__(*args, **kwargs)
        if departments is not None:
            self.fields["department"].queryset = Department.objects.filter(pk__in=departments)
        if self.instance.pk:
            app = self.instance.application
            self.fields["name"].initial = app.name
            self.fields["redirect_uris"].initial = app.redirect_uris
            self.fields["post_logout_redirect_uris"].initial = app.post_logout_redirect_uris
        else:
            del self.fields["reset_secret"]

    def clean(self):
        data = super().clean()
        for field in ("redirect_uris", "post_logout_redirect_uris"):
            if field in data:
                try:
                    oidc_services.parse_uris(data[field], field=field, required=field == "redirect_uris")
                except ValidationError as exc:
                    for message in exc.message_dict[field]:
                        self.add_error(field, message)
        return data


@admin.register(OidcClient)
class OidcClientAdmin(admin.ModelAdmin):
    form = OidcClientForm
    list_display = ["__str__", "client_id", "department", "created_at"]
    search_fields = ["application__name", "application__client_id", "department__name"]
    readonly_fields = ["client_id", "created_at"]
    fieldsets = ((None, {"fields": ["name", "department", "redirect_uris", "post_logout_redirect_uris"]}),)

    @admin.display(description=_("client id"))
    def client_id(self, obj):
        return obj.application.client_id if obj and obj.pk else ""

    def get_fieldsets(self, request, obj=None):
        fields = ["name", "department", "redirect_uris", "post_logout_redirect_uris"]
        if obj is not None:
            fields = ["client_id", *fields, "reset_secret", "created_at"]
        return ((None, {"fields": fields}),)

    def _scope(self, request):
        return departments_for(request.user, Role.ADMIN)

    def has_module_permission(self, request):
        return has_role(request.user, Role.ADMIN)

    def has_view_permission(self, request, obj=None):
        return has_role(request.user, Role.ADMIN, obj.department_id if obj else None)

    has_change_permission = has_view_permission
    has_delete_permission = has_view_permission

    def has_add_permission(self, request):
        return has_role(request.user, Role.ADMIN)

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("application", "department")
        scope = self._scope(request)
        return queryset if scope is None else queryset.filter(department_id__in=scope)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        scope = self._scope(request)

        class ScopedForm(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, departments=scope, **kw)

        return ScopedForm

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data  # a refused change raises PermissionDenied (403), nothing saved
        if change:
            oidc_services.client_update(
                actor=request.user,
                client=obj,
                name=data["name"],
                redirect_uris=data["redirect_uris"],
                post_logout_redirect_uris=data.get("post_logout_redirect_uris", ""),
                department=data["department"],
            )
            if data.get("reset_secret"):
                request._oidc_secret = oidc_services.client_reset_secret(actor=request.user, client=obj)
        else:
            client, secret = oidc_services.client_register(
                actor=request.user,
                department=data["department"],
                name=data["name"],
                redirect_uris=data["redirect_uris"],
                post_logout_redirect_uris=data.get("post_logout_redirect_uris", ""),
            )
            obj.pk, obj.application = client.pk, client.application
            request._oidc_secret = secret

    def save_related(self, request, form, formsets, change):
        return None  # no inlines; the services saved everything

    def delete_model(self, request, obj):
        oidc_services.client_delete(actor=request.user, client=obj)

    def delete_queryset(self, request, queryset):
        for client in queryset:
            oidc_services.client_delete(actor=request.user, client=client)

    def _secret_page(self, request, obj):
        context = {
            **self.admin_site.each_context(request),
            "title": _("Client secret of %(name)s") % {"name": obj.application.name},
            "client": obj,
            "secret": request._oidc_secret,
            "opts": self.model._meta,
        }
        response = TemplateResponse(request, "identity/admin_oidc_secret.html", context)
        response["Cache-Control"] = "no-store"
        return response

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, "_oidc_secret", None):
            return self._secret_page(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if getattr(request, "_oidc_secret", None):
            return self._secret_page(request, obj)
        return super().response_change(request, obj)
