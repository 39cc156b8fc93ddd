"""OpenAI chat fine-tuning records: `messages` of `role` (system / user / assistant / tool) and `content`
(a string, or a list of parts whose `text` parts are joined): optional system messages, then user,
assistant, user, … A turn with `tool_calls` / `function_call` is refused like a tool turn."""
from django.utils.translation import gettext as _

from labelstudio_app.projects.importers import conversation as conv
from labelstudio_app.projects.importers.base import Record, type_name
from labelstudio_app.projects.importers.fields import BadRecord

ROLES = {"user": conv.USER, "assistant": conv.ASSISTANT, "system": conv.SYSTEM, "developer": conv.SYSTEM,
         "tool": conv.TOOL, "function": conv.TOOL}
NAMES = {conv.USER: "user", conv.ASSISTANT: "assistant"}


def _content(turn: dict, i: int) -> str:
    if "content" not in turn:
        raise BadRecord(_("field 'messages' turn %(turn)s: missing field 'content'") % {"turn": i + 1})
    value = turn["content"]
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = []
        for part in value:
            if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif not (isinstance(part, dict) and "type" in part):
                raise BadRecord(_("field 'messages' turn %(turn)s: 'content' parts must be objects with a 'type'")
                                % {"turn": i + 1})
        return "\n".join(parts)
    raise BadRecord(_("field 'messages' turn %(turn)s: 'content' must be a string, got %(type)s")
                    % {"turn": i + 1, "type": type_name(value)})


def to_record(obj, line: int) -> Record:
    turns = []
    for i, turn in enumerate(conv.turn_list(obj, "messages")):
        role_name = conv.turn_field(turn, "role", i, "messages")
        role = ROLES.get(role_name)
        if role is None:
            raise BadRecord(_("field 'messages' turn %(turn)s: unknown role %(role)s (expected one of %(roles)s)")
                            % {"turn": i + 1, "role": repr(role_name[:40]), "roles": ", ".join(sorted(ROLES))})
        if turn.get("tool_calls") or turn.get("function_call"):
            role, role_name = conv.TOOL, f"{role_name} with tool_calls"
        turns.append((role, role_name, _content(turn, i)))
    conv.check_order(turns, list_key="messages", names=NAMES, max_systems=None)
    return conv.build(obj, line, turns=turns, list_key="messages")
