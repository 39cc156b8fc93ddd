"""How a model is asked about an item: one function that generation and the label audit share."""
import re
import string

from labelstudio_app.projects.models import Item, Project

_PLACEHOLDER = re.compile(r"\{(text|context)\}")


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
    """Chat messages asking the model about `item`.

    With a template (the argument, else the project's `prompt_template`), `{text}` and `{context}` are
    replaced by the item text and its rendered context; other braces are left alone (no str.format, so a
    template or an item may contain `{` freely). Without one, the user message is the context turns
    followed by the item text.
    """
    template = template if template is not None else (project.prompt_template or "")
    context = context_render(item.context)
    if template.strip():
        values = {"text": item.text, "context": context}
        content = _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)
    elif context:
        content = f"{context}\n\n{item.text}"
    else:
        content = item.text
    return [{"role": "user", "content": content}]
