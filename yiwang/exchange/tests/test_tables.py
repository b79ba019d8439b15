import csv
import io

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from yiwang.exchange import tables

CELL = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), max_size=12
)


def _csv(rows) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


@given(st.lists(st.lists(CELL, min_size=2, max_size=2), min_size=1, max_size=8))
def test_csv_cells_come_back_as_written_with_their_line_numbers(rows):
    text = _csv([["a", "b"], *rows])
    for encoding in ("utf-8", "utf-8-sig"):
        table = tables.read_csv(text.encode(encoding))
        starts = [2 + _csv(rows[:i]).count("\n") for i in range(len(rows))]
        expected = [(start, r) for start, r in zip(starts, rows, strict=True) if any(c.strip() for c in r)]
        # each record keeps the line it starts on (a quoted cell may span lines); blank ones are dropped
        assert table.rows == expected


def test_gb18030_is_read():
    table = tables.read_csv("姓名,地址\n张三,西安市雁塔区\n".encode("gb18030"))
    assert table.headers == ["姓名", "地址"] and table.rows == [(2, ["张三", "西安市雁塔区"])]


def test_a_quoted_cell_over_two_lines_keeps_the_next_records_line():
    table = tables.read_csv(b'a,b\n"one\ntwo",x\ny,z\n')
    assert [line for line, _cells in table.rows] == [2, 4]


def test_xlsx_numbers_and_dates():
    book = openpyxl.Workbook()
    book.active.append(["n", "d"])
    book.active.append([3.0, 1.5])
    out = io.BytesIO()
    book.save(out)
    table = tables.read_xlsx(out.getvalue())
    assert table.rows == [(2, [3, 1.5])]


@pytest.mark.parametrize(
    "content, name",
    [(b"", "a.csv"), (b"\n\n", "a.csv"), (b"PK\x03\x04broken", "a.xlsx"), (b"a,b\n", "a.json")],
)
def test_unreadable_files_say_why(content, name):
    with pytest.raises(tables.TableError):
        tables.read_table(content, name)


@given(st.integers(min_value=0, max_value=18277))
def test_column_letters_count_like_a_spreadsheet(index):
    letters = tables.column_letter(index)
    value = 0
    for ch in letters:
        value = value * 26 + (ord(ch) - 64)
    assert value - 1 == index
