"""django.contrib.admin with the platform's admin site (see yiwang.identity.adminsite).

Kept apart from adminsite.py because INSTALLED_APPS imports it before models are ready."""

from django.contrib.admin.apps import AdminConfig


class PlatformAdminConfig(AdminConfig):
    default_site = "yiwang.identity.adminsite.PlatformAdminSite"
