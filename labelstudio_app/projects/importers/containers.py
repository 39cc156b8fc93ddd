"""Containers: JSONL, a JSON list (read incrementally) and CSV, each yielding (line, object)."""
from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import BinaryIO

from django.utils.translation import gettext as _

from labelstudio_app.projects.importers.base import (
    MAX_LINE_BYTES,
    ImportFailed,
    Report,
    iter_chunks,
    iter_lines,
    type_name,
)

_WS = " \t\r\n"


def jsonl_objects(stream: BinaryIO, report: Report, *, max_bytes: int | None = None) -> Iterator[tuple[int, object]]:
    for number, text in iter_lines(stream, report, max_bytes=max_bytes):
        if not text.strip():
            continue
        try:
            yield number, json.loads(text)
        except json.JSONDecodeError as exc:
            report.error(number, _("invalid JSON: %(error)s (column %(column)s)") % {"error": exc.msg, "column": exc.colno})
        except RecursionError:
            report.error(number, "invalid JSON: nested too deeply")


def json_list_objects(stream: BinaryIO, report: Report, *,
                      max_bytes: int | None = None) -> Iterator[tuple[int, object]]:
    """A top-level JSON list, decoded one element at a time so a large file never sits in memory.
    A syntax error ends the parse (a JSON list cannot be resynchronised) with its line and reason."""
    decoder = json.JSONDecoder()
    chunks = iter_chunks(stream, report, max_bytes=max_bytes)
    buf, pos, line, eof = "", 0, 1, False

    def more() -> bool:
        nonlocal buf, pos, eof
        if eof:
            return False
        try:
            chunk = next(chunks)
        except StopIteration:
            eof = True
            return False
        buf = buf[pos:] + chunk
        pos = 0
        return True

    def skip_ws() -> bool:
        """Moves past whitespace (counting lines); False at the end of the input."""
        nonlocal pos, line
        while True:
            while pos < len(buf) and buf[pos] in _WS:
                if buf[pos] == "\n":
                    line += 1
                pos += 1
            if pos < len(buf):
                return True
            if not more():
                return False

    if not skip_ws():
        raise ImportFailed("The file is empty.")
    if buf[pos] != "[":
        raise ImportFailed(_("line %(line)s: expected a JSON list ('['), found %(found)s") % {"line": line, "found": repr(buf[pos])})
    pos += 1
    state = "first"  # first: a value or ']'; after_value: ',' or ']'; after_comma: a value
    while True:
        if not skip_ws():
            if not report.truncated:
                report.error(line, "invalid JSON: the list is not closed with ']'")
            return
        ch = buf[pos]
        if ch == "]" and state != "after_comma":
            pos += 1
            if skip_ws():
                report.error(line, "invalid JSON: extra data after the closing ']'")
            return
        if state == "after_value":
            if ch != ",":
                report.error(line, "invalid JSON: expected ',' or ']' between list elements")
                return
            pos += 1
            state = "after_comma"
            continue
        if ch == "]":
            report.error(line, "invalid JSON: a ',' before ']' (trailing comma)")
            return
        start_line = line
        while True:
            try:
                obj, end = decoder.raw_decode(buf, pos)
                break
            except json.JSONDecodeError as exc:
                incomplete = exc.pos >= len(buf) - 8 or exc.msg.startswith("Unterminated string")
                if incomplete and len(buf) - pos < MAX_LINE_BYTES and more():
                    continue
                if report.truncated:
                    return
                if incomplete and len(buf) - pos >= MAX_LINE_BYTES:
                    report.error(start_line, _("a list element is larger than %(mb)s MB") % {"mb": MAX_LINE_BYTES >> 20})
                else:
                    report.error(start_line + buf.count("\n", pos, exc.pos), _("invalid JSON: %(error)s") % {"error": exc.msg})
                return
            except RecursionError:
                report.error(start_line, "invalid JSON: nested too deeply")
                return
        line += buf.count("\n", pos, end)
        pos = end
        report.lines = line
        yield start_line, obj
        state = "after_value"


def csv_objects(stream: BinaryIO, report: Report, *, max_bytes: int | None = None) -> Iterator[tuple[int, object]]:
    """CSV with a header row; each row becomes {header: value}. Multi-line quoted fields are fine."""
    numbered = iter_lines(stream, report, max_bytes=max_bytes)
    starts: list[int] = []

    def texts():
        for number, text in numbered:
            starts.append(number)
            yield text + "\n"

    reader = csv.reader(texts(), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        report.error(1, _("invalid CSV header: %(error)s") % {"error": exc})
        return
    header = [h.strip() for h in header]
    if not any(header):
        report.error(1, "the CSV header row is empty")
        return
    dupes = {h for h in header if header.count(h) > 1}
    if dupes:
        report.error(1, _("the CSV header repeats column(s): %(columns)s") % {"columns": ", ".join(sorted(dupes))})
        return
    while True:
        seen = len(starts)
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            report.error(starts[-1] if starts else 0, _("invalid CSV: %(error)s") % {"error": exc})
            return
        number = starts[seen] if seen < len(starts) else (starts[-1] if starts else 0)
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            report.error(number, _("expected %(expected)s columns, found %(found)s") % {"expected": len(header), "found": len(row)})
            continue
        yield number, dict(zip(header, row))


def csv_json_cell(value: str, key: str):
    """A CSV cell that holds JSON (e.g. a context list): parsed when it looks like JSON."""
    stripped = value.strip()
    if stripped[:1] in ("[", "{"):
        try:
            return json.loads(stripped)
        except json.JSONDecodeError as exc:
            from labelstudio_app.projects.importers.fields import BadRecord

            raise BadRecord(_("field '%(key)s' is not valid JSON: %(error)s") % {"key": key, "error": exc.msg}) from None
    return value


__all__ = ["csv_json_cell", "csv_objects", "json_list_objects", "jsonl_objects", "type_name"]
