"""Admin for the catalog, with an "Import catalog" view and JSON/CSV export links."""

import io

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.audit import services as audit
from yiwang.catalog import importexport, search, services
from yiwang.catalog.forms import ImportForm
from yiwang.catalog.models import BundleItem, LifeEvent, Material, ServiceItem, Synonym, Theme


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "audience", "order"]
    list_filter = ["audience"]
    search_fields = ["code", "name"]


class MaterialInline(admin.TabularInline):
    model = Material  # the admin's inline refuses to delete a material uploads point at (PROTECT)
    extra = 0


@admin.register(ServiceItem)
class ServiceItemAdmin(admin.ModelAdmin):
    """Items are written by the catalog services, as everywhere else: the form checks the item's
    own rules (ServiceItem.clean), the status changes only by the publish and retire actions."""

    list_display = ["code", "name", "item_type", "department", "level", "status", "version", "updated_at"]
    list_filter = ["status", "item_type", "level", "online_depth", "realname_level"]
    search_fields = ["code", "name", "aliases"]
    raw_id_fields = ["department", "region", "basic_item"]
    filter_horizontal = ["themes"]
    inlines = [MaterialInline]
    readonly_fields = ["status", "version", "updated_at"]
    actions = ["publish_selected", "retire_selected"]
    change_list_template = "catalog/admin_change_list.html"
    list_select_related = ["department"]

    def get_readonly_fields(self, request, obj=None):
        # The code names the item everywhere (cases, exports, other regions): fixed once created.
        return [*self.readonly_fields, "code"] if obj is not None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        """Nothing here: save_related writes the item with its materials and themes at once."""

    def save_related(self, request, form, formsets, change):
        data = form.cleaned_data
        fields = {f: data[f] for f in (*services.EDITABLE_FIELDS, *services.PLACEMENT_FIELDS) if f in data}
        materials = [
            {**f.cleaned_data, "id": f.instance.pk}
            for formset in formsets
            if formset.model is Material
            for f in formset.forms
            if f.cleaned_data and not formset._should_delete_form(f)
        ]
        themes = list(data.get("themes") or [])
        if change:
            item = services.item_update(
                item=form.instance, actor=request.user, materials=materials, themes=themes, **fields
            )
        else:
            item = services.item_create(
                actor=request.user, code=data["code"], materials=materials, themes=themes, **fields
            )
        form.instance.pk, form.instance.version = item.pk, item.version
        for formset in formsets:  # the admin's history message reads what formset.save() sets
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def _changeform_view(self, request, object_id, form_url, extra_context):
        # A refusal the form could not foresee (another writer got there first): say so, keep
        # nothing of this save.
        try:
            with transaction.atomic():
                return super()._changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            self.message_user(request, "; ".join(exc.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_model(self, request, obj):
        services.item_delete(item=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                services.item_delete(item=obj, actor=request.user)

    @admin.action(description=gettext_lazy("Publish the selected items"), permissions=["change"])
    def publish_selected(self, request, queryset):
        done = 0
        for item in queryset:
            try:
                services.item_publish(item=item, actor=request.user)
                done += 1
            except ValidationError as exc:
                self.message_user(request, f"{item.code}: {'; '.join(exc.messages)}", messages.ERROR)
        self.message_user(request, _("%(n)s items published.") % {"n": done}, messages.SUCCESS)

    @admin.action(description=gettext_lazy("Retire the selected items"), permissions=["change"])
    def retire_selected(self, request, queryset):
        for item in queryset:
            services.item_retire(item=item, actor=request.user, reason="admin")
        self.message_user(request, _("%(n)s items retired.") % {"n": queryset.count()}, messages.SUCCESS)

    def get_urls(self):
        custom = [
            path("import/", self.admin_site.admin_view(self.import_view), name="catalog_import"),
            path("export/<str:fmt>/", self.admin_site.admin_view(self.export_view), name="catalog_export"),
        ]
        return custom + super().get_urls()

    def _require_change(self, request: HttpRequest) -> None:
        if not request.user.has_perm("catalog.change_serviceitem"):
            raise PermissionDenied

    def import_view(self, request: HttpRequest) -> HttpResponse:
        self._require_change(request)
        result = None
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > importexport.MAX_FILE_BYTES:
                form.add_error("file", _("The file is larger than 32 MB."))
            else:
                result = importexport.import_catalog(
                    data=upload.read(), filename=upload.name, actor=request.user
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import catalog"),
            "form": form,
            "result": result,
        }
        return TemplateResponse(request, "catalog/admin_import.html", context)

    def export_view(self, request: HttpRequest, fmt: str) -> HttpResponse:
        self._require_change(request)
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        buffer = io.StringIO()
        if fmt == "json":
            importexport.export_json(buffer)
            content_type, name = "application/json; charset=utf-8", f"catalog-{stamp}.json"
        elif fmt in ("csv", "bundles-csv"):
            importexport.export_csv(buffer, what="items" if fmt == "csv" else "bundles")
            content_type, name = "text/csv; charset=utf-8", f"catalog-{fmt}-{stamp}.csv"
        else:
            raise PermissionDenied
        response = HttpResponse(buffer.getvalue().encode("utf-8"), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class BundleItemInline(admin.TabularInline):
    model = BundleItem
    extra = 0
    raw_id_fields = ["item"]


@admin.register(LifeEvent)
class LifeEventAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "audience", "popularity"]
    list_filter = ["audience"]
    search_fields = ["code", "name", "keywords"]
    inlines = [BundleItemInline]
    filter_horizontal = ["themes"]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        bundle = form.instance
        bundle.search_text = services.bundle_search_text(bundle)
        bundle.save(update_fields=["search_text"])
        audit.record(
            actor=request.user,
            event="catalog:bundle:update" if change else "catalog:bundle:create",
            target=bundle,
            data={"via": "admin"},
        )


@admin.register(Synonym)
class SynonymAdmin(admin.ModelAdmin):
    list_display = ["term", "expansions"]
    search_fields = ["term", "expansions"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit.record(actor=request.user, event="catalog:synonym:save", target=obj, data={"via": "admin"})
        transaction.on_commit(search.clear_caches)
