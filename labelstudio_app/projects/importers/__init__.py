"""Import parsers: pure functions that stream a file and yield normalised `Record`s.

    report = Report()
    for record in parse_path(path, fmt="auto", report=report):
        ...
    report.ok, report.messages()

One module per format (items, alpaca, sharegpt, openai_chat, labelstudio, chatlog, preference); the containers
module reads JSONL, a JSON list (incrementally) and CSV. Every bad line lands in the report as
(line, reason); a file that cannot be read at all raises ImportFailed.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

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

FORMATS = ("auto", "items", "alpaca", "sharegpt", "openai", "labelstudio", "chatlog", "preference")
CONTAINERS = ("jsonl", "json", "csv")
RECORD_BUILDERS: dict[str, Callable] = {
    "items": items.to_record, "alpaca": alpaca.to_record, "sharegpt": sharegpt.to_record,
    "openai": openai_chat.to_record, "labelstudio": labelstudio.to_record, "preference": preference.to_record,
}
READERS = {"jsonl": containers.jsonl_objects, "json": containers.json_list_objects, "csv": containers.csv_objects}

__all__ = ["FORMATS", "ChatOptions", "ImportFailed", "Record", "Report", "detect", "parse_path"]


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


def detect(path: str | Path, fmt: str = "auto") -> tuple[str, str]:
    """(format, container) for a file: the container from the extension or the first bytes, the format
    from the first record's fields (or `fmt` when given). Raises ImportFailed for an empty/binary file."""
    path = Path(path)
    if fmt not in FORMATS:
        raise ImportFailed(f"Unknown format {fmt!r}; choose one of {', '.join(FORMATS)}.")
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
    if fmt != "auto":
        return fmt, container
    scratch = Report()
    with path.open("rb") as f:
        for _, obj in READERS[container](f, scratch, max_bytes=1 << 20):
            if container == "csv":
                return ("alpaca" if "instruction" in obj else "items"), container
            return _format_of(obj), container
    return "items", container


def parse_path(path: str | Path, *, report: Report, fmt: str = "auto", options: dict | None = None,
               max_bytes: int | None = None) -> Iterator[Record]:
    """Streams the records of one file. Problems go to `report`; a file that cannot be read at all raises
    ImportFailed (before the first record). `max_bytes` stops early for a preview."""
    fmt, container = detect(path, fmt)
    chat_options = ChatOptions.from_dict(options) if fmt == "chatlog" else None
    with Path(path).open("rb") as f:
        if fmt == "chatlog":
            for record in chatlog.parse(iter_lines(f, report, max_bytes=max_bytes), report, chat_options):
                report.kept += 1
                yield record
            return
        build = RECORD_BUILDERS[fmt]
        if container == "csv" and fmt == "items":
            build = items.csv_to_record
        seen_any = False
        for line, obj in READERS[container](f, report, max_bytes=max_bytes):
            seen_any = True
            record = emit(report, line, build, obj)
            if record is not None:
                report.kept += 1
                yield record
        if not seen_any and report.ok:
            report.error(0, "The file holds no records.")


def parse_text(text: str, *, fmt: str, report: Report, options: dict | None = None,
               container: str = "jsonl") -> list[Record]:
    """Parses an in-memory string (for tests and small callers) through the same code path."""
    import io

    data = text.encode("utf-8")
    check_head(data)
    stream = io.BytesIO(data)
    if fmt == "chatlog":
        out = list(chatlog.parse(iter_lines(stream, report), report, ChatOptions.from_dict(options)))
        report.kept += len(out)
        return out
    build = items.csv_to_record if (container == "csv" and fmt == "items") else RECORD_BUILDERS[fmt]
    out = []
    for line, obj in READERS[container](stream, report):
        record = emit(report, line, build, obj)
        if record is not None:
            out.append(record)
    report.kept += len(out)
    return out


def dumps_record(record: Record) -> str:
    return json.dumps(record.as_dict(), ensure_ascii=False)
