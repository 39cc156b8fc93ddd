"""Items + final labels -> SFT training rows, through the project's `training_template`.

The template is a JSON object of strings:

    {"system": "...", "instruction": "判断下面的问题是否需要结合上下文…\\n{context}\\n问题：{text}",
     "input": "", "output": "{label:needs_context|需要|不需要}"}

`instruction` and `output` are required; `system` and `input` are optional. Placeholders:

    {text} {context} {task_type} {reference_answer} {external_id}
        the item's fields; {context} is the chat turns as "A: …" lines, senders anonymised
    {value:FIELD}
        the final label's value for FIELD (a list is joined with ", "; missing -> empty)
    {label:FIELD|v1=out1|v2=out2}
        maps FIELD's value to text; without "=", the first entry is used for yes/true and the second
        for no/false (so {label:needs_context|需要|不需要} works). A value with no mapping drops the row.
    {{ and }}
        literal braces

A row whose output renders empty is dropped too (`sft_messages` returns None).

The prompt half of a row (system + user) comes from `item_prompt_messages`, the one renderer every path that
asks a model about an item shares; `output` is the answer it learns.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache

from labelstudio_app.projects.chat import anonymise_context

SFT_FORMATS = ("alpaca", "sharegpt", "openai")
TEMPLATE_KEYS = ("system", "instruction", "input", "output")
ITEM_FIELDS = ("text", "context", "task_type", "reference_answer", "external_id")
DEFAULT_TEMPLATE = {"instruction": "{text}", "input": "{context}", "output": "{reference_answer}"}
_TOKEN_RE = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
YES, NO = ("yes", "true", "1", True), ("no", "false", "0", False)


class TemplateError(ValueError):
    pass


class _Skip(Exception):
    """A label value with no mapping: the row is not a training example."""


@dataclass(frozen=True)
class _Part:
    kind: str  # literal | field | value | label
    arg: str = ""
    mapping: tuple = ()


def _compile_string(key: str, template: str) -> tuple[_Part, ...]:
    parts: list[_Part] = []
    pos = 0
    for m in _TOKEN_RE.finditer(template):
        if m.start() > pos:
            parts.append(_Part("literal", template[pos:m.start()]))
        pos = m.end()
        token = m.group(0)
        if token in ("{{", "}}"):
            parts.append(_Part("literal", token[0]))
            continue
        if token in ("{", "}"):
            raise TemplateError(f"'{key}': unmatched '{token}' at character {m.start() + 1} (write {token * 2} "
                                "for a literal brace)")
        parts.append(_placeholder(key, m.group(1).strip()))
    if pos < len(template):
        parts.append(_Part("literal", template[pos:]))
    return tuple(parts)


def _placeholder(key: str, spec: str) -> _Part:
    if spec in ITEM_FIELDS:
        return _Part("field", spec)
    if spec.startswith("value:"):
        name = spec[6:].strip()
        if not name:
            raise TemplateError(f"'{key}': {{value:}} needs a field name")
        return _Part("value", name)
    if spec.startswith("label:"):
        name, *entries = spec[6:].split("|")
        name = name.strip()
        if not name or not entries:
            raise TemplateError(f"'{key}': {{label:FIELD|…}} needs a field name and at least one mapping")
        if all("=" not in e for e in entries):
            if len(entries) > 2:
                raise TemplateError(f"'{key}': {{label:{name}|…}} without '=' takes two texts (yes|no)")
            mapping = (("yes", entries[0]),) + ((("no", entries[1]),) if len(entries) > 1 else ())
        elif all("=" in e for e in entries):
            mapping = tuple((e.split("=", 1)[0].strip(), e.split("=", 1)[1]) for e in entries)
        else:
            raise TemplateError(f"'{key}': {{label:{name}|…}} mixes entries with and without '='")
        return _Part("label", name, mapping)
    known = ", ".join("{" + f + "}" for f in ITEM_FIELDS)
    raise TemplateError(f"'{key}': unknown placeholder {{{spec}}}; use {known}, {{value:FIELD}} or "
                        "{label:FIELD|value=text|…}")


def template_validate(template, *, schema: list | None = None) -> list[str]:
    """Every problem with a training template, as messages naming the key (empty list: valid)."""
    if template in (None, {}, ""):
        return []
    if not isinstance(template, dict):
        return ["the training template must be a JSON object"]
    errors = []
    for key in template:
        if key not in TEMPLATE_KEYS:
            errors.append(f"unknown key '{key}' (use {', '.join(TEMPLATE_KEYS)})")
    for key in ("instruction", "output"):
        if key not in template:
            errors.append(f"missing key '{key}'")
    fields = {q.get("name") for q in schema or [] if isinstance(q, dict)}
    for key, value in template.items():
        if key not in TEMPLATE_KEYS:
            continue
        if not isinstance(value, str):
            errors.append(f"'{key}' must be a string")
            continue
        try:
            parts = _compile_string(key, value)
        except TemplateError as exc:
            errors.append(str(exc))
            continue
        if schema:
            for p in parts:
                if p.kind in ("value", "label") and p.arg not in fields:
                    errors.append(f"'{key}': the label schema has no question named '{p.arg}'")
    return errors


@lru_cache(maxsize=64)
def _compiled(template_json: str) -> dict[str, tuple[_Part, ...]]:
    template = json.loads(template_json) or DEFAULT_TEMPLATE
    errors = template_validate(template)
    if errors:
        raise TemplateError("; ".join(errors))
    return {key: _compile_string(key, value) for key, value in template.items()}


def compile_template(template: dict | None) -> dict[str, tuple[_Part, ...]]:
    return _compiled(json.dumps(template or {}, sort_keys=True, ensure_ascii=False))


def context_text(context) -> str:
    return "\n".join(f"{t['speaker']}: {t['text']}" for t in anonymise_context(context))


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_as_text(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _lookup(mapping: tuple, value) -> str:
    if isinstance(value, list):
        raise _Skip
    for key, out in mapping:
        if (key == "yes" and value in YES) or (key == "no" and value in NO) or key == _as_text(value):
            return out
    raise _Skip


def _render(parts, item, values: dict) -> str:
    out = []
    for p in parts:
        if p.kind == "literal":
            out.append(p.arg)
        elif p.kind == "field":
            out.append(context_text(item.context) if p.arg == "context" else str(getattr(item, p.arg) or ""))
        elif p.kind == "value":
            out.append(_as_text(values.get(p.arg)))
        else:
            out.append(_lookup(p.mapping, values.get(p.arg)))
    return "".join(out)


# Bumped whenever the prompt layout below changes: a snapshot's hash and a candidate's prompt hash record it.
RENDERER_VERSION = 2
_PROMPT_PLACEHOLDER = re.compile(r"\{(text|context)\}")


def _render_item_only(parts, item) -> str:
    """A prompt part: item fields only. A label placeholder in a prompt would leak the answer, so it renders empty."""
    return _render([p for p in parts if p.kind in ("literal", "field")], item, {})


def item_prompt_messages(*, project, item, template: str | None = None) -> list[dict]:
    """How a model is asked about `item`: the one layout training rows, generation, the label audit and the
    automatic round all use, so a model is judged on exactly the prompt it was trained on.

    [system]: the training template's `system` (item fields only), when set.
    user:     the prompt template (`template`, else the project's `prompt_template`: `{text}` and `{context}`
              replaced, other braces left alone); without one, the training template's `instruction` and `input`
              (item fields only, joined by a blank line); without those, the context turns, a blank line, the text.
    """
    training = project.training_template or {}
    compiled = compile_template(training) if training else {}
    template = template if template is not None else (project.prompt_template or "")
    context = context_text(item.context)
    if template.strip():
        values = {"text": item.text, "context": context}
        user = _PROMPT_PLACEHOLDER.sub(lambda m: values[m.group(1)], template)
    elif compiled:
        user = _render_item_only(compiled["instruction"], item)
        extra = _render_item_only(compiled.get("input", ()), item)
        if extra.strip():
            user = f"{user}\n\n{extra}" if user else extra
    else:
        user = f"{context}\n\n{item.text}" if context else item.text
    system = _render_item_only(compiled.get("system", ()), item)
    return [*([{"role": "system", "content": system}] if system.strip() else []), {"role": "user", "content": user}]


def prompt_sha256(messages: list[dict]) -> str:
    """The identity of a prompt (with the renderer's version): a changed template means a different prompt."""
    payload = json.dumps({"renderer": RENDERER_VERSION, "messages": messages}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def sft_messages(*, project, item, values: dict | None = None) -> list[dict] | None:
    """Training messages for one item: its prompt (`item_prompt_messages`) then the assistant's output rendered
    from the training template's `output` with the final label. None when the item has no final label and no
    `values` were given, when a label has no mapping in the template, or when the output renders empty."""
    if values is None:
        values = item.final_values
    if values is None:
        return None
    if not isinstance(values, dict):
        values = {}
    compiled = compile_template(project.training_template)
    try:
        output = _render(compiled["output"], item, values)
    except _Skip:
        return None
    if not output.strip():
        return None
    return [*item_prompt_messages(project=project, item=item), {"role": "assistant", "content": output}]


def sft_format_row(*, messages: list[dict], fmt: str, task_type: str, extra: dict | None = None) -> dict:
    """One training row in `fmt` (alpaca / sharegpt / openai); every row keeps its task type."""
    if fmt == "alpaca":
        system = [m["content"] for m in messages if m["role"] == "system"]
        users = [m["content"] for m in messages if m["role"] == "user"]
        answers = [m["content"] for m in messages if m["role"] == "assistant"]
        row = {"instruction": users[-1] if users else "", "input": "", "output": answers[-1] if answers else ""}
        if system:
            row["system"] = system[0]
    elif fmt == "sharegpt":
        names = {"system": "system", "user": "human", "assistant": "gpt"}
        row = {"conversations": [{"from": names[m["role"]], "value": m["content"]} for m in messages]}
    elif fmt == "openai":
        row = {"messages": [{"role": m["role"], "content": m["content"]} for m in messages]}
    else:
        raise ValueError(f"unknown SFT format {fmt!r}; use one of {', '.join(SFT_FORMATS)}")
    row["task_type"] = task_type
    if extra:
        row.update(extra)
    return row
