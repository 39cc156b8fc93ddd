"""Raw group-chat logs, in one of two layouts (chosen with the `layout` option, or detected):

- one-line: `YYYY-MM-DD HH:MM:SS sender: text`. The sender is everything up to the first `: ` after the
  timestamp (`bob:builder: hi` is sender `bob:builder`, text `hi`); a full-width `：` separates too when it
  comes before any `: ` (Chinese IMs write `张三：你好`). A line that does not start with a timestamp
  continues the message above it (a pasted stack trace stays in its message).
- two-line: a header line `YYYY-MM-DD HH:MM:SS sender` or `sender YYYY-MM-DD HH:MM:SS`, then the message
  lines up to the next header (desktop chat exports).

System events (a message whose text starts with `[系统消息]`, a timestamped line with no sender) are
dropped and counted as `system_event`: never an error, a sender, a turn or context.

The preprocessing real teams run, in this order:
1. messages are read as above; a line that starts like a date but has no valid timestamp is an error;
2. consecutive messages of one sender, each within `window_seconds` of the previous one, are joined
   (with `join_with`, a newline by default) into one turn;
3. each turn keeps the previous `context_turns` turns (of anyone) as its context;
4. a turn becomes an item only when it passes the rules, checked in this order, each dropped turn counted
   under its rule: `too_short` / `too_long` (characters, not bytes), `not_question` (no ？/? and no question
   word), `duplicate` (the exact same text was already kept from this file).
"""
from __future__ import annotations

import itertools
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _

from labelstudio_app.projects.importers.base import Record, Report

TS = r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}"
TS_FIRST_RE = re.compile(rf"^({TS})(?:\s+(.*))?$")      # one-line message, or a `time sender` header
TS_LAST_RE = re.compile(rf"^(\S.*?)\s+({TS})\s*$")      # a `sender time` header
DATE_START_RE = re.compile(r"^\d{4}-\d{2}-\d{2}\b")
SYSTEM_PREFIXES = ("[系统消息]",)
MAX_SENDER_CHARS = 100
LAYOUTS = ("auto", "one_line", "two_line")
SNIFF_LINES = 200
ZH_QUESTION_WORDS = ("吗", "呢", "怎么", "如何", "为什么", "哪", "什么", "是否", "能不能", "有没有", "多少",
                     "是不是", "可不可以", "咋")
EN_QUESTION_WORDS = ("how", "what", "why", "when", "where", "which", "who", "whom", "whose", "can", "could",
                     "does", "do", "did", "is", "are", "should", "would", "will", "may", "anyone")
EN_FIRST_WORD_RE = re.compile(r"^[\W_]*([A-Za-z]+)")
DROP_RULES = ("system_event", "too_short", "too_long", "not_question", "duplicate")


@dataclass(frozen=True)
class ChatOptions:
    window_seconds: int = 60
    context_turns: int = 5
    min_chars: int = 4
    max_chars: int = 500
    require_question: bool = True
    dedupe: bool = True
    join_with: str = "\n"
    layout: str = "auto"

    @classmethod
    def from_dict(cls, raw: dict | None) -> ChatOptions:
        """Options from user input; a bad value raises ValueError naming the option."""
        raw = dict(raw or {})
        out = {}
        for name in ("window_seconds", "context_turns", "min_chars", "max_chars"):
            if name in raw and raw[name] not in (None, ""):
                try:
                    value = int(raw[name])
                except (TypeError, ValueError):
                    raise ValueError(_("option '%(name)s' must be an integer, got %(value)s")
                                     % {"name": name, "value": repr(raw[name])}) from None
                if value < 0 or value > 1_000_000:
                    raise ValueError(_("option '%(name)s' must be between 0 and 1000000") % {"name": name})
                out[name] = value
        for name in ("require_question", "dedupe"):
            if name in raw and raw[name] not in (None, ""):
                value = raw[name]
                if isinstance(value, str):
                    if value.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                        raise ValueError(_("option '%(name)s' must be true or false, got %(value)s")
                                         % {"name": name, "value": repr(value)})
                    value = value.lower() in ("1", "true", "yes", "on")
                out[name] = bool(value)
        if raw.get("layout") not in (None, ""):
            if raw["layout"] not in LAYOUTS:
                raise ValueError(_("option 'layout' must be one of %(layouts)s, got %(value)s")
                                 % {"layouts": ", ".join(LAYOUTS), "value": repr(raw["layout"])})
            out["layout"] = raw["layout"]
        opts = cls(**out)
        if opts.max_chars and opts.min_chars > opts.max_chars:
            raise ValueError("option 'min_chars' must not be larger than 'max_chars'")
        return opts

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def is_question(text: str) -> bool:
    if "?" in text or "？" in text:
        return True
    if any(word in text for word in ZH_QUESTION_WORDS):
        return True
    m = EN_FIRST_WORD_RE.match(text)
    return bool(m and m.group(1).lower() in EN_QUESTION_WORDS)


@dataclass
class _Turn:
    line: int
    time: datetime
    time_text: str
    sender: str
    text: str
    last_time: datetime

    def as_context(self) -> dict:
        return {"sender": self.sender, "text": self.text, "time": self.time_text}


def split_sender(rest: str) -> tuple[str, str] | None:
    """(sender, text) of what follows the timestamp on a one-line message, or None when no sender is
    written. The first `: ` separates; a full-width `：` does when no `: ` comes before it."""
    ascii_at, full_at = rest.find(": "), rest.find("：")
    if rest.endswith(":") and ascii_at == -1:
        ascii_at = len(rest) - 1
    if full_at != -1 and (ascii_at == -1 or full_at < ascii_at):
        sender, text = rest[:full_at], rest[full_at + 1:]
    elif ascii_at != -1:
        sender, text = rest[:ascii_at], rest[ascii_at + 2:]
    else:
        return None
    sender = sender.strip()
    if not sender or len(sender) > MAX_SENDER_CHARS:
        return None
    return sender, text.strip()


def _header(text: str) -> tuple[str, str] | None:
    """(time, sender) of a two-line header, sender "" when the header names nobody."""
    m = TS_FIRST_RE.match(text)
    if m:
        return m.group(1), (m.group(2) or "").strip()
    m = TS_LAST_RE.match(text)
    if m:
        return m.group(2), m.group(1).strip()
    return None


def looks_like_chat(first_line: str) -> bool:
    """A first line that only a chat log starts with (for detecting the format)."""
    return bool(TS_FIRST_RE.match(first_line) or TS_LAST_RE.match(first_line))


def detect_layout(lines: list[tuple[int, str]]) -> str:
    """two_line when the sampled lines look more like headers followed by message lines than like
    one-line messages (a `sender time` header, or a `time sender` line with no `: ` and a plain line
    after it)."""
    one = two = 0
    texts = [t for _line, t in lines if t.strip()]
    for i, text in enumerate(texts):
        nxt = texts[i + 1] if i + 1 < len(texts) else ""
        m = TS_FIRST_RE.match(text)
        if m:
            if split_sender(m.group(2) or ""):
                one += 1
            elif nxt and not DATE_START_RE.match(nxt) and (m.group(2) or "").strip():
                two += 1
        elif TS_LAST_RE.match(text):
            two += 1
    return "two_line" if two > one else "one_line"


def _is_system(sender: str, text: str) -> bool:
    return not sender or text.lstrip().startswith(SYSTEM_PREFIXES)


def _stamp(number: int, stamp: str, report: Report) -> tuple[datetime, str] | None:
    stamp = stamp.replace("T", " ")
    try:
        return datetime.fromisoformat(stamp), stamp
    except ValueError:
        report.error(number, _("invalid date or time %(stamp)s") % {"stamp": repr(stamp)})
        return None


def _messages(lines: Iterable[tuple[int, str]], report: Report,
              layout: str = "auto") -> Iterator[tuple[int, datetime, str, str, str]]:
    """(line, time, time text, sender, text) per message, continuation lines folded in, system events
    dropped."""
    lines = iter(lines)
    if layout == "auto":
        head = list(itertools.islice(lines, SNIFF_LINES))
        layout = detect_layout(head)
        lines = itertools.chain(head, lines)
    read = _two_line if layout == "two_line" else _one_line
    for number, when, stamp, sender, text in read(lines, report):
        if _is_system(sender, text):
            report.drop("system_event")
        else:
            yield number, when, stamp, sender, text.strip("\n")


def _one_line(lines, report: Report):
    pending: list | None = None
    for number, text in lines:
        if not text.strip():
            continue
        m = TS_FIRST_RE.match(text)
        if m is None:
            if DATE_START_RE.match(text):
                report.error(number, "expected 'YYYY-MM-DD HH:MM:SS sender: text'")
            elif pending is None:
                report.error(number, "expected 'YYYY-MM-DD HH:MM:SS sender: text' (a continuation line needs a "
                                     "message above it)")
            else:
                pending[4] += "\n" + text
            continue
        parsed = _stamp(number, m.group(1), report)
        if parsed is None:
            continue
        if pending is not None:
            yield tuple(pending)
        sender, body = split_sender(m.group(2) or "") or ("", m.group(2) or "")
        pending = [number, parsed[0], parsed[1], sender, body]
    if pending is not None:
        yield tuple(pending)


def _two_line(lines, report: Report):
    pending: list | None = None
    for number, text in lines:
        header = _header(text)
        if header is None:
            if pending is not None:
                pending[4] += "\n" + text
            elif text.strip():
                report.error(number, "expected a header line 'YYYY-MM-DD HH:MM:SS sender' or "
                                     "'sender YYYY-MM-DD HH:MM:SS' before the message lines")
            continue
        parsed = _stamp(number, header[0], report)
        if parsed is None:
            continue
        if pending is not None:
            yield tuple(pending)
        sender = header[1] if len(header[1]) <= MAX_SENDER_CHARS else ""
        pending = [number, parsed[0], parsed[1], sender, ""]
    if pending is not None:
        yield tuple(pending)


def _turns(lines, report: Report, opts: ChatOptions) -> Iterator[_Turn]:
    current: _Turn | None = None
    for number, when, stamp, sender, text in _messages(lines, report, opts.layout):
        if (current is not None and current.sender == sender
                and 0 <= (when - current.last_time).total_seconds() <= opts.window_seconds):
            current.text = f"{current.text}{opts.join_with}{text}" if current.text else text
            current.last_time = when
            continue
        if current is not None:
            yield current
        current = _Turn(line=number, time=when, time_text=stamp, sender=sender, text=text, last_time=when)
    if current is not None:
        yield current


def parse(lines: Iterable[tuple[int, str]], report: Report, options: ChatOptions | None = None) -> Iterator[Record]:
    opts = options or ChatOptions()
    history: deque[_Turn] = deque(maxlen=max(opts.context_turns, 1))
    seen: set[str] = set()
    for turn in _turns(lines, report, opts):
        rule = _drop_rule(turn.text.strip(), opts, seen)
        if rule:
            report.drop(rule)
        else:
            context = [t.as_context() for t in history] if opts.context_turns else []
            yield Record(text=turn.text.strip(), line=turn.line, external_id=f"line-{turn.line}",
                         context=context, metadata={"sender": turn.sender, "time": turn.time_text})
        history.append(turn)


def _drop_rule(text: str, opts: ChatOptions, seen: set[str]) -> str | None:
    n = len(text)
    if n < max(opts.min_chars, 1):
        return "too_short"
    if opts.max_chars and n > opts.max_chars:
        return "too_long"
    if opts.require_question and not is_question(text):
        return "not_question"
    if opts.dedupe:
        if text in seen:
            return "duplicate"
        seen.add(text)
    return None
