"""The rows of an open dataset: one page through the exchange's row query (``rowquery``), and the
whole table written as CSV, JSON or XLSX for downloads. Datasets never hold personal fields
(``services.reasons_not_openable``); the fields are checked again here, failing closed."""

import csv
import io
import json
from collections.abc import Iterator

from django.utils.translation import gettext as _

from yiwang.exchange import rowquery
from yiwang.exchange.errors import NotAllowed
from yiwang.exchange.models import ResourceField, ResourceRow
from yiwang.opendata.models import Dataset

CKAN_TYPES = {
    "string": "text",
    "integer": "int",
    "decimal": "numeric",
    "date": "date",
    "datetime": "timestamp",
    "boolean": "bool",
}
EXPORT_BATCH = 2000


def open_fields(dataset: Dataset) -> list[ResourceField]:
    """The fields of the dataset's resource; refuses if any turned personal since publishing."""
    fields = list(ResourceField.objects.filter(resource_id=dataset.resource_id).order_by("position", "pk"))
    if any(f.is_personal for f in fields):
        raise NotAllowed(_("This dataset now holds personal information and cannot be served."))
    return fields


def page(
    dataset: Dataset,
    query: rowquery.RowQuery,
    fields: list[ResourceField] | None = None,
    *,
    count: bool = True,
    estimate_above: int | None = None,
):
    """One page of rows (``rowquery.RowPage``); raises ``rowquery.QueryError`` for bad queries.
    ``count`` and ``estimate_above``: how the total is found (see ``rowquery.run``)."""
    fields = open_fields(dataset) if fields is None else fields
    return rowquery.run(dataset.resource, fields, query, count=count, estimate_above=estimate_above)


def _all_rows(dataset: Dataset, fields: list[ResourceField]) -> Iterator[list]:
    names = [f.name for f in fields]
    last = 0
    while True:
        batch = list(
            ResourceRow.objects.filter(resource_id=dataset.resource_id, row_no__gt=last)
            .order_by("row_no")
            .values_list("row_no", "data")[:EXPORT_BATCH]
        )
        if not batch:
            return
        for _row_no, data in batch:
            yield [data.get(n) for n in names]
        last = batch[-1][0]


def csv_chunks(dataset: Dataset, fields: list[ResourceField]) -> Iterator[bytes]:
    """The table (``fields``: ``open_fields(dataset)``) as UTF-8 CSV with a BOM (so spreadsheet
    programs read Chinese), header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([f.name for f in fields])
    yield ("\ufeff" + buffer.getvalue()).encode()
    for values in _all_rows(dataset, fields):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(["" if v is None else v for v in values])
        yield buffer.getvalue().encode()


def json_chunks(dataset: Dataset, fields: list[ResourceField]) -> Iterator[bytes]:
    """The table as a JSON object: the fields (name, label, type) and the records."""
    head = {
        "dataset": dataset.name,
        "fields": [
            {"id": f.name, "label": f.label_zh, "type": CKAN_TYPES.get(f.type, "text")} for f in fields
        ],
    }
    yield (json.dumps(head, ensure_ascii=False)[:-1] + ', "records": [').encode()
    names = [f.name for f in fields]
    first = True
    for values in _all_rows(dataset, fields):
        yield (
            ("" if first else ",") + json.dumps(dict(zip(names, values, strict=True)), ensure_ascii=False)
        ).encode()
        first = False
    yield b"]}"


def xlsx_bytes(dataset: Dataset, fields: list[ResourceField]) -> bytes:
    """The table as an XLSX workbook (write-only mode: memory stays flat)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=dataset.name[:31])
    sheet.append([f.name for f in fields])
    sheet.append([f.label_zh for f in fields])
    for values in _all_rows(dataset, fields):
        sheet.append(values)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
