"""Property tests for every import parser: any input either imports exactly or fails with messages that
name a line; never an unhandled exception. The parsers are pure, so no database here."""
import csv
import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labelstudio_app.projects.importers import ImportFailed, Report, parse_text

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20).filter(
    lambda s: s.strip())
maybe = st.one_of(st.none(), text)
task = st.sampled_from(["", "deployment / edge", "usage / api", "性能"])


def run(content, fmt, container="jsonl", options=None):
    """(records, report) or (None, message) for a whole-file failure; anything else is a bug."""
    report = Report()
    try:
        return parse_text(content, fmt=fmt, report=report, container=container, options=options), report
    except ImportFailed as exc:
        assert str(exc)
        return None, str(exc)


def assert_errors_name_lines(report, content):
    n_lines = max(1, content.count("\n") + 1)
    for line, reason in report.errors:
        assert 1 <= line <= n_lines and reason, (line, reason)


# ---- valid input imports exactly ------------------------------------------------------------------------

items = st.lists(st.fixed_dictionaries({"text": text, "task_type": task}, optional={"id": text, "answer": text}),
                 min_size=1, max_size=8)


@SETTINGS
@given(items)
def test_it_imports_valid_items_exactly_in_jsonl_json_and_csv(rows):
    for container in ("jsonl", "json", "csv"):
        if container == "jsonl":
            content = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows)
        elif container == "json":
            content = json.dumps(rows, ensure_ascii=False, indent=1)
        else:
            out = io.StringIO()
            w = csv.DictWriter(out, fieldnames=["id", "text", "task_type", "answer"])
            w.writeheader()
            w.writerows([{k: r.get(k, "") for k in ("id", "text", "task_type", "answer")} for r in rows])
            content = out.getvalue()
        records, report = run(content, "items", container)
        assert report.ok, (container, report.messages())
        assert [r.text for r in records] == [r["text"] for r in rows]
        assert [r.task_type for r in records] == [r["task_type"].strip() for r in rows]
        assert [r.external_id for r in records] == [r.get("id", "") for r in rows]
        assert [r.reference_answer for r in records] == [r.get("answer", "") for r in rows]


alpaca = st.lists(st.fixed_dictionaries({"instruction": text, "input": st.one_of(st.just(""), text),
                                         "output": text}), min_size=1, max_size=6)


@SETTINGS
@given(alpaca)
def test_it_imports_valid_alpaca_exactly(rows):
    records, report = run(json.dumps(rows, ensure_ascii=False), "alpaca", "json")
    assert report.ok, report.messages()
    assert [(r.text, r.reference_answer) for r in records] == [(r["instruction"], r["output"]) for r in rows]
    assert [r.context[0]["text"] if r.context else "" for r in records] == [
        r["input"] if r["input"].strip() else "" for r in rows]


# valid conversations alternate human, gpt, … (turn order: tests/projects/test_import_turn_order.py)
turns = st.lists(text, min_size=1, max_size=5).map(lambda vs: [("human" if i % 2 == 0 else "gpt", v)
                                                               for i, v in enumerate(vs)])


@SETTINGS
@given(st.lists(turns, min_size=1, max_size=5))
def test_it_imports_valid_conversations_exactly(convs):
    sharegpt = "\n".join(json.dumps({"conversations": [{"from": w, "value": v} for w, v in c]}) for c in convs)
    openai = "\n".join(json.dumps({"messages": [{"role": {"human": "user", "gpt": "assistant"}[w], "content": v}
                                                for w, v in c]}) for c in convs)
    for content, fmt in ((sharegpt, "sharegpt"), (openai, "openai")):
        records, report = run(content, fmt)
        assert report.ok, report.messages()
        for rec, conv in zip(records, convs, strict=True):
            last = max(i for i, (w, _) in enumerate(conv) if w == "human")
            assert rec.text == conv[last][1]
            assert [t["text"] for t in rec.context] == [v for _, v in conv[:last]]
            after = conv[last + 1][1] if last + 1 < len(conv) and conv[last + 1][0] == "gpt" else ""
            assert rec.reference_answer == after


@SETTINGS
@given(st.lists(st.fixed_dictionaries({"id": st.integers(0, 10**6), "data": st.fixed_dictionaries({"text": text})}),
                min_size=1, max_size=6))
def test_it_imports_a_valid_label_studio_export_exactly(tasks):
    records, report = run(json.dumps(tasks, ensure_ascii=False), "labelstudio", "json")
    assert report.ok, report.messages()
    assert [(r.external_id, r.text) for r in records] == [(str(t["id"]), t["data"]["text"]) for t in tasks]


pairs = st.lists(st.fixed_dictionaries(
    {"prompt": text, "chosen": text, "rejected": text, "task_type": task},
    optional={"external_id": text, "context": st.lists(st.fixed_dictionaries({"speaker": st.sampled_from("AB"),
                                                                                "text": text}), max_size=3)}),
    min_size=1, max_size=6)


@SETTINGS
@given(pairs, st.sampled_from(["jsonl", "json"]))
def test_it_imports_valid_preference_pairs_exactly(rows, container):
    content = (json.dumps(rows, ensure_ascii=False) if container == "json"
               else "\n".join(json.dumps(r, ensure_ascii=False) for r in rows))
    records, report = run(content, "preference", container)
    assert report.ok, report.messages()
    assert [(r.text, r.reference_answer, r.metadata["rejected"]) for r in records] == [
        (r["prompt"], r["chosen"], r["rejected"]) for r in rows]
    assert [[t["sender"] for t in r.context] for r in records] == [
        [t["speaker"] for t in r.get("context", [])] for r in rows]


@SETTINGS
@given(pairs, st.integers(0, 5), st.sampled_from(["prompt", "chosen", "rejected"]),
       st.sampled_from([None, 3, "", ["x"]]))
def test_it_refuses_a_bad_pair_naming_its_line_and_field(rows, at, field, value):
    at = at % len(rows)
    rows[at] = {**rows[at], field: value}
    _records, report = run("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "preference")
    assert not report.ok
    assert report.errors[0][0] == at + 1 and f"'{field}'" in report.errors[0][1], report.errors


chat_line = st.tuples(st.integers(0, 3), st.sampled_from(["张三", "bob", "王二"]),
                      st.text(alphabet="怎么吗?？ab 测试xyz", min_size=1, max_size=12).filter(lambda s: s.strip()))


@SETTINGS
@given(st.lists(chat_line, min_size=1, max_size=15))
def test_it_keeps_every_chat_question_once_and_counts_every_dropped_turn(msgs):
    lines, minute = [], 0
    for gap, sender, body in msgs:
        minute += gap
        lines.append(f"2024-03-01 10:{minute:02d}:00 {sender}: {body}")
    content = "\n".join(lines)
    records, report = run(content, "chatlog", options={"min_chars": 1, "window_seconds": 0})
    assert report.ok, report.messages()
    texts = [r.text for r in records]
    assert len(texts) == len(set(texts))
    assert all(("?" in t or "？" in t or "怎么" in t or "吗" in t) for t in texts)
    turns = sum(1 for i, m in enumerate(msgs) if i == 0 or m[1] != msgs[i - 1][1] or m[0] > 0)
    assert len(records) + sum(report.dropped.values()) == turns


# ---- any input: imports or names a line, never crashes --------------------------------------------------

fragments = st.lists(st.sampled_from([
    '{"text": "a?"}', '{"text": 1}', '{"question": "b"}', "[", "]", ",", "{", "}", '"', "\\u", '"\\ud800"',
    '{"conversations": [{"from": "human", "value": "x"}]}', '{"messages": [{"role": "user", "content": "y"}]}',
    '{"instruction": "i", "output": 2}', '{"data": {"text": "t"}}', '{"prompt": "p", "chosen": "c", "rejected": 1}', "2024-03-01 09:00:00 a: why?",
    "2024-99-01 09:00:00 a: x", "text,task_type", "a,b,c", '"unterminated', "\n", "\r\n", "\ufeff", "null",
    "1e999", "[[[[", "中文？", " ",
]), min_size=0, max_size=25).map("".join)


@SETTINGS
@given(fragments, st.sampled_from(["items", "alpaca", "sharegpt", "openai", "labelstudio", "chatlog", "preference"]),
       st.sampled_from(["jsonl", "json", "csv"]))
def test_it_never_crashes_on_arbitrary_input(content, fmt, container):
    if fmt in ("labelstudio",) and container == "csv":
        container = "json"
    records, report = run(content, fmt, container)
    if records is None:
        return  # a whole-file failure with its message (empty file, not a JSON list …)
    assert_errors_name_lines(report, content)
    if report.ok:
        assert all(r.text.strip() for r in records)


@SETTINGS
@given(st.binary(max_size=200), st.sampled_from(["items", "chatlog"]), st.sampled_from(["jsonl", "json", "csv"]))
def test_it_never_crashes_on_arbitrary_bytes(data, fmt, container):
    import io as _io

    from labelstudio_app.projects.importers import READERS, RECORD_BUILDERS, chatlog
    from labelstudio_app.projects.importers.base import check_head, iter_lines
    from labelstudio_app.projects.importers.fields import emit

    report = Report()
    try:
        check_head(data)
        if fmt == "chatlog":
            list(chatlog.parse(iter_lines(_io.BytesIO(data), report), report))
        else:
            for line, obj in READERS[container](_io.BytesIO(data), report):
                emit(report, line, RECORD_BUILDERS[fmt], obj)
    except ImportFailed as exc:
        assert str(exc)
        return
    for line, reason in report.errors:
        assert line >= 1 and reason
