"""Writes to the catalog. Each service is atomic, audited and keeps the search index in sync."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from yiwang.audit import services as audit
from yiwang.catalog import search
from yiwang.catalog.models import BundleItem, LifeEvent, Material, ServiceItem, Synonym

# Elements an implementation item copies from its basic item.
ELEMENT_FIELDS = [
    "name",
    "item_type",
    "legal_basis",
    "conditions",
    "process_steps",
    "statutory_limit_days",
    "promised_limit_days",
    "fee_description",
    "is_free",
    "visits_needed",
    "online_depth",
    "channels",
    "consult_phone",
    "complaint_phone",
    "service_object",
    "realname_level",
    "address",
    "hours",
    "aliases",
    "description",
]
MATERIAL_FIELDS = [
    "name",
    "source",
    "form",
    "copies",
    "required",
    "licence_replaceable",
    "licence_type",
    "notes",
    "order",
]
EDITABLE_FIELDS = [*ELEMENT_FIELDS, "level", "popularity"]
PLACEMENT_FIELDS = ["department", "region", "basic_item"]


def _reindex(item: ServiceItem) -> None:
    item = ServiceItem.objects.select_related("department").prefetch_related("materials").get(pk=item.pk)
    search.index_items([item])


def _set_materials(item: ServiceItem, materials: list[dict[str, Any]]) -> bool:
    """Make the item's materials these, in this order; return whether anything changed. A
    material is kept (its id, and the applications' uploads of it, stay) when an entry names its
    ``id`` or, failing that, its name; the others are created, and the ones left out removed."""
    current = {m.pk: m for m in item.materials.all()}
    by_name = {m.name: m for m in current.values()}
    kept: set[int] = set()
    changed = False
    to_create = []
    for n, raw in enumerate(materials, start=1):
        values = {"order": n, **{k: v for k, v in raw.items() if k in MATERIAL_FIELDS}}
        material = current.get(raw.get("id")) or by_name.get(values.get("name", ""))
        if material is None or material.pk in kept:
            material = Material(item=item, **values)
            material.full_clean(exclude=["item"])
            to_create.append(material)
            continue
        kept.add(material.pk)
        differs = [k for k, v in values.items() if getattr(material, k) != v]
        if differs:
            for key in differs:
                setattr(material, key, values[key])
            material.full_clean(exclude=["item"])
            material.save(update_fields=differs)
            changed = True
    gone = [pk for pk in current if pk not in kept]
    if gone:
        try:
            with transaction.atomic():
                Material.objects.filter(pk__in=gone).delete()
        except ProtectedError as exc:
            names = ", ".join(current[pk].name for pk in gone)
            raise ValidationError(
                {
                    "materials": _(
                        "Applications have used some of these materials, so they cannot be removed: %(names)s"
                    )
                    % {"names": names}
                }
            ) from exc
    Material.objects.bulk_create(to_create)
    return changed or bool(gone) or bool(to_create)


@transaction.atomic
def item_create(
    *,
    actor,
    code: str,
    department,
    region,
    level: str,
    materials: list[dict[str, Any]] | None = None,
    themes: list | None = None,
    basic_item: ServiceItem | None = None,
    **elements: Any,
) -> ServiceItem:
    """Create a draft item with its materials; audited as catalog:item:create."""
    unknown = set(elements) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Unknown item elements: {sorted(unknown)}")
    if ServiceItem.objects.filter(code=code).exists():
        raise ValidationError({"code": _("An item with this code already exists.")})
    item = ServiceItem(
        code=code, department=department, region=region, level=level, basic_item=basic_item, **elements
    )
    item.full_clean(exclude=["basic_item"])
    item.save()
    _set_materials(item, materials or [])
    if themes:
        item.themes.set(themes)
    _reindex(item)
    audit.record(
        actor=actor, event="catalog:item:create", target=item, data={"code": code, "name": item.name}
    )
    return item


@transaction.atomic
def item_update(
    *,
    item: ServiceItem,
    actor,
    materials: list[dict[str, Any]] | None = None,
    themes: list | None = None,
    **changes: Any,
) -> ServiceItem:
    """Change elements, placement (department, region, basic item), the materials (in place, see
    ``_set_materials``) or the themes; bumps the version; audited. A published item stays
    publishable (ServiceItem.clean)."""
    unknown = set(changes) - set(EDITABLE_FIELDS) - set(PLACEMENT_FIELDS)
    if unknown:
        raise TypeError(f"Unknown item elements: {sorted(unknown)}")
    item = ServiceItem.objects.select_for_update().get(pk=item.pk)
    changed = sorted(k for k, v in changes.items() if getattr(item, k) != v)
    for key, value in changes.items():
        setattr(item, key, value)
    item.full_clean(exclude=["basic_item"])
    if item.basic_item_id == item.pk:
        raise ValidationError({"basic_item": _("An item cannot implement itself.")})
    if materials is not None and _set_materials(item, materials):
        changed.append("materials")
    if themes is not None and {t.pk for t in item.themes.all()} != {t.pk for t in themes}:
        item.themes.set(themes)
        changed.append("themes")
    if not changed:
        return item
    item.version += 1
    columns = [c for c in changed if c not in ("materials", "themes")]
    item.save(update_fields=[*columns, "version", "updated_at"])
    _reindex(item)
    audit.record(
        actor=actor,
        event="catalog:item:update",
        target=item,
        data={"fields": changed, "version": item.version},
    )
    return item


@transaction.atomic
def item_publish(*, item: ServiceItem, actor) -> ServiceItem:
    """Publish a draft (or re-publish a retired) item; it appears in search."""
    item = ServiceItem.objects.select_for_update().get(pk=item.pk)
    if item.status == ServiceItem.Status.PUBLISHED:
        return item
    previous = item.status
    item.status = ServiceItem.Status.PUBLISHED
    item.full_clean(exclude=["basic_item"])  # the item's own rules, the publishing ones included
    item.save(update_fields=["status", "updated_at"])
    audit.record(actor=actor, event="catalog:item:publish", target=item, data={"from": previous})
    return item


@transaction.atomic
def item_retire(*, item: ServiceItem, actor, reason: str = "") -> ServiceItem:
    """Retire an item: it leaves search and the guide pages; its record stays."""
    item = ServiceItem.objects.select_for_update().get(pk=item.pk)
    if item.status == ServiceItem.Status.RETIRED:
        return item
    previous = item.status
    item.status = ServiceItem.Status.RETIRED
    item.save(update_fields=["status", "updated_at"])
    audit.record(
        actor=actor, event="catalog:item:retire", target=item, data={"from": previous, "reason": reason}
    )
    return item


@transaction.atomic
def item_delete(*, item: ServiceItem, actor) -> None:
    """Delete an item (an item with cases or implementations is protected: retire it instead);
    it leaves search; audited with its code."""
    item = ServiceItem.objects.select_for_update().get(pk=item.pk)
    pk = item.pk
    audit.record(actor=actor, event="catalog:item:delete", target=item, data={"code": item.code})
    item.delete()
    search.unindex_items([pk])


def derived_code(basic: ServiceItem, region) -> str:
    return f"{basic.code}-{region.code}"


@transaction.atomic
def item_derive_implementation(*, basic: ServiceItem, region, department, actor) -> ServiceItem:
    """Copy a basic item's elements and materials into a draft implementation item (实施清单)
    for a region and department, with the code ``<basic code>-<region code>``."""
    if basic.basic_item_id is not None:
        raise ValidationError(_("Only a basic catalog item can be implemented."))
    if department.region_id != region.pk:
        raise ValidationError({"department": _("The department does not belong to this region.")})
    level = {"province": "province", "city": "city", "county": "county"}.get(region.level, "county")
    item = item_create(
        actor=actor,
        code=derived_code(basic, region),
        department=department,
        region=region,
        level=level,
        basic_item=basic,
        materials=[{f: getattr(m, f) for f in MATERIAL_FIELDS} for m in basic.materials.all()],
        themes=list(basic.themes.all()),
        popularity=basic.popularity,
        **{f: getattr(basic, f) for f in ELEMENT_FIELDS},
    )
    audit.record(
        actor=actor,
        event="catalog:item:derive",
        target=item,
        data={"basic": basic.code, "region": region.code, "department": department.code},
    )
    return item


def bundle_search_text(bundle: LifeEvent) -> str:
    return search.segment(" ".join([bundle.name, bundle.summary, bundle.keywords.replace(",", " ")]))


@transaction.atomic
def bundle_save(
    *,
    actor,
    code: str,
    name: str,
    audience: str,
    items: list[ServiceItem],
    summary: str = "",
    description: str = "",
    keywords: str = "",
    themes: list | None = None,
    popularity: int = 0,
) -> LifeEvent:
    """Create or replace a life-event bundle with its ordered items; audited."""
    bundle = LifeEvent.objects.select_for_update().filter(code=code).first()
    created = bundle is None
    bundle = bundle or LifeEvent(code=code)
    bundle.name, bundle.summary, bundle.description = name, summary, description
    bundle.audience, bundle.keywords, bundle.popularity = audience, keywords, popularity
    bundle.search_text = bundle_search_text(bundle)
    bundle.full_clean()
    bundle.save()
    bundle.entries.all().delete()
    BundleItem.objects.bulk_create(
        [BundleItem(bundle=bundle, item=item, order=n) for n, item in enumerate(items, start=1)]
    )
    if themes is not None:
        bundle.themes.set(themes)
    audit.record(
        actor=actor,
        event="catalog:bundle:create" if created else "catalog:bundle:update",
        target=bundle,
        data={"code": code, "items": [i.code for i in items]},
    )
    return bundle


@transaction.atomic
def synonym_save(*, actor, term: str, expansions: list[str]) -> Synonym:
    """Add or change a search synonym. Re-run catalog_reindex if the term is a new word."""
    term = term.strip()
    if not term or not expansions:
        raise ValidationError(_("A synonym needs a term and at least one expansion."))
    synonym, _created = Synonym.objects.update_or_create(
        term=term, defaults={"expansions": ",".join(expansions)}
    )
    audit.record(actor=actor, event="catalog:synonym:save", target=synonym, data={"expansions": expansions})
    transaction.on_commit(search.clear_caches)
    return synonym
