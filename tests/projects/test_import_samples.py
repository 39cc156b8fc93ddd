"""Importing the shared sample files in each format gives counts computed independently here."""
import csv
import json
import re

import pytest

from labelstudio_app.projects.models import Item
from tests.projects.factories import import_file

ZH = ("吗", "呢", "怎么", "如何", "为什么", "哪", "什么", "是否", "能不能", "有没有", "多少", "是不是", "可不可以", "咋")
EN = {"how", "what", "why", "when", "where", "which", "who", "whom", "whose", "can", "could", "does", "do", "did",
      "is", "are", "should", "would", "will", "may", "anyone"}


def expected_chat_items(path, window=60, min_chars=4, max_chars=500):
    """An independent re-implementation of the chat preprocessing, for the expected count."""
    from datetime import datetime

    turns = []
    for line in path.read_text(encoding="utf-8").splitlines():
        stamp, rest = line[:19], line[20:]
        sender, text = rest.split(": ", 1)
        when = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S")
        if turns and turns[-1][0] == sender and (when - turns[-1][1]).total_seconds() <= window:
            turns[-1] = (sender, when, turns[-1][2] + "\n" + text)
        else:
            turns.append((sender, when, text))
    seen, kept = set(), []
    for _, _, text in turns:
        text = text.strip()
        first = re.match(r"^[\W_]*([A-Za-z]+)", text)
        question = ("?" in text or "？" in text or any(w in text for w in ZH)
                    or bool(first and first.group(1).lower() in EN))
        if min_chars <= len(text) <= max_chars and question and text not in seen:
            seen.add(text)
            kept.append(text)
    return kept


@pytest.mark.parametrize("name,fmt", [("alpaca.json", "auto"), ("sharegpt.jsonl", "auto"),
                                      ("openai_chat.jsonl", "auto"), ("items.csv", "auto"),
                                      ("alpaca.json", "alpaca"), ("sharegpt.jsonl", "sharegpt")])
def test_it_imports_each_sample_format_with_the_expected_count(samples, project, manager, name, fmt):
    path = samples / name
    if name.endswith(".json"):
        source = json.loads(path.read_text(encoding="utf-8"))
    elif name.endswith(".csv"):
        source = list(csv.DictReader(path.open(encoding="utf-8")))
    else:
        source = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    job = import_file(project, manager, path, fmt=fmt)
    assert job.state == "succeeded", job.error
    items = list(Item.objects.filter(project=project).order_by("id"))
    assert len(items) == len(source) == job.result["items"]
    assert all(i.source_job_id == job.pk for i in items)
    assert [i.task_type for i in items] == [r["task_type"] for r in source]
    texts = [r.get("instruction") or r.get("text") or r.get("question")
             or next(t.get("value") or t.get("content") for t in (r.get("conversations") or r["messages"])
                     if (t.get("from") or t.get("role")) in ("human", "user")) for r in source]
    assert [i.text for i in items] == texts


def test_it_imports_the_group_chat_log_with_the_expected_count(samples, project, manager):
    expected = expected_chat_items(samples / "group_chat.log")
    job = import_file(project, manager, samples / "group_chat.log")
    assert job.state == "succeeded", job.error
    texts = list(Item.objects.filter(project=project).order_by("id").values_list("text", flat=True))
    assert texts == expected
    assert job.result["items"] == len(expected) and sum(job.result["dropped"].values()) > 0
    assert job.progress_done == job.progress_total == len(expected)
