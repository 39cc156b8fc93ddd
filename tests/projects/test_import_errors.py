"""Malformed files fail with messages naming the line and the problem; nothing from them is stored."""
import json

import pytest

from labelstudio_app.projects.models import Item
from tests.factories import ItemFactory
from tests.projects.factories import import_text


def _lines(n, bad_at=None, bad=""):
    rows = [json.dumps({"text": f"问题 {i} 怎么办？", "task_type": "usage / api"}, ensure_ascii=False)
            for i in range(1, n + 1)]
    if bad_at:
        rows[bad_at - 1] = bad
    return "\n".join(rows) + "\n"


CASES = [
    ("bad.jsonl", _lines(10, 7, '{"text": "x" "task_type": "a"}'), ["line 7: invalid JSON: Expecting ',' delimiter"]),
    ("missing.jsonl", _lines(5, 3, '{"question_text": "hi"}'), ["line 3: missing field 'text'"]),
    ("type.jsonl", _lines(5, 4, '{"text": "hi?", "task_type": 3}'),
     ["line 4: field 'task_type' must be a string, got number"]),
    ("blank.csv", "\r\n  \n", ["The file is empty."]),
    ("binary.jsonl", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ["binary"]),
    ("latin1.jsonl", _lines(3).encode() + '{"text": "café?"}\n'.encode("latin-1"), ["line 4: not valid UTF-8"]),
    ("list.json", '[\n {"text": "a?"},\n {"text": "b?"}\n {"text": "c?"}\n]', ["line 4: invalid JSON: expected ','"]),
    ("chat.log", "2024-03-01 09:00:00 a: hi?\n2024-13-01 09:00:00 b: why?\nnot a message\n",
     ["line 2: invalid date or time"]),
    ("sharegpt.jsonl", '{"conversations": [{"from": "gpt", "value": "hi"}]}\n', ["line 1: field 'conversations' turn 1: expected 'human', got 'gpt'"]),
    ("openai.jsonl", '{"messages": [{"role": "user", "content": 5}]}\n',
     ["line 1: field 'messages' turn 1: 'content' must be a string, got number"]),
    ("items.csv", "external_id,task_type\n1,a\n", ["line 2: missing field 'text'"]),
    ("alpaca.json", '[{"instruction": "x?", "output": ["a"]}]', ["line 1: field 'output' must be a string, got list"]),
    ("ls.json", '[{"id": 1, "data": {"text": "ok?"}}, {"id": 2, "data": "nope"}]',
     ["line 1: field 'data' must be an object, got string"]),
    ("nul.jsonl", '{"text": "a\\u0000b"}\n', ["line 1: field 'text' contains a NUL character"]),
]


@pytest.mark.parametrize("name,content,expected", CASES, ids=[c[0] for c in CASES])
def test_it_fails_clearly_and_leaves_the_project_unchanged(project, manager, name, content, expected):
    ItemFactory.create_batch(3, project=project)
    before = list(Item.objects.filter(project=project).values_list("id", "text"))
    job = import_text(project, manager, name, content)
    assert job.state == "failed"
    for fragment in expected:
        assert fragment in job.error, job.error
    assert list(Item.objects.filter(project=project).values_list("id", "text")) == before


def test_it_reports_every_bad_line_up_to_the_cap(project, manager):
    content = "\n".join(['{"text": 1}'] * 150 + ['{"text": "fine?"}']) + "\n"
    job = import_text(project, manager, "many.jsonl", content)
    assert job.state == "failed"
    assert "150 problem(s)" in job.error
    assert "line 1: field 'text' must be a string, got number" in job.error
    assert "line 100: " in job.error and "line 101: " not in job.error and "… and 50 more errors" in job.error
    assert not Item.objects.filter(project=project).exists()


def test_it_refuses_an_empty_upload_before_any_job(project, manager):
    from django.core.exceptions import ValidationError

    from labelstudio_app.jobs.models import Job
    from labelstudio_app.projects import services
    from tests.projects.factories import upload

    with pytest.raises(ValidationError, match=r"The file is empty\."):
        services.import_create(project=project, user=manager, upload=upload("empty.jsonl", ""))
    assert not Job.objects.filter(project=project).exists()


def test_it_refuses_a_file_over_the_size_limit(project, manager, settings):
    from django.core.exceptions import ValidationError

    from labelstudio_app.projects import services
    from tests.projects.factories import upload

    settings.MAX_UPLOAD_MB = 1
    with pytest.raises(ValidationError, match=r"The file is 1\.5 MB; the limit is 1 MB"):
        services.import_create(project=project, user=manager, upload=upload("big.jsonl", b"x" * (1536 * 1024)))


def test_it_accepts_a_bom_and_crlf(project, manager):
    content = "\ufeff" + '{"text": "第一个问题？"}\r\n{"text": "second?"}\r\n'
    job = import_text(project, manager, "crlf.jsonl", content)
    assert job.state == "succeeded", job.error
    assert list(Item.objects.filter(project=project).values_list("text", flat=True)) == ["第一个问题？", "second?"]
