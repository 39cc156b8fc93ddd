"""Conversations (ShareGPT and OpenAI chat): the last user turn is the item, earlier turns its context,
the assistant turn right after it the reference answer; a system prompt goes to metadata."""
from labelstudio_app.projects.importers.base import Record, type_name
from labelstudio_app.projects.importers.fields import BadRecord, external_id, task_type

USER, ASSISTANT, SYSTEM, TOOL = "user", "assistant", "system", "tool"


def build(obj: dict, line: int, *, turns: list[tuple[str, str, str]], list_key: str) -> Record:
    """`turns` are (role, sender as written, text)."""
    users = [i for i, (role, _, _) in enumerate(turns) if role == USER]
    if not users:
        raise BadRecord(f"field '{list_key}' has no user turn")
    last = users[-1]
    text = turns[last][2]
    if not text.strip():
        raise BadRecord(f"field '{list_key}' turn {last + 1}: the user turn is empty")
    system = [t for role, _, t in turns[:last] if role == SYSTEM]
    context = [{"sender": sender, "text": t, "time": ""} for role, sender, t in turns[:last] if role != SYSTEM]
    answer = turns[last + 1][2] if last + 1 < len(turns) and turns[last + 1][0] == ASSISTANT else ""
    metadata = {k: v for k, v in obj.items() if k not in {list_key, "id", "external_id", "task_type"}}
    if system:
        metadata["system"] = "\n".join(system)
    return Record(text=text, line=line, external_id=external_id(obj), task_type=task_type(obj),
                  context=context, reference_answer=answer, metadata=metadata)


def turn_list(obj, key: str) -> list:
    if not isinstance(obj, dict):
        raise BadRecord(f"expected an object, got {type_name(obj)}")
    if key not in obj:
        raise BadRecord(f"missing field '{key}'")
    value = obj[key]
    if not isinstance(value, list):
        raise BadRecord(f"field '{key}' must be a list, got {type_name(value)}")
    if not value:
        raise BadRecord(f"field '{key}' is empty")
    return value


def turn_field(turn, key: str, i: int, list_key: str) -> str:
    if not isinstance(turn, dict):
        raise BadRecord(f"field '{list_key}' turn {i + 1} must be an object, got {type_name(turn)}")
    if key not in turn:
        raise BadRecord(f"field '{list_key}' turn {i + 1}: missing field '{key}'")
    value = turn[key]
    if not isinstance(value, str):
        raise BadRecord(f"field '{list_key}' turn {i + 1}: '{key}' must be a string, got {type_name(value)}")
    return value
