"""Group-chat logs as real exports write them: system event lines, senders with colons, full-width
colons, the two-line layout of desktop exports, pasted stack traces."""
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labelstudio_app.projects.importers import Report, parse_text
from labelstudio_app.projects.importers.chatlog import ChatOptions
from labelstudio_app.projects.models import Item
from tests.projects.factories import import_text

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KEEP_ALL = {"require_question": False, "min_chars": 1, "window_seconds": 0, "dedupe": False, "context_turns": 5}


def parse(log, **options):
    report = Report()
    records = parse_text(log, fmt="chatlog", report=report, options={**KEEP_ALL, **options})
    return records, report


def test_it_drops_system_events_counts_them_and_never_uses_them_as_turns():
    log = "\n".join([
        "2024-03-01 09:00:00 张三: 这个模型怎么量化？",
        "2024-03-01 09:00:05 [系统消息] 李四 加入了群聊",
        "2024-03-01 09:00:06 王二 撤回了一条消息",               # no sender written
        "2024-03-01 09:00:07 系统: [系统消息] 群名已修改为 部署交流",  # a sender-like prefix, still an event
        "2024-03-01 09:01:00 李四: 用 int8 吗？",
    ])
    records, report = parse(log, require_question=True)
    assert report.ok, report.messages()
    assert [(r.metadata["sender"], r.text) for r in records] == [("张三", "这个模型怎么量化？"), ("李四", "用 int8 吗？")]
    assert records[1].context == [{"sender": "张三", "text": "这个模型怎么量化？", "time": "2024-03-01 09:00:00"}]
    assert report.dropped["system_event"] == 3


def test_the_sender_is_everything_up_to_the_first_colon_space_and_the_text_keeps_its_own():
    log = "\n".join([
        "2024-03-01 09:00:00 bob:builder: error: disk full, why?",
        "2024-03-01 09:01:00 张三：这个怎么办？",                 # full-width colon, no ": " before it
        "2024-03-01 09:02:00 alice: 注意：这样行吗？",            # ": " first: the full-width one is text
        "2024-03-01 09:03:00 王二：看这个: 是不是 bug？",          # full-width first
        "2024-03-01T09:04:00 carol: ok?",
    ])
    records, report = parse(log)
    assert report.ok, report.messages()
    assert [(r.metadata["sender"], r.text) for r in records] == [
        ("bob:builder", "error: disk full, why?"), ("张三", "这个怎么办？"), ("alice", "注意：这样行吗？"),
        ("王二", "看这个: 是不是 bug？"), ("carol", "ok?")]


TRACE = ["Traceback (most recent call last):", '  File "train.py", line 3, in <module>',
         "RuntimeError: CUDA out of memory"]


@pytest.mark.parametrize("header", ["{time} {sender}", "{sender} {time}"])
def test_it_reads_the_two_line_layout_detected_automatically_with_continuations(header):
    rows = [("2024-03-01 09:00:00", "张三", ["为什么训练会崩？", *TRACE]),
            ("2024-03-01 09:00:30", "", ["李四 加入了群聊"]),
            ("2024-03-01 09:01:00", "李四", ["[系统消息] 张三 修改了群名"]),
            ("2024-03-01 09:02:00", "bob: the builder", ["batch size 调小一点试试？", ""])]
    lines = []
    for time, sender, body in rows:
        lines.append(header.format(time=time, sender=sender).strip())
        lines.extend(body)
    records, report = parse("\r\n".join(lines) + "\r\n")
    assert report.ok, report.messages()
    assert [(r.metadata["sender"], r.text) for r in records] == [
        ("张三", "\n".join(["为什么训练会崩？", *TRACE])), ("bob: the builder", "batch size 调小一点试试？")]
    assert records[1].context == [{"sender": "张三", "text": records[0].text, "time": "2024-03-01 09:00:00"}]
    assert report.dropped["system_event"] == 2
    # the layout chosen on the form reads the same
    assert [r.text for r in parse("\n".join(lines), layout="two_line")[0]] == [r.text for r in records]


def test_a_pasted_stack_trace_stays_in_its_one_line_message():
    log = "\n".join(["2024-03-01 09:00:00 张三: 这个报错怎么解决？", *TRACE, "2024-03-01 09:05:00 李四: 显存不够吗？"])
    records, report = parse(log)
    assert report.ok, report.messages()
    assert [r.text for r in records] == ["\n".join(["这个报错怎么解决？", *TRACE]), "显存不够吗？"]


def test_the_layout_option_is_checked():
    assert ChatOptions.from_dict({"layout": "two_line"}).layout == "two_line"
    with pytest.raises(ValueError, match="option 'layout' must be one of auto, one_line, two_line"):
        ChatOptions.from_dict({"layout": "three_line"})


def test_an_import_with_system_events_succeeds_and_counts_them(project, manager):
    log = ("2024-03-01 09:00:00 [系统消息] 张三 加入了群聊\n2024-03-01 09:00:10 张三: 请问怎么部署到 TX2？\n"
           "2024-03-01 09:00:20 李四 撤回了一条消息\n2024-03-01 09:03:00 李四: 有没有 docker 镜像？\n")
    job = import_text(project, manager, "chat.log", log)
    assert job.state == "succeeded", job.error
    assert job.result["dropped"] == {"system_event": 2}
    items = list(Item.objects.filter(project=project).order_by("id"))
    assert [(i.metadata["sender"], [t["sender"] for t in i.context]) for i in items] == [("张三", []),
                                                                                         ("李四", ["张三"])]


# ---- properties ------------------------------------------------------------------------------------------

sender = st.text(alphabet="ab张三:_-. ", min_size=1, max_size=8).map(str.strip).filter(
    lambda s: s and ": " not in s and not s.endswith(":"))
line = st.text(alphabet="ab 张三:：?？_,", min_size=1, max_size=15).map(str.strip).filter(bool)
body = st.tuples(line, st.lists(st.one_of(line, st.sampled_from(TRACE)), max_size=3)).map(lambda t: [t[0], *t[1]])
event = st.sampled_from([["[系统消息] 李四 加入了群聊"], ["[系统消息] 群名已修改"]])
message = st.one_of(st.tuples(sender, body), st.tuples(st.just(None), event))
LAYOUTS = ["one_line", "time_sender", "sender_time"]


def render(messages, layout):
    start, lines = datetime(2024, 3, 1, 9), []
    for i, (who, text) in enumerate(messages):
        time = (start + timedelta(seconds=10 * i)).strftime("%Y-%m-%d %H:%M:%S")
        if layout == "one_line":
            lines.append(f"{time} {who}: {text[0]}" if who else f"{time} {text[0]}")
            lines.extend(text[1:])
        else:
            lines.append(f"{time} {who or ''}".strip() if layout == "time_sender" else f"{who or '系统'} {time}")
            lines.extend(text)
    return "\n".join(lines)


@SETTINGS
@given(st.lists(message, min_size=1, max_size=10), st.sampled_from(LAYOUTS))
def test_every_message_of_a_valid_log_imports_exactly_in_every_layout(messages, layout):
    records, report = parse(render(messages, layout))
    assert report.ok, report.messages()
    kept = [(who, "\n".join(text)) for who, text in messages if who]
    assert [(r.metadata["sender"], r.text) for r in records] == kept
    assert report.dropped["system_event"] == len(messages) - len(kept)
    assert all(t["sender"] and "系统消息" not in t["text"] for r in records for t in r.context)


@SETTINGS
@given(st.lists(message, min_size=1, max_size=8), st.integers(0, 8), st.sampled_from(LAYOUTS))
def test_a_line_with_a_bad_timestamp_is_an_error_naming_its_line(messages, at, layout):
    lines = render(messages, layout).split("\n")
    at = min(at, len(lines))
    lines.insert(at, "2024-13-45 09:00:00 a: 怎么办？" if layout != "sender_time" else "a 2024-13-45 09:00:00")
    _, report = parse("\n".join(lines), layout="one_line" if layout == "one_line" else "two_line")
    [message] = report.messages()
    assert message.startswith(f"line {at + 1}: invalid date or time '2024-13-45 09:00:00'"), message


def test_a_system_event_between_two_messages_of_one_sender_does_not_split_them():
    log = ("2024-03-01 09:00:00 张三: 部署到 TX2\n2024-03-01 09:00:05 [系统消息] 李四 加入了群聊\n"
           "2024-03-01 09:00:10 张三: 怎么做？\n")
    records, report = parse(log, window_seconds=60)
    assert [r.text for r in records] == ["部署到 TX2\n怎么做？"] and report.dropped["system_event"] == 1
