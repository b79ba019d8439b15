"""Reading the table a data steward uploads (CSV or XLSX) into header and rows.

CSV is read as UTF-8 (with or without a byte order mark) or, failing that, GB18030 (what Excel
and WPS save on Chinese Windows); XLSX with openpyxl, the first sheet, values only. What is read
is text, numbers, dates or booleans as the file holds them; the loader converts each cell to its
field's type. A file that cannot be read raises ``TableError`` saying why.
"""

from __future__ import annotations

import csv
import datetime
import io
import zipfile
from dataclasses import dataclass

from django.utils.translation import gettext as _

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 500_000
MAX_COLUMNS = 200


class TableError(ValueError):
    """The file cannot be read as a table (the message says why)."""


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, list]]  # (line number in the file, cells)


def column_letter(index: int) -> str:
    """A (0-based) column's spreadsheet letter: 0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _decode(content: bytes) -> str:
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030")
    except UnicodeDecodeError:
        raise TableError(_("The file is neither UTF-8 nor GB18030 text: save it as CSV UTF-8.")) from None


def _finish(headers: list, rows: list[tuple[int, list]]) -> Table:
    headers = ["" if h is None else str(h).strip() for h in headers]
    while headers and not headers[-1]:
        headers.pop()
    if not headers:
        raise TableError(_("The first line must name the columns."))
    if len(headers) > MAX_COLUMNS:
        raise TableError(_("At most %(n)d columns.") % {"n": MAX_COLUMNS})
    kept = []
    for line, cells in rows:
        cells = list(cells)
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue  # blank lines carry nothing
        kept.append((line, cells))
        if len(kept) > MAX_ROWS:
            raise TableError(_("At most %(n)d rows in one file.") % {"n": MAX_ROWS})
    return Table(headers=headers, rows=kept)


def read_csv(content: bytes) -> Table:
    text = _decode(content)
    reader = csv.reader(io.StringIO(text, newline=""))
    headers = None
    rows = []
    start = 1
    try:
        for cells in reader:
            if headers is None:
                headers = cells
            else:
                rows.append((start, cells))
                if len(rows) > MAX_ROWS + 1:
                    raise TableError(_("At most %(n)d rows in one file.") % {"n": MAX_ROWS})
            start = reader.line_num + 1  # where the next record begins (a quoted cell may span lines)
    except csv.Error as exc:
        raise TableError(_("The CSV file cannot be read: %(reason)s.") % {"reason": exc}) from None
    if headers is None:
        raise TableError(_("The file is empty."))
    return _finish(headers, rows)


def read_xlsx(content: bytes) -> Table:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise TableError(_("The XLSX file cannot be read: %(reason)s.") % {"reason": exc}) from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise TableError(_("The file is empty."))
        it = sheet.iter_rows(values_only=True)
        first = next(it, None)
        if first is None:
            raise TableError(_("The file is empty."))
        rows = []
        for n, cells in enumerate(it, start=2):
            rows.append((n, [_cell(c) for c in cells]))
            if len(rows) > MAX_ROWS + 1:
                raise TableError(_("At most %(n)d rows in one file.") % {"n": MAX_ROWS})
        return _finish(list(first), rows)
    finally:
        book.close()


def _cell(value):
    if isinstance(value, datetime.datetime) and value.time() == datetime.time(0, 0):
        return value.date()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def read_table(content: bytes, filename: str) -> Table:
    """The table of an uploaded file, by its name's ending (.csv or .xlsx)."""
    if len(content) > MAX_BYTES:
        raise TableError(_("The file is larger than %(n)d MB.") % {"n": MAX_BYTES // (1024 * 1024)})
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        return read_xlsx(content)
    if name.endswith(".csv") or name.endswith(".txt"):
        return read_csv(content)
    raise TableError(_("Upload a .csv (UTF-8 or GB18030) or .xlsx file."))
