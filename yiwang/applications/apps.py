from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApplicationsConfig(AppConfig):
    name = "yiwang.applications"
    label = "applications"
    verbose_name = _("Applications (一网通办)")

    def ready(self):
        # 免证办: catalog's guide promises a material is replaced by an electronic licence only for
        # the licence types the platform issues; licences sits above catalog, so it is told here.
        from yiwang.catalog import selectors as catalog_selectors

        from .licence_materials import issued_type_names

        catalog_selectors.set_licence_types_source(issued_type_names)
