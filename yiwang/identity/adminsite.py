"""The admin site behind the platform's one door.

Its own login page is gone: ``/admin/login/`` sends to the platform's sign-in (throttled, with
the two-factor step and audited) and back. Its pages need ``is_staff`` and unlocked
administrator powers (two-factor sign-in on and passed in this session; see permissions).
"""

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from yiwang.identity import permissions


class PlatformAdminSite(admin.AdminSite):
    def has_permission(self, request) -> bool:
        return super().has_permission(request) and permissions.second_factor_passed(request.user)

    def login(self, request, extra_context=None):
        """Never a password form: the platform's sign-in, then back to ``next``."""
        target = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = ""
        target = target or reverse("admin:index", current_app=self.name)
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(target)
        if self.has_permission(request):
            return redirect(target)
        if user.is_active and user.is_staff:  # admin access, but locked
            return permissions.second_factor_redirect(request)
        return permissions.forbidden(request, _("Your account may not use the administration site."))

    def logout(self, request, extra_context=None):
        """The platform's sign-out (POST only, audited)."""
        from yiwang.identity.views import logout_view

        return logout_view(request)
