"""Label schemas: a project's list of questions, and the annotations that answer them.

A schema is a list of questions, each a dict with `name`, `kind`, `label` (optional), `required`
(optional, default False) and kind-specific fields:

    single_choice  options: [{value, label, key}]      value: one option value
    multi_choice   options: [{value, label, key?}]     value: a list of option values
    flags          options: [{value, label, key?}]     value: a list of option values
    task_type      taxonomy: {"level1": ["level2", ...]}  value: "level1" or "level1 / level2"
    rating         min, max (integers, 0-100)          value: an integer in [min, max] (ordinal)
    text           max_length (optional)               value: a string

Keys are single characters, unique across the whole schema, and never one of the page's own keys.
Errors name the question ("question 2 (needs_context): ...") or the field, so a manager can fix them.
"""
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

KINDS = ("single_choice", "multi_choice", "task_type", "rating", "text", "flags")
OPTION_KINDS = ("single_choice", "multi_choice", "flags")
LIST_KINDS = ("multi_choice", "flags")
NOMINAL_KINDS = ("single_choice", "multi_choice", "flags", "task_type")
RESERVED_KEYS = frozenset({"s", "u", "?", " "})  # skip, go back, help; Enter is never a single character
TASK_TYPE_SEPARATOR = " / "
NAME_MAX = 64
TEXT_MAX = 20_000
RATING_LOW, RATING_HIGH = 0, 100  # the page draws one button per point, so the scale must stay small


def _where(index: int, question) -> str:
    name = question.get("name") if isinstance(question, dict) else None
    if isinstance(name, str) and name:
        return _("question %(n)s (%(name)s)") % {"n": index + 1, "name": name}
    return _("question %(n)s") % {"n": index + 1}


def _check_options(where: str, kind: str, options, keys_seen: dict[str, str]) -> list[dict]:
    if not isinstance(options, list) or not options:
        raise ValidationError(_("%(where)s: 'options' must be a non-empty list") % {"where": where})
    clean, values = [], set()
    for j, option in enumerate(options, start=1):
        if not isinstance(option, dict):
            raise ValidationError(_("%(where)s: option %(j)s must be an object with value, label and key")
                                  % {"where": where, "j": j})
        value = option.get("value")
        if not isinstance(value, str) or not value.strip():
            raise ValidationError(_("%(where)s: option %(j)s needs a non-empty string 'value'") % {"where": where, "j": j})
        if value in values:
            raise ValidationError(_("%(where)s: option value '%(value)s' is used twice") % {"where": where, "value": value})
        values.add(value)
        label = option.get("label", value)
        if not isinstance(label, str):
            raise ValidationError(_("%(where)s: option '%(value)s' has a 'label' that is not a string")
                                  % {"where": where, "value": value})
        key = option.get("key")
        if key is None and kind == "single_choice":
            raise ValidationError(_("%(where)s: option '%(value)s' needs a 'key' (one character)")
                                  % {"where": where, "value": value})
        if key is not None:
            if not isinstance(key, str) or len(key) != 1 or key.isspace():
                raise ValidationError(_("%(where)s: option '%(value)s' has key %(key)r; a key is one visible character")
                                      % {"where": where, "value": value, "key": key})
            if key.lower() in RESERVED_KEYS:
                raise ValidationError(_("%(where)s: option key '%(key)s' is reserved (s skips, u goes back, ? shows help)")
                                      % {"where": where, "key": key})
            if key in keys_seen:
                raise ValidationError(_("%(where)s: option key '%(key)s' is used twice (also by %(other)s)")
                                      % {"where": where, "key": key, "other": keys_seen[key]})
            keys_seen[key] = _("%(where)s option '%(value)s'") % {"where": where, "value": value}
        clean.append({"value": value, "label": label, **({"key": key} if key is not None else {})})
    return clean


def _check_taxonomy(where: str, taxonomy) -> dict[str, list[str]]:
    if not isinstance(taxonomy, dict) or not taxonomy:
        raise ValidationError(_("%(where)s: 'taxonomy' must be a non-empty object {level1: [level2, ...]}")
                              % {"where": where})
    clean = {}
    for level1, level2s in taxonomy.items():
        if not level1.strip() or TASK_TYPE_SEPARATOR.strip() in level1:
            raise ValidationError(_("%(where)s: taxonomy name '%(name)s' must be non-empty and contain no '/'")
                                  % {"where": where, "name": level1})
        if not isinstance(level2s, list) or not all(isinstance(x, str) and x.strip() for x in level2s):
            raise ValidationError(_("%(where)s: taxonomy '%(name)s' must map to a list of non-empty strings")
                                  % {"where": where, "name": level1})
        if len(set(level2s)) != len(level2s):
            raise ValidationError(_("%(where)s: taxonomy '%(name)s' lists a sub-type twice") % {"where": where, "name": level1})
        if any("/" in x for x in level2s):
            raise ValidationError(_("%(where)s: taxonomy '%(name)s' has a sub-type containing '/'")
                                  % {"where": where, "name": level1})
        clean[level1] = list(level2s)
    return clean


def _check_int(where: str, question: dict, field: str):
    value = question.get(field)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError(_("%(where)s: '%(field)s' must be an integer") % {"where": where, "field": field})
    return value


def _check_question(index: int, question, names: set, keys_seen: dict) -> dict:
    where = _where(index, question)
    if not isinstance(question, dict):
        raise ValidationError(_("%(where)s: must be an object with name and kind") % {"where": where})
    name = question.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > NAME_MAX or not name.replace("_", "a").isalnum():
        raise ValidationError(_("%(where)s: 'name' must be 1-%(max)s letters, digits or underscores")
                              % {"where": where, "max": NAME_MAX})
    if name in names:
        raise ValidationError(_("%(where)s: name '%(name)s' is used twice") % {"where": where, "name": name})
    names.add(name)
    kind = question.get("kind")
    if kind not in KINDS:
        raise ValidationError(_("%(where)s: 'kind' is %(kind)r; use one of %(all)s")
                              % {"where": where, "kind": kind, "all": ", ".join(KINDS)})
    label = question.get("label", name)
    if not isinstance(label, str):
        raise ValidationError(_("%(where)s: 'label' must be a string") % {"where": where})
    required = question.get("required", False)
    if not isinstance(required, bool):
        raise ValidationError(_("%(where)s: 'required' must be true or false") % {"where": where})
    clean = {"name": name, "kind": kind, "label": label, "required": required}
    if kind in OPTION_KINDS:
        clean["options"] = _check_options(where, kind, question.get("options"), keys_seen)
    elif kind == "task_type":
        clean["taxonomy"] = _check_taxonomy(where, question.get("taxonomy"))
    elif kind == "rating":
        low, high = _check_int(where, question, "min"), _check_int(where, question, "max")
        if low >= high:
            raise ValidationError(_("%(where)s: 'min' (%(low)s) must be below 'max' (%(high)s)")
                                  % {"where": where, "low": low, "high": high})
        if low < RATING_LOW or high > RATING_HIGH:
            raise ValidationError(_("%(where)s: 'min' and 'max' must be between %(low)s and %(high)s")
                                  % {"where": where, "low": RATING_LOW, "high": RATING_HIGH})
        clean.update(min=low, max=high)
    elif kind == "text" and "max_length" in question:
        max_length = _check_int(where, question, "max_length")
        if not 1 <= max_length <= TEXT_MAX:
            raise ValidationError(_("%(where)s: 'max_length' must be between 1 and %(max)s")
                                  % {"where": where, "max": TEXT_MAX})
        clean["max_length"] = max_length
    return clean


def schema_validate(schema) -> list[dict]:
    """Returns the schema normalised (defaults filled in); raises ValidationError naming the question and field."""
    if not isinstance(schema, list):
        raise ValidationError(_("the schema must be a list of questions"))
    names: set[str] = set()
    keys_seen: dict[str, str] = {}
    return [_check_question(i, q, names, keys_seen) for i, q in enumerate(schema)]


def _is_empty(value) -> bool:
    return value is None or value == "" or value == []


def _answer_clean(question: dict, value):
    name, kind = question["name"], question["kind"]
    if kind == "single_choice":
        allowed = [o["value"] for o in question["options"]]
        if value not in allowed:
            raise ValidationError({name: _("'%(value)s' is not one of %(all)s") % {"value": value, "all": ", ".join(allowed)}})
        return value
    if kind in LIST_KINDS:
        allowed = [o["value"] for o in question["options"]]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise ValidationError({name: _("must be a list of options")})
        unknown = [v for v in value if v not in allowed]
        if unknown:
            raise ValidationError({name: _("unknown option(s) %(names)s") % {"names": ", ".join(map(str, unknown))}})
        return [v for v in allowed if v in value]  # schema order, no duplicates
    if kind == "task_type":
        if not isinstance(value, str):
            raise ValidationError({name: _("must be a task type such as 'level1 / level2'")})
        level1, _sep, level2 = (part.strip() for part in value.partition("/"))
        taxonomy = question["taxonomy"]
        if level1 not in taxonomy:
            raise ValidationError({name: _("unknown task type '%(type)s'; use one of %(all)s")
                                  % {"type": level1, "all": ", ".join(taxonomy)}})
        if level2 and level2 not in taxonomy[level1]:
            raise ValidationError({name: _("'%(sub)s' is not a sub-type of '%(type)s'") % {"sub": level2, "type": level1}})
        if not level2 and taxonomy[level1]:
            raise ValidationError({name: _("choose a sub-type of '%(type)s': %(all)s")
                                  % {"type": level1, "all": ", ".join(taxonomy[level1])}})
        return f"{level1}{TASK_TYPE_SEPARATOR}{level2}" if level2 else level1
    if kind == "rating":
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or not question["min"] <= value <= question["max"]:
            raise ValidationError({name: _("must be a whole number from %(min)s to %(max)s")
                                  % {"min": question["min"], "max": question["max"]}})
        return value
    # text
    if not isinstance(value, str):
        raise ValidationError({name: _("must be text")})
    value = value.strip()
    limit = question.get("max_length", TEXT_MAX)
    if len(value) > limit:  # characters, not bytes: CJK counts one per character
        raise ValidationError({name: _("is %(n)s characters long; the limit is %(limit)s") % {"n": len(value), "limit": limit}})
    return value


def annotation_validate(*, schema: list[dict], values) -> dict:
    """Returns the values normalised to the schema; raises ValidationError({field: message}) naming each bad field."""
    if not isinstance(values, dict):
        raise ValidationError(_("an annotation must be an object {question name: answer}"))
    questions = {q["name"]: q for q in schema}
    errors: dict[str, str] = {}
    unknown = sorted(set(values) - set(questions))
    for name in unknown:
        errors[name] = _("is not a question of this project's schema")
    clean = {}
    for name, question in questions.items():
        value = values.get(name)
        if _is_empty(value):
            if question.get("required"):
                errors[name] = _("is required")
            continue
        try:
            answer = _answer_clean(question, value)
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
            continue
        if not _is_empty(answer):
            clean[name] = answer
        elif question.get("required"):
            errors[name] = _("is required")
    if errors:
        raise ValidationError({k: _("%(field)s: %(problem)s") % {"field": k, "problem": v} for k, v in errors.items()})
    return clean
