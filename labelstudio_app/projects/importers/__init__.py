"""Import parsers: pure functions that stream a file and yield normalised `Record`s.

    report = Report()
    for record in parse_path(path, fmt="auto", report=report):
        ...
    report.ok, report.messages()

One module per format (items, alpaca, sharegpt, openai_chat, labelstudio (three shapes), chatlog, preference); the
containers
module reads JSONL, a JSON list (incrementally) and CSV. Every bad line lands in the report as
(line, reason); a file that cannot be read at all raises ImportFailed.
"""
from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from django.utils.translation import gettext as _

from labelstudio_app.projects.importers import (
    alpaca,
    chatlog,
    containers,
    items,
    labelstudio,
    openai_chat,
    preference,
    sharegpt,
)
from labelstudio_app.projects.importers.base import ImportFailed, Record, Report, check_head, iter_lines
from labelstudio_app.projects.importers.chatlog import ChatOptions
from labelstudio_app.projects.importers.fields import emit

FORMATS = ("auto", "items", "alpaca", "sharegpt", "openai", "labelstudio", "labelstudio_min", "labelstudio_csv",
           "chatlog", "preference")
CONTAINERS = ("jsonl", "json", "csv")
RECORD_BUILDERS: dict[str, Callable] = {
    "items": items.to_record, "alpaca": alpaca.to_record, "sharegpt": sharegpt.to_record,
    "openai": openai_chat.to_record, "labelstudio": labelstudio.to_record, "preference": preference.to_record,
}
LABELSTUDIO_FORMATS = (labelstudio.JSON, *labelstudio.ROW_FORMATS)
READERS = {"jsonl": containers.jsonl_objects, "json": containers.json_list_objects, "csv": containers.csv_objects}

__all__ = ["FORMATS", "LABELSTUDIO_FORMATS", "ChatOptions", "ImportFailed", "Record", "Report", "detect", "detect_stream",
           "parse_path", "parse_stream"]


def _sniff_container(path: Path, head: bytes) -> str:
    ext = path.suffix.lower()
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n")
    if ext in (".jsonl", ".ndjson"):
        return "jsonl"
    if ext == ".json":
        return "jsonl" if text.startswith("{") else "json"
    if ext in (".csv",):
        return "csv"
    if ext in (".log", ".txt"):
        return "chatlog"
    if text.startswith("["):
        return "json"
    if text.startswith("{"):
        return "jsonl"
    if chatlog.looks_like_chat(text.split("\n", 1)[0].rstrip("\r")):
        return "chatlog"
    return "csv"


def _format_of(obj) -> str:
    if isinstance(obj, dict):
        if "conversations" in obj:
            return "sharegpt"
        if "messages" in obj:
            return "openai"
        if isinstance(obj.get("data"), dict):
            return "labelstudio"
        if {"prompt", "chosen", "rejected"} <= obj.keys():
            return "preference"
        if "instruction" in obj:
            return "alpaca"
    return "items"


SNIFF_RECORDS = 200  # JSON_MIN rows of unannotated tasks carry no annotation keys: look a little further


def _format_of_head(first, rest: Iterator[tuple[int, object]]) -> str:
    fmt = _format_of(first)
    if fmt != "items":
        return fmt
    for obj in itertools.chain([first], (obj for _line, obj in itertools.islice(rest, SNIFF_RECORDS))):
        if labelstudio.looks_like_min_row(obj):
            return labelstudio.MIN
    return fmt


def detect(path: str | Path, fmt: str = "auto") -> tuple[str, str]:
    """(format, container) for a file: the container from the extension or the first bytes, the format
    from the first record's fields (or `fmt` when given). Raises ImportFailed for an empty/binary file."""
    path = Path(path)
    if fmt not in FORMATS:
        raise ImportFailed(_("Unknown format %(fmt)s; choose one of %(formats)s.")
                           % {"fmt": repr(fmt), "formats": ", ".join(FORMATS)})
    with path.open("rb") as f:
        head = f.read(65536)
    check_head(head)
    container = _sniff_container(path, head)
    if fmt == "chatlog":
        return "chatlog", "lines"
    if container == "chatlog":
        if fmt not in ("auto",):
            container = "jsonl" if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") else "csv"
        else:
            return "chatlog", "lines"
    if fmt == labelstudio.CSV:
        return fmt, "csv"
    if fmt != "auto":
        return fmt, container
    scratch = Report()
    with path.open("rb") as f:
        objects = READERS[container](f, scratch, max_bytes=1 << 20)
        for _line, obj in objects:
            if container == "csv":
                if labelstudio.looks_like_min_row(obj):
                    return labelstudio.CSV, container
                return ("alpaca" if "instruction" in obj else "items"), container
            return _format_of_head(obj, objects), container
    return "items", container


def _builder(fmt: str, container: str, *, report: Report, schema: list | None, options: dict | None) -> Callable:
    if fmt in LABELSTUDIO_FORMATS:
        return labelstudio.builder(fmt, container, schema=schema, mapping=(options or {}).get("mapping"),
                                   report=report)
    if container == "csv" and fmt == "items":
        return items.csv_to_record
    return RECORD_BUILDERS[fmt]


def _objects(fmt: str, container: str, stream, report: Report, *, max_bytes: int | None = None):
    pairs = READERS[container](stream, report, max_bytes=max_bytes)
    return labelstudio.group_rows(pairs) if fmt in labelstudio.ROW_FORMATS else pairs


def parse_path(path: str | Path, *, report: Report, fmt: str = "auto", options: dict | None = None,
               max_bytes: int | None = None, schema: list | None = None) -> Iterator[Record]:
    """Streams the records of one file. Problems go to `report`; a file that cannot be read at all raises
    ImportFailed (before the first record). `max_bytes` stops early for a preview. `schema` is the project's
    label schema, onto which Label Studio annotations are mapped (with `options["mapping"]`)."""
    fmt, container = detect(path, fmt)
    chat_options = ChatOptions.from_dict(options) if fmt == "chatlog" else None
    with Path(path).open("rb") as f:
        if fmt == "chatlog":
            for record in chatlog.parse(iter_lines(f, report, max_bytes=max_bytes), report, chat_options):
                report.kept += 1
                yield record
            return
        yield from _records(fmt, container, f, report, options=options, schema=schema, max_bytes=max_bytes)


def _records(fmt: str, container: str, stream, report: Report, *, options: dict | None, schema: list | None,
             max_bytes: int | None = None) -> Iterator[Record]:
    build = _builder(fmt, container, report=report, schema=schema, options=options)
    seen_any = False
    for line, obj in _objects(fmt, container, stream, report, max_bytes=max_bytes):
        seen_any = True
        record = emit(report, line, build, obj)
        if record is not None:
            report.kept += 1
            yield record
    if not seen_any and report.ok:
        report.error(0, "The file holds no records.")


def detect_stream(stream: BinaryIO, container: str, fmt: str = "auto") -> str:
    """The record format of a seekable JSON list or JSONL stream (`container` "json" or "jsonl"): `fmt` when
    given, else read from its first records as `detect` does for a file. Raises ImportFailed for an empty or
    binary body; leaves the stream at its start."""
    check_head(stream.read(65536))
    stream.seek(0)
    if fmt != "auto":
        return fmt
    objects = READERS[container](stream, Report(), max_bytes=1 << 20)
    try:
        for _line, obj in objects:
            return _format_of_head(obj, objects)
    finally:
        stream.seek(0)
    return "items"


def parse_stream(stream: BinaryIO, *, container: str, fmt: str, report: Report, options: dict | None = None,
                 schema: list | None = None) -> Iterator[Record]:
    """Streams the records of a JSON list or JSONL stream in a known format (see `detect_stream`): the same
    readers, record builders and checks as `parse_path`, for a body posted to the bulk import."""
    yield from _records(fmt, container, stream, report, options=options, schema=schema)


def parse_text(text: str, *, fmt: str, report: Report, options: dict | None = None,
               container: str = "jsonl", schema: list | None = None) -> list[Record]:
    """Parses an in-memory string (for tests and small callers) through the same code path."""
    import io

    data = text.encode("utf-8")
    check_head(data)
    stream = io.BytesIO(data)
    if fmt == "chatlog":
        out = list(chatlog.parse(iter_lines(stream, report), report, ChatOptions.from_dict(options)))
        report.kept += len(out)
        return out
    build = _builder(fmt, container, report=report, schema=schema, options=options)
    out = []
    for line, obj in _objects(fmt, container, stream, report):
        record = emit(report, line, build, obj)
        if record is not None:
            out.append(record)
    report.kept += len(out)
    return out


def dumps_record(record: Record) -> str:
    return json.dumps(record.as_dict(), ensure_ascii=False)
