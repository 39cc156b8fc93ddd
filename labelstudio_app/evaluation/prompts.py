"""How a model is asked about an item: see `projects.sft.item_prompt_messages`."""
import string

from labelstudio_app.projects.models import Item, Project
from labelstudio_app.projects.sft import item_prompt_messages


def _sender_letter(index: int) -> str:
    letters = string.ascii_uppercase
    name = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        name = letters[rem] + name
    return name


def context_render(context: list | None) -> str:
    """Chat turns as `A: text` lines, senders anonymised A, B, C… in order of first appearance."""
    letters: dict[str, str] = {}
    lines = []
    for turn in context or []:
        if not isinstance(turn, dict):
            continue
        sender = str(turn.get("sender", ""))
        if sender not in letters:
            letters[sender] = _sender_letter(len(letters))
        lines.append(f"{letters[sender]}: {turn.get('text', '')}")
    return "\n".join(lines)


def item_messages(*, project: Project, item: Item, template: str | None = None) -> list[dict]:
    """The prompt for `item`: `projects.sft.item_prompt_messages`, the one renderer (kept under this name for
    existing callers)."""
    return item_prompt_messages(project=project, item=item, template=template)
