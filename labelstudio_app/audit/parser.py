"""Maps a model's free-text answer to one option of a single-choice question. Pure: no ORM, no Django.

Rules, tried in this order; the first that decides wins:

1. regex     the manager's regular expression (first group, or the group named `answer`); what it captures is
             matched against option values, labels and keys. A regex that matches but captures no option is
             unparseable: the manager asked for that shape.
2. exact     the whole answer (without surrounding punctuation) is an option's value, label or key.
3. answer_is "答案是：B", "Answer: yes", "the answer is B" -> the token after the cue is matched as in 2.
4. leading   the first token, when a separator follows ("B：需要", "Yes, it needs…", "No.") is matched as in 2.
5. keyword   keyword lists per option (each option's value and label count as keywords). All occurrences are
             found; an occurrence inside a longer one is dropped, so "不需要" never also counts as "需要".
             ASCII keywords match whole words only ("no" is not in "not" or "know"); CJK keywords match anywhere.
             Exactly one option left -> that option; several -> ambiguous (unparseable).

Anything else is unparseable (`value is None`): never silently mapped to a class. The text is NFKC-normalised
first, so full-width letters and punctuation ("Ｂ：", "答案是：") read like their ASCII forms.

The manager's regex runs on the GPU worker, so it is bounded: at most REGEX_MAX_LENGTH characters, refused on
save when it backtracks catastrophically on a probe text, and every match has a time limit (the `regex`
package's `timeout=`); an answer on which it runs out of time is unparseable.
"""
import re
import unicodedata
from dataclasses import dataclass, field

import regex as bounded_re
from django.utils.translation import gettext as _

REGEX_MAX_LENGTH = 500
REGEX_TIMEOUT_S = 0.05  # per answer; a sane answer regex takes microseconds
# Texts on which nested quantifiers such as (a+)+$ or (\w+\s?)+$ backtrack for ever.
_REGEX_PROBES = tuple(c * 3000 + "!" for c in ("a", "1", " ", "答"))

UNPARSEABLE = "unparseable"
AMBIGUOUS = "ambiguous"
_EDGE_PUNCT = " \t\r\n.,;:!?。，；：！？、\"'`()[]{}<>《》「」『』“”‘’*_-#"
_ANSWER_CUES = re.compile(
    r"(?:答案|回答|结论|判断|选择|选项|answer|label|choice|prediction)\s*(?:是|为|应该是|应为|is|would be|should be)?"
    r"\s*[:=：]?\s*(?:选项)?\s*([^\s,.;:!?，。；：！？、()（）\"'“”]+)",
    re.IGNORECASE,
)
_LEADING = re.compile(r"^\s*[\"'“(（\[]?([^\s,.;:!?，。；：！？、)）\]\"'”]+)[\"'”)）\]]?\s*(?:[,.;:!?，。；：！？、\-—)）]|$)")


@dataclass(frozen=True)
class Option:
    value: str
    label: str = ""
    key: str = ""
    keywords: tuple[str, ...] = ()


class BadParserSetting(ValueError):
    """A keyword or regex setting the parser cannot use; `field` names which, for the form."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ParserConfig:
    """How answers map to options. `keywords` maps an option value to extra words that mean it."""

    options: tuple[Option, ...]
    regex: str = ""
    use_keywords: bool = True

    @classmethod
    def from_question(cls, question: dict, *, keywords: dict | None = None, regex: str = "",
                      use_keywords: bool = True) -> "ParserConfig":
        keywords = keywords or {}
        unknown = set(keywords) - {o["value"] for o in question.get("options", [])}
        if unknown:
            raise BadParserSetting("keywords", _("keywords name options the question does not have: %(options)s")
                                   % {"options": ", ".join(sorted(unknown))})
        options = tuple(
            Option(value=o["value"], label=o.get("label") or "", key=o.get("key") or "",
                   keywords=tuple(k for k in keywords.get(o["value"], []) if k and k.strip()))
            for o in question.get("options", [])
        )
        if regex:
            compiled = regex_compile(regex)
            if compiled.groups < 1:
                raise BadParserSetting("regex", _("the regex needs a group around the answer, e.g. %(example)s")
                                       % {"example": "答案[是:：]\\s*(\\w+)"})
            _regex_probe(compiled)
        return cls(options=options, regex=regex, use_keywords=use_keywords)


@dataclass(frozen=True)
class ParseResult:
    value: str | None  # an option value, or None when unparseable
    rule: str  # regex | exact | answer_is | leading | keyword | ambiguous | unparseable
    detail: list[str] = field(default_factory=list)

    @property
    def parsed(self) -> bool:
        return self.value is not None


def regex_compile(regex: str) -> bounded_re.Pattern:
    if len(regex) > REGEX_MAX_LENGTH:
        raise BadParserSetting("regex", _("the regex is longer than %(n)s characters") % {"n": REGEX_MAX_LENGTH})
    try:
        return bounded_re.compile(regex, bounded_re.IGNORECASE)
    except bounded_re.error as exc:
        raise BadParserSetting("regex", _("the regex does not compile: %(error)s") % {"error": exc}) from None


def _regex_probe(compiled: bounded_re.Pattern) -> None:
    for probe in _REGEX_PROBES:
        try:
            compiled.search(probe, timeout=REGEX_TIMEOUT_S)
        except TimeoutError:
            raise BadParserSetting("regex", _("the regex is too slow (nested repetition such as (a+)+ backtracks "
                                              "without end); simplify it")) from None


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip()


def _token_option(token: str, config: ParserConfig) -> str | None:
    """The option whose value, label or key is exactly `token` (case-insensitive, edge punctuation ignored)."""
    token = normalise(token).strip(_EDGE_PUNCT).casefold()
    if not token:
        return None
    for attr in ("value", "label", "key"):
        hits = {o.value for o in config.options if getattr(o, attr) and normalise(getattr(o, attr)).casefold() == token}
        if len(hits) == 1:
            return hits.pop()
    return None


def _is_ascii_word(keyword: str) -> bool:
    return keyword.isascii()


def _keyword_spans(text: str, config: ParserConfig) -> list[tuple[int, int, str]]:
    folded = text.casefold()
    spans = []
    for option in config.options:
        words = {normalise(w).casefold() for w in (option.value, option.label, *option.keywords) if w and w.strip()}
        for word in words:
            if _is_ascii_word(word):
                pattern = r"(?<![0-9a-z_])" + re.escape(word) + r"(?![0-9a-z_])"
            else:
                pattern = re.escape(word)
            spans += [(m.start(), m.end(), option.value) for m in re.finditer(pattern, folded)]
    # Drop every occurrence that sits inside a longer one: "不需要" hides the "需要" inside it.
    return [s for s in spans if not any(o[0] <= s[0] and s[1] <= o[1] and (o[1] - o[0]) > (s[1] - s[0])
                                        for o in spans)]


def parse_answer(text: str, config: ParserConfig) -> ParseResult:
    text = normalise(text)
    if not text:
        return ParseResult(None, UNPARSEABLE, ["empty answer"])
    if config.regex:
        try:
            match = regex_compile(config.regex).search(text, timeout=REGEX_TIMEOUT_S)
        except TimeoutError:
            return ParseResult(None, UNPARSEABLE, ["the regex ran out of time on this answer"])
        if match:
            captured = match.groupdict().get("answer") or next((g for g in match.groups() if g), "")
            value = _token_option(captured, config)
            if value is None:
                return ParseResult(None, UNPARSEABLE, [f"regex captured {captured!r}, which is no option"])
            return ParseResult(value, "regex", [captured])
    value = _token_option(text, config)
    if value is not None:
        return ParseResult(value, "exact")
    for match in _ANSWER_CUES.finditer(text):
        value = _token_option(match.group(1), config)
        if value is not None:
            return ParseResult(value, "answer_is", [match.group(1)])
    match = _LEADING.match(text)
    if match:
        value = _token_option(match.group(1), config)
        if value is not None:
            return ParseResult(value, "leading", [match.group(1)])
    if config.use_keywords:
        spans = _keyword_spans(text, config)
        found = sorted({s[2] for s in spans})
        if len(found) == 1:
            return ParseResult(found[0], "keyword", [text[s[0]:s[1]] for s in spans])
        if len(found) > 1:
            return ParseResult(None, AMBIGUOUS, found)
    return ParseResult(None, UNPARSEABLE, [])
