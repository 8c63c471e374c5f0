"""CSV rows as Excel shows them (the standard library's ``csv`` does the parsing).

Dutch Excel saves "CSV (puntkomma gescheiden)": cp1252 (decoded by ``textdecode``), ``;`` between
cells, CRLF, quoted cells holding line breaks, ``;`` or doubled quotes. ``csv.Sniffer`` falls short
here: it guesses from a sample cut at 4 KB and is thrown by quoted cells with line breaks (measured:
it picked ``,`` for such a file, so a quoted line became a phantom record). The header row of a
corpus CSV names fields and never holds a line break, so the delimiter is the one of ``, ; TAB |``
that occurs most often (outside quotes) in the first line; the rest is ``csv.reader`` with Excel's
quoting rules.

A row that does not have exactly one cell per header name is reported as an error naming its row
and line, never turned into a record.
"""
from __future__ import annotations

import csv
import io
import unicodedata

from .errors import ReadError

DELIMITERS = (";", ",", "\t", "|")


def sniff_delimiter(first_line: str) -> str:
    """The delimiter of a header line: the candidate that occurs most often outside quotes
    (ties go to ``;``, then ``,``)."""
    outside, quoted = [], False
    for ch in first_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted:
            outside.append(ch)
    counts = {d: outside.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def csv_rows(text: str) -> list[tuple[dict[str, str] | None, int, str | None]]:
    """Return ``(fields, line, error)`` per data row: fields by lower-cased header name with empty
    cells left out, the line where the row starts, and an error message for a row that does not fit.

    Raises ReadError for an empty file, an empty header or a file ``csv`` cannot parse.
    """
    text = text.lstrip("\ufeff")
    delimiter = sniff_delimiter(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', doublequote=True)
    try:
        header = next(reader)
    except StopIteration:
        raise ReadError("CSV file is empty") from None
    except csv.Error as exc:
        raise ReadError(f"CSV cannot be parsed: {exc}", line=1) from None
    header = [unicodedata.normalize("NFC", h).strip().lower() for h in header]
    if not any(header):
        raise ReadError("CSV header row is empty", line=1)
    rows = []
    start, number = reader.line_num + 1, 0
    try:
        for row in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue
            number += 1
            if len(row) != len(header):
                rows.append((None, line, f"row {number} has {len(row)} cells but the header names {len(header)} "
                                         f"(delimiter '{delimiter}'); the row is skipped"))
                continue
            fields = {h: unicodedata.normalize("NFC", v).strip() for h, v in zip(header, row) if h and v.strip()}
            rows.append((fields, line, None))
    except csv.Error as exc:
        raise ReadError(f"CSV cannot be parsed: {exc}", line=reader.line_num) from None
    return rows
