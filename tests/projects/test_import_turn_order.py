"""ShareGPT and OpenAI chat records must keep their turn order: optional system turns first, then the user
and the assistant alternating from the user. Anything else, tool turns included, refuses the whole file
with the line and the turn."""
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labelstudio_app.projects.importers import Report, parse_text
from labelstudio_app.projects.models import Item
from tests.projects.factories import import_text

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12).filter(
    lambda s: s.strip())
NAMES = {"sharegpt": ("system", "human", "gpt"), "openai": ("system", "user", "assistant")}


def encode(fmt, roles_texts):
    if fmt == "sharegpt":
        return json.dumps({"conversations": [{"from": r, "value": t} for r, t in roles_texts]}, ensure_ascii=False)
    return json.dumps({"messages": [{"role": r, "content": t} for r, t in roles_texts]}, ensure_ascii=False)


@st.composite
def conversation(draw, fmt):
    system, user, assistant = NAMES[fmt]
    n_system = draw(st.integers(0, 1 if fmt == "sharegpt" else 3))
    body = draw(st.lists(text, min_size=1, max_size=6))
    turns = [(system, draw(text)) for _ in range(n_system)]
    turns += [(user if i % 2 == 0 else assistant, t) for i, t in enumerate(body)]
    return turns


@SETTINGS
@given(st.sampled_from(["sharegpt", "openai"]).flatmap(
    lambda fmt: st.tuples(st.just(fmt), st.lists(conversation(fmt), min_size=1, max_size=5))))
def test_it_imports_every_well_ordered_conversation_exactly(case):
    fmt, convs = case
    system, user, _ = NAMES[fmt]
    report = Report()
    records = parse_text("\n".join(encode(fmt, c) for c in convs), fmt=fmt, report=report)
    assert report.ok, report.messages()
    assert len(records) == len(convs)
    for rec, conv in zip(records, convs, strict=True):
        last = max(i for i, (r, _) in enumerate(conv) if r == user)
        assert rec.text == conv[last][1]
        assert [t["text"] for t in rec.context] == [t for r, t in conv[:last] if r != system]
        assert rec.reference_answer == (conv[last + 1][1] if last + 1 < len(conv) else "")
        systems = [t for r, t in conv if r == system]
        assert rec.metadata.get("system", "") == "\n".join(systems)


@st.composite
def broken(draw, fmt):
    """A well-ordered conversation with one turn changed so that the order breaks at a known turn."""
    system, user, assistant = NAMES[fmt]
    turns = draw(conversation(fmt))
    n_system = sum(1 for r, _ in turns if r == system)
    how = draw(st.sampled_from(["swap", "tool", "late_system", "two_systems" if fmt == "sharegpt" else "swap"]))
    if how == "two_systems" and n_system == 1:
        turns.insert(1, (system, "again"))
        return turns, 2, system
    if how == "late_system":
        at = draw(st.integers(n_system + 1, len(turns)))
        turns.insert(at, (system, "late"))
        return turns, at + 1, system
    at = draw(st.integers(n_system, len(turns) - 1))
    role = turns[at][0]
    if how == "tool":
        turns[at] = ("tool" if fmt == "openai" else "function_call", turns[at][1])
    else:
        turns[at] = (assistant if role == user else user, turns[at][1])
    return turns, at + 1, turns[at][0]


@SETTINGS
@given(st.sampled_from(["sharegpt", "openai"]).flatmap(
    lambda fmt: st.tuples(st.just(fmt), st.lists(conversation(fmt), max_size=3), broken(fmt),
                          st.lists(conversation(fmt), max_size=3))))
def test_it_refuses_a_record_out_of_order_naming_the_line_and_the_turn(case):
    fmt, before, (bad, turn, got), after = case
    content = "\n".join(encode(fmt, c) for c in [*before, bad, *after])
    report = Report()
    parse_text(content, fmt=fmt, report=report)
    list_key = "conversations" if fmt == "sharegpt" else "messages"
    [message] = report.messages()
    assert message.startswith(f"line {len(before) + 1}: field '{list_key}' turn {turn}: "), message
    assert repr(got) in message


def test_it_says_what_was_expected_and_that_tool_turns_are_not_supported():
    cases = [
        ("sharegpt", [("gpt", "hi"), ("human", "why?")],
         "line 1: field 'conversations' turn 1: expected 'human', got 'gpt'"),
        ("sharegpt", [("system", "s"), ("system", "t"), ("human", "why?")],
         "line 1: field 'conversations' turn 2: only one leading 'system' turn is allowed"),
        ("sharegpt", [("human", "a?"), ("human", "b?")],
         "line 1: field 'conversations' turn 2: expected 'gpt', got 'human'"),
        ("openai", [("user", "a?"), ("assistant", "b"), ("system", "late")],
         "line 1: field 'messages' turn 3: a 'system' turn may only come first"),
        ("openai", [("user", "a?"), ("tool", "{}")],
         "line 1: field 'messages' turn 2: 'tool' turns (tools / function calls) are not supported yet"),
        ("sharegpt", [("human", "a?"), ("function_call", "{}"), ("observation", "{}"), ("gpt", "b")],
         "line 1: field 'conversations' turn 2: 'function_call' turns (tools / function calls) are not supported"),
    ]
    for fmt, turns, expected in cases:
        report = Report()
        parse_text(encode(fmt, turns), fmt=fmt, report=report)
        assert len(report.messages()) == 1 and report.messages()[0].startswith(expected), (expected, report.messages())
    report = Report()
    record = {"messages": [{"role": "user", "content": "weather?"},
                           {"role": "assistant", "content": None, "tool_calls": [{"id": "1"}]}]}
    parse_text(json.dumps(record), fmt="openai", report=report)
    assert report.messages() == ["line 1: field 'messages' turn 2: 'assistant with tool_calls' turns (tools / "
                                 "function calls) are not supported yet"]


def test_one_record_out_of_order_refuses_the_whole_file(project, manager):
    good = encode("sharegpt", [("system", "be brief"), ("human", "怎么部署？"), ("gpt", "用 docker")])
    bad = encode("sharegpt", [("gpt", "hello"), ("human", "然后呢？")])
    job = import_text(project, manager, "chats.jsonl", "\n".join([good, good, bad, good]) + "\n", fmt="sharegpt")
    assert job.state == "failed"
    assert "line 3: field 'conversations' turn 1: expected 'human', got 'gpt'" in job.error
    assert not Item.objects.filter(project=project).exists()
