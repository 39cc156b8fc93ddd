"""Conversations (ShareGPT and OpenAI chat): the last user turn is the item, earlier turns its context,
the assistant turn right after it the reference answer; a system prompt goes to metadata.

Turn order is strict: optional system turns first (ShareGPT: at most one), then user and assistant
alternating, starting with user. Tool / function turns are refused: nothing downstream (labelling,
SFT export) can show or write them yet, and dropping them would silently change the conversation."""
from django.utils.translation import gettext as _

from labelstudio_app.projects.importers.base import Record, type_name
from labelstudio_app.projects.importers.fields import BadRecord, external_id, task_type

USER, ASSISTANT, SYSTEM, TOOL = "user", "assistant", "system", "tool"


def check_order(turns: list[tuple[str, str, str]], *, list_key: str, names: dict[str, str],
                max_systems: int | None) -> None:
    """Raises BadRecord naming the first turn out of order. `names` spells the roles as the format writes
    them (ShareGPT: human / gpt); `max_systems` caps the leading system turns (None: any number)."""
    systems = 0
    while systems < len(turns) and turns[systems][0] == SYSTEM:
        systems += 1
    for i, (role, sender, _text) in enumerate(turns):
        where = {"field": list_key, "turn": i + 1, "got": sender[:40]}
        if role == TOOL:
            raise BadRecord(_("field '%(field)s' turn %(turn)s: %(got)r turns (tools / function calls) are not "
                              "supported yet") % where)
        if role == SYSTEM:
            if i >= systems:
                raise BadRecord(_("field '%(field)s' turn %(turn)s: a %(got)r turn may only come first") % where)
            if max_systems is not None and i >= max_systems:
                raise BadRecord(_("field '%(field)s' turn %(turn)s: only one leading %(got)r turn is allowed")
                                % where)
            continue
        expected = USER if (i - systems) % 2 == 0 else ASSISTANT
        if role != expected:
            raise BadRecord(_("field '%(field)s' turn %(turn)s: expected %(expected)r, got %(got)r (turns must "
                              "alternate %(user)s, %(assistant)s, … after the system turns)")
                            % {**where, "expected": names[expected], "user": names[USER],
                               "assistant": names[ASSISTANT]})


def build(obj: dict, line: int, *, turns: list[tuple[str, str, str]], list_key: str) -> Record:
    """`turns` are (role, sender as written, text), already in a valid order (check_order)."""
    users = [i for i, (role, _name, _text) in enumerate(turns) if role == USER]
    if not users:
        raise BadRecord(_("field '%(key)s' has no user turn") % {"key": list_key})
    last = users[-1]
    text = turns[last][2]
    if not text.strip():
        raise BadRecord(_("field '%(key)s' turn %(turn)s: the user turn is empty") % {"key": list_key, "turn": last + 1})
    system = [t for role, _name, t in turns[:last] if role == SYSTEM]
    context = [{"sender": sender, "text": t, "time": ""} for role, sender, t in turns[:last] if role != SYSTEM]
    answer = turns[last + 1][2] if last + 1 < len(turns) and turns[last + 1][0] == ASSISTANT else ""
    metadata = {k: v for k, v in obj.items() if k not in {list_key, "id", "external_id", "task_type"}}
    if system:
        metadata["system"] = "\n".join(system)
    return Record(text=text, line=line, external_id=external_id(obj), task_type=task_type(obj),
                  context=context, reference_answer=answer, metadata=metadata)


def turn_list(obj, key: str) -> list:
    if not isinstance(obj, dict):
        raise BadRecord(_("expected an object, got %(type)s") % {"type": type_name(obj)})
    if key not in obj:
        raise BadRecord(_("missing field '%(key)s'") % {"key": key})
    value = obj[key]
    if not isinstance(value, list):
        raise BadRecord(_("field '%(key)s' must be a list, got %(type)s") % {"key": key, "type": type_name(value)})
    if not value:
        raise BadRecord(_("field '%(key)s' is empty") % {"key": key})
    return value


def turn_field(turn, key: str, i: int, list_key: str) -> str:
    if not isinstance(turn, dict):
        raise BadRecord(_("field '%(key)s' turn %(turn)s must be an object, got %(type)s")
                        % {"key": list_key, "turn": i + 1, "type": type_name(turn)})
    if key not in turn:
        raise BadRecord(_("field '%(list)s' turn %(turn)s: missing field '%(key)s'") % {"list": list_key, "turn": i + 1, "key": key})
    value = turn[key]
    if not isinstance(value, str):
        raise BadRecord(_("field '%(list)s' turn %(turn)s: '%(key)s' must be a string, got %(type)s")
                        % {"list": list_key, "turn": i + 1, "key": key, "type": type_name(value)})
    return value
