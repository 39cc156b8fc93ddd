"""The group-chat preprocessing on a small hand-written log with known answers."""
from labelstudio_app.projects.chat import anonymise_context, item_conversation
from labelstudio_app.projects.importers import Report, parse_text
from labelstudio_app.projects.models import Item
from tests.projects.factories import import_text

LOG = "\r\n".join([
    "\ufeff2024-03-01 09:00:00 张三: 最近在用 mmpose 做姿态估计",
    "2024-03-01 09:00:20 张三: 效果不错",                      # joined with the line above (20 s later)
    "2024-03-01 09:01:00 李四: 哈哈",                          # too short
    "2024-03-01 09:02:00 王二: 搭车问一下，怎么把它部署到 TX2？",  # a question that needs the context
    "2024-03-01 09:02:30 王二: 在线等",                        # joined: split message
    "2024-03-01 09:10:00 alice: Does it run on Jetson Orin with fp16",  # English question word, no '?'
    "2024-03-01 09:11:00 bob_dev: 我去试试这个方法",            # not a question
    "2024-03-01 09:15:00 王二: 搭车问一下，怎么把它部署到 TX2？",  # not joined (7.5 min later), question
    "2024-03-01 09:20:00 李四: 那这个能在 TX2 上跑吗",           # 吗 -> a question
    "2024-03-01 09:30:00 王二: 搭车问一下，怎么把它部署到 TX2？",  # exact duplicate of the 09:15 one
    "",
])


def test_it_joins_split_messages_keeps_context_and_drops_by_rule():
    report = Report()
    records = parse_text(LOG, fmt="chatlog", report=report, options={"context_turns": 2})
    assert report.ok, report.messages()
    assert [r.text for r in records] == [
        "搭车问一下，怎么把它部署到 TX2？\n在线等",
        "Does it run on Jetson Orin with fp16",
        "搭车问一下，怎么把它部署到 TX2？",
        "那这个能在 TX2 上跑吗",
    ]
    assert [r.line for r in records] == [4, 6, 8, 9]
    first = records[0]
    assert first.context == [
        {"sender": "张三", "text": "最近在用 mmpose 做姿态估计\n效果不错", "time": "2024-03-01 09:00:00"},
        {"sender": "李四", "text": "哈哈", "time": "2024-03-01 09:01:00"},
    ]
    assert first.metadata == {"sender": "王二", "time": "2024-03-01 09:02:00"}
    # the context window is the previous 2 turns, whatever they were
    assert [t["text"] for t in records[2].context] == ["Does it run on Jetson Orin with fp16", "我去试试这个方法"]
    assert dict(report.dropped) == {"too_short": 1, "not_question": 2, "duplicate": 1}


def test_it_anonymises_senders_in_order_of_first_appearance():
    report = Report()
    records = parse_text(LOG, fmt="chatlog", report=report, options={"context_turns": 5})
    rec = records[3]  # 李四's question; context: 王二, alice, bob_dev, 王二, 王二? (5 turns before it)
    speakers = [t["speaker"] for t in anonymise_context(rec.context, asker="李四")]
    senders = [t["sender"] for t in rec.context]
    letters = {}
    for s in senders:
        letters.setdefault(s, "ABCDEFG"[len(letters)])
    assert speakers == [letters[s] for s in senders]
    assert "张三" not in str(speakers) and "王二" not in str(speakers)


def test_it_stores_chat_items_with_context_and_shows_the_conversation(project, manager):
    job = import_text(project, manager, "chat.log", LOG.encode("utf-8"), options={"context_turns": 3})
    assert job.state == "succeeded", job.error
    item = Item.objects.get(project=project, text="搭车问一下，怎么把它部署到 TX2？\n在线等")
    assert [t["sender"] for t in item.context] == ["张三", "李四"]
    conv = item_conversation(item)
    assert [t["speaker"] for t in conv] == ["A", "B", "C"]
    assert conv[-1]["target"] and conv[-1]["text"] == item.text
    assert job.result["dropped"] == {"too_short": 1, "not_question": 2, "duplicate": 1}


def test_it_counts_characters_not_bytes_for_the_length_rules():
    log = "2024-03-01 09:00:00 a: 怎么办？\n2024-03-01 09:05:00 b: 为什么呢？？\n"
    report = Report()
    records = parse_text(log, fmt="chatlog", report=report, options={"min_chars": 4, "max_chars": 5})
    assert [r.text for r in records] == ["怎么办？"]  # 4 characters (12 bytes) kept; 6 characters too long
    assert dict(report.dropped) == {"too_long": 1}
