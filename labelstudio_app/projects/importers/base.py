"""Shared pieces of every import parser: the normalised record, the report, reading lines safely.

Parsers are pure: they read a file (or an iterable of lines) and yield `Record`s; every problem goes
into the `Report` as `(line, reason)`. Nothing here touches the database.
"""
from __future__ import annotations

import codecs
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.utils.translation import gettext as _

MAX_ERRORS = 100           # messages kept in a report; the rest are only counted
MAX_LINE_BYTES = 16 << 20  # one line / one JSON record larger than this is refused
BOM = "\ufeff"


class ImportFailed(Exception):
    """The file as a whole cannot be read (empty, binary, unknown format)."""


@dataclass(slots=True)
class Record:
    text: str
    line: int = 0
    external_id: str = ""
    task_type: str = ""
    context: list = field(default_factory=list)
    reference_answer: str = ""
    metadata: dict = field(default_factory=dict)
    # Annotations made elsewhere (a Label Studio export): [{"annotator": {"id", "email"}, "values", "line"}]
    annotations: list = field(default_factory=list)

    def as_dict(self) -> dict:
        out = {"line": self.line, "external_id": self.external_id, "text": self.text, "task_type": self.task_type,
               "context": self.context, "reference_answer": self.reference_answer, "metadata": self.metadata}
        if self.annotations:
            out["annotations"] = self.annotations
        return out


@dataclass
class Report:
    """What a parse found: errors by line (capped), records kept, records dropped by each rule."""

    errors: list[tuple[int, str]] = field(default_factory=list)
    error_count: int = 0
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)
    lines: int = 0
    truncated: bool = False  # a preview stopped reading early
    controls: dict = field(default_factory=dict)  # Label Studio control name -> question name (None: ignored)

    def error(self, line: int, reason: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append((line, reason))

    def drop(self, rule: str) -> None:
        self.dropped[rule] += 1

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def messages(self) -> list[str]:
        out = [_("line %(line)s: %(reason)s") % {"line": line, "reason": reason} if line else reason
               for line, reason in self.errors]
        if self.error_count > len(self.errors):
            out.append(_("… and %(n)s more errors") % {"n": self.error_count - len(self.errors)})
        return out

    def as_dict(self) -> dict:
        out = {"kept": self.kept, "dropped": dict(self.dropped), "errors": self.messages(),
               "error_count": self.error_count, "lines": self.lines, "truncated": self.truncated}
        if self.controls:
            out["controls"] = dict(self.controls)
        return out


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


# ---- reading bytes as UTF-8 lines -----------------------------------------------------------------------

def check_head(head: bytes) -> None:
    """Refuses an empty or binary file before any parsing, with a message a person understands."""
    if not head.strip(b" \t\r\n\xef\xbb\xbf"):
        raise ImportFailed("The file is empty.")
    if b"\x00" in head[:8192]:
        raise ImportFailed("The file looks binary (it contains NUL bytes); expected UTF-8 text.")


def iter_lines(stream: BinaryIO, report: Report, *, max_bytes: int | None = None) -> Iterator[tuple[int, str]]:
    """Yields (line number, text without the line ending) from a binary stream, decoding UTF-8 line by line
    (a BOM is dropped, CRLF is fine). A line that is not UTF-8 is reported and skipped. With `max_bytes`,
    stops at the first line boundary past it and marks the report truncated (for previews)."""
    read = 0
    for number, raw in enumerate(stream, start=1):
        report.lines = number
        read += len(raw)
        if len(raw) > MAX_LINE_BYTES:
            report.error(number, _("line longer than %(mb)s MB") % {"mb": MAX_LINE_BYTES >> 20})
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            report.error(number, _("not valid UTF-8 (byte 0x%(byte)02x at column %(column)s); save the file as UTF-8")
                         % {"byte": raw[exc.start], "column": exc.start + 1})
            continue
        if number == 1 and text.startswith(BOM):
            text = text[1:]
        if "\x00" in text:
            report.error(number, _("contains a NUL byte (binary data?)"))
            continue
        yield number, text.rstrip("\r\n")
        if max_bytes is not None and read >= max_bytes:
            report.truncated = True
            return


def iter_chunks(stream: BinaryIO, report: Report, *, chunk: int = 1 << 16,
                max_bytes: int | None = None) -> Iterator[str]:
    """Yields decoded text chunks (for the JSON list reader); bad UTF-8 raises ImportFailed with its line."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line, read, first = 1, 0, True
    while True:
        raw = stream.read(chunk)
        final = not raw
        read += len(raw)
        try:
            text = decoder.decode(raw, final=final)
        except UnicodeDecodeError:
            bad_line = line + _newlines_before_bad_byte(raw)
            raise ImportFailed(_("line %(line)s: not valid UTF-8; save the file as UTF-8") % {"line": bad_line}) from None
        if first and text.startswith(BOM):
            text = text[1:]
        first = False if text else first
        if "\x00" in text:
            raise ImportFailed(_("line %(line)s: contains a NUL byte (binary data?)")
                               % {"line": line + text[:text.index(chr(0))].count(chr(10))})
        line += text.count("\n")
        if text:
            yield text
        if final:
            return
        if max_bytes is not None and read >= max_bytes:
            report.truncated = True
            return


def _newlines_before_bad_byte(raw: bytes) -> int:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return raw[: exc.start].count(b"\n")
    return 0


def lines_from(texts: Iterable[str]) -> Iterator[tuple[int, str]]:
    """Numbered lines from strings (for tests and in-memory callers)."""
    for number, text in enumerate(texts, start=1):
        yield number, text.rstrip("\r\n")
