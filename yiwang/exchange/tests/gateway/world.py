"""The gateway tests' world, built directly with the ORM and ``rows.build_rows`` (the catalog's
services are tested on their own): the population base data A01001 of 陕西省公安厅 with three
people, an http resource C03001 of 陕西省人力资源和社会保障厅, and grants to 西安市市场监督管理局
(department X). The fixtures are in ``conftest.py``."""

import datetime as dt

from django.utils import timezone

from yiwang.exchange import basedata
from yiwang.exchange import rows as rowstore
from yiwang.exchange.models import DataResource, Grant, ResourceField, ResourceRow

ZHANG = {
    "id_number": "61010219900101001X",
    "name": "张三",
    "gender": "男",
    "birth_date": "1990-01-01",
    "household_region": "610102",
    "household_address": "陕西省西安市新城区解放路100号",
    "residence_region": "610102",
    "residence_since": "2015-03-01",
    "phone": "13800001111",
}
LI = {
    "id_number": "610113198506150022",
    "name": "欧阳娜娜",
    "gender": "女",
    "birth_date": "1985-06-15",
    "household_region": "610113",
    "household_address": "陕西省西安市雁塔区长安南路8号",
    "residence_region": "610113",
    "residence_since": "2020-09-01",
    "phone": "13900002222",
}
ZHOU = {
    "id_number": "610113197001157978",
    "name": "周六",
    "gender": "男",
    "birth_date": "1970-01-15",
    "household_region": "610113",
    "household_address": "陕西省西安市雁塔区小寨路1号",
    "residence_region": "610102",
    "residence_since": "2001-01-01",
    "phone": "029-88886666",
}


def make_resource(code, provider, spec_code, *, records=(), **extra) -> DataResource:
    """A published resource with the fields of ``basedata.BASE_RESOURCES[spec_code]`` and rows."""
    spec = basedata.BASE_RESOURCES[spec_code]
    resource = DataResource.objects.create(
        code=code,
        name=spec["name"],
        provider=provider,
        kind=spec["kind"],
        share_class=extra.pop("share_class", "conditional"),
        share_conditions="依法履职需要",
        update_frequency="daily",
        key_field=spec["key_field"],
        state="published",
        **extra,
    )
    fields = [
        ResourceField.objects.create(
            resource=resource,
            name=name,
            label_zh=zh,
            label_en=en,
            type=kind,
            grade=grade,
            personal=personal,
            position=i,
        )
        for i, (name, zh, en, kind, grade, personal) in enumerate(spec["fields"])
    ]
    if records:
        ResourceRow.objects.bulk_create(rowstore.build_rows(resource, fields, records))
        resource.row_count = len(records)
        resource.save(update_fields=["row_count"])
    return resource


def make_grant(resource, consumer, fields, **extra) -> Grant:
    return Grant.objects.create(
        resource=resource,
        consumer=consumer,
        fields=list(fields),
        purpose=extra.pop("purpose", "市场主体登记核验"),
        valid_until=extra.pop("valid_until", timezone.now() + dt.timedelta(days=30)),
        **extra,
    )


def short_deadline(resource, ms: int = 300):
    """Give ``resource``'s upstream a short deadline (the timeout tests)."""
    resource.upstream_timeout_ms = ms
    resource.save(update_fields=["upstream_timeout_ms"])
