"""Raw group-chat logs: one message a line, `YYYY-MM-DD HH:MM:SS sender: text`.

The preprocessing real teams run, in this order:
1. a line that does not start with a timestamp continues the message above it (multi-line messages);
   a line that starts like a date but is not a valid `YYYY-MM-DD HH:MM:SS sender: text` is an error;
2. consecutive messages of one sender, each within `window_seconds` of the previous one, are joined
   (with `join_with`, a newline by default) into one turn;
3. each turn keeps the previous `context_turns` turns (of anyone) as its context;
4. a turn becomes an item only when it passes the rules, checked in this order, each dropped turn counted
   under its rule: `too_short` / `too_long` (characters, not bytes), `not_question` (no ？/? and no question
   word), `duplicate` (the exact same text was already kept from this file).
"""
from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from labelstudio_app.projects.importers.base import Record, Report

LINE_RE = re.compile(r"^(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2})\s+([^:：]{1,100}?)\s*[:：]\s?(.*)$")
DATE_START_RE = re.compile(r"^\d{4}-\d{2}-\d{2}\b")
ZH_QUESTION_WORDS = ("吗", "呢", "怎么", "如何", "为什么", "哪", "什么", "是否", "能不能", "有没有", "多少",
                     "是不是", "可不可以", "咋")
EN_QUESTION_WORDS = ("how", "what", "why", "when", "where", "which", "who", "whom", "whose", "can", "could",
                     "does", "do", "did", "is", "are", "should", "would", "will", "may", "anyone")
EN_FIRST_WORD_RE = re.compile(r"^[\W_]*([A-Za-z]+)")
DROP_RULES = ("too_short", "too_long", "not_question", "duplicate")


@dataclass(frozen=True)
class ChatOptions:
    window_seconds: int = 60
    context_turns: int = 5
    min_chars: int = 4
    max_chars: int = 500
    require_question: bool = True
    dedupe: bool = True
    join_with: str = "\n"

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
                    raise ValueError(f"option '{name}' must be an integer, got {raw[name]!r}") from None
                if value < 0 or value > 1_000_000:
                    raise ValueError(f"option '{name}' must be between 0 and 1000000")
                out[name] = value
        for name in ("require_question", "dedupe"):
            if name in raw and raw[name] not in (None, ""):
                value = raw[name]
                if isinstance(value, str):
                    if value.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                        raise ValueError(f"option '{name}' must be true or false, got {value!r}")
                    value = value.lower() in ("1", "true", "yes", "on")
                out[name] = bool(value)
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


def _messages(lines: Iterable[tuple[int, str]], report: Report) -> Iterator[tuple[int, datetime, str, str, str]]:
    """(line, time, time text, sender, text) per message, continuation lines folded in."""
    pending: list | None = None
    for number, text in lines:
        if not text.strip():
            continue
        m = LINE_RE.match(text)
        if m is None:
            if DATE_START_RE.match(text):
                report.error(number, "expected 'YYYY-MM-DD HH:MM:SS sender: text'")
            elif pending is None:
                report.error(number, "expected 'YYYY-MM-DD HH:MM:SS sender: text' (a continuation line needs a "
                                     "message above it)")
            else:
                pending[4] += "\n" + text
            continue
        stamp = m.group(1).replace("T", " ")
        try:
            when = datetime.fromisoformat(stamp)
        except ValueError:
            report.error(number, f"invalid date or time {stamp!r}")
            continue
        sender = m.group(2).strip()
        if not sender:
            report.error(number, "the sender is empty")
            continue
        if pending is not None:
            yield tuple(pending)
        pending = [number, when, stamp, sender, m.group(3).strip()]
    if pending is not None:
        yield tuple(pending)


def _turns(lines, report: Report, opts: ChatOptions) -> Iterator[_Turn]:
    current: _Turn | None = None
    for number, when, stamp, sender, text in _messages(lines, report):
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
