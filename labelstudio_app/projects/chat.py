"""Chat context shown to people: senders anonymised as A, B, C … in order of first appearance."""
from __future__ import annotations

from string import ascii_uppercase


def speaker_letter(n: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA, 27 -> AB …"""
    out = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        out = ascii_uppercase[r] + out
    return out


def anonymise_context(context: list | None, *, asker: str | None = None) -> list[dict]:
    """The turns as `{"speaker": "A", "text", "time", "is_asker"}`; a sender keeps one letter throughout.
    `asker` (the item's own sender, if known) is lettered too, so the asker's earlier turns are marked."""
    letters: dict[str, str] = {}
    out = []
    for turn in context or []:
        if isinstance(turn, str):
            turn = {"text": turn}
        sender = str(turn.get("sender") or "")
        if sender not in letters:
            letters[sender] = speaker_letter(len(letters))
        out.append({"speaker": letters[sender], "text": str(turn.get("text") or ""), "time": str(turn.get("time") or ""),
                    "is_asker": asker is not None and sender == asker})
    return out


def conversation(*, context: list | None, text: str, asker: str | None = None, time: str = "") -> list[dict]:
    """The context plus the item's own message as the last turn, flagged `target` (for highlighting)."""
    turns = [*list(context or []), {"sender": asker if asker is not None else "\x00asker", "text": text, "time": time}]
    out = anonymise_context(turns, asker=asker)
    for turn in out:
        turn["target"] = False
    out[-1]["target"] = True
    out[-1]["is_asker"] = True
    return out


def item_conversation(item) -> list[dict]:
    meta = item.metadata if isinstance(item.metadata, dict) else {}
    asker = meta.get("sender") if isinstance(meta.get("sender"), str) else None
    return conversation(context=item.context, text=item.text, asker=asker, time=str(meta.get("time") or ""))
