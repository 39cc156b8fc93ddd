"""ShareGPT: `conversations` of `from` (human / gpt / system) and `value`: an optional leading system turn,
then human, gpt, human, gpt, …"""
from django.utils.translation import gettext as _

from labelstudio_app.projects.importers import conversation as conv
from labelstudio_app.projects.importers.base import Record
from labelstudio_app.projects.importers.fields import BadRecord

ROLES = {"human": conv.USER, "user": conv.USER, "gpt": conv.ASSISTANT, "assistant": conv.ASSISTANT,
         "chatgpt": conv.ASSISTANT, "model": conv.ASSISTANT, "bot": conv.ASSISTANT, "system": conv.SYSTEM,
         "tool": conv.TOOL, "function": conv.TOOL, "function_call": conv.TOOL, "observation": conv.TOOL}
NAMES = {conv.USER: "human", conv.ASSISTANT: "gpt"}


def to_record(obj, line: int) -> Record:
    turns = []
    for i, turn in enumerate(conv.turn_list(obj, "conversations")):
        who = conv.turn_field(turn, "from", i, "conversations")
        role = ROLES.get(who.strip().lower())
        if role is None:
            raise BadRecord(_("field 'conversations' turn %(turn)s: unknown 'from' %(who)s (expected one of %(roles)s)")
                            % {"turn": i + 1, "who": repr(who[:40]), "roles": ", ".join(sorted(ROLES))})
        turns.append((role, who, conv.turn_field(turn, "value", i, "conversations")))
    conv.check_order(turns, list_key="conversations", names=NAMES, max_systems=1)
    return conv.build(obj, line, turns=turns, list_key="conversations")
