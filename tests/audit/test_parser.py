"""The answer parser: Chinese and English answers map to options; anything unclear is unparseable."""
import pytest

from labelstudio_app.audit.parser import ParserConfig, parse_answer

QUESTION = {
    "name": "needs_context", "kind": "single_choice",
    "options": [
        {"value": "no", "label": "不需要", "key": "A"},
        {"value": "yes", "label": "需要", "key": "B"},
        {"value": "not_question", "label": "不是问题", "key": "C"},
    ],
}
CONFIG = ParserConfig.from_question(QUESTION, keywords={"yes": ["needs", "need"], "no": ["does not need"]})


@pytest.mark.parametrize("answer, expected", [
    ("答案是：B", "yes"),
    ("答案是:A", "no"),
    ("答案：Ｃ", "not_question"),  # full-width letter and colon
    ("B：需要", "yes"),
    ("A. 不需要", "no"),
    ("不需要", "no"),
    ("不需要。", "no"),
    ("需要", "yes"),
    ("需要，因为“它”指代上文的模型", "yes"),
    ("这个问题不需要上下文就能回答", "no"),
    ("Yes, it needs the earlier messages.", "yes"),
    ("Yes, it needs…", "yes"),
    ("No.", "no"),
    ("no", "no"),
    ("YES!", "yes"),
    ("The answer is B", "yes"),
    ("Answer: not_question", "not_question"),
    ("它不是问题", "not_question"),
    ("It does not need the context.", "no"),
])
def test_it_maps_chinese_and_english_answers(answer, expected):
    assert parse_answer(answer, CONFIG).value == expected


def test_it_never_reads_buyao_as_yao():
    """'不需要' holds '需要' inside it; the longer match wins, so it is never counted as 'yes'."""
    result = parse_answer("我觉得不需要", CONFIG)
    assert result.value == "no" and result.rule == "keyword"


@pytest.mark.parametrize("answer", [
    "", "   ", "?", "ĠĠ<|im_end|>", "lorem ipsum dolor", "A100 上能跑吗", "I don't know", "not sure",
    "需要还是不需要，很难说",  # both classes: ambiguous
    "Yes and no.",
])
def test_it_leaves_unclear_answers_unparseable(answer):
    result = parse_answer(answer, CONFIG)
    assert result.value is None and not result.parsed and result.rule in ("unparseable", "ambiguous")


def test_it_matches_english_keywords_as_whole_words_only():
    config = ParserConfig.from_question(QUESTION, keywords={"no": ["no"]})
    assert parse_answer("I know nothing", config).value is None
    assert parse_answer("well, no", config).value == "no"


def test_it_uses_the_managers_regex_group_first():
    config = ParserConfig.from_question(QUESTION, regex=r"判断[:：]\s*(\w+)")
    assert parse_answer("分析……需要想一想。判断：C", config).value == "not_question"
    assert parse_answer("判断：D", config).value is None  # the regex matched but captured no option
    assert parse_answer("需要", config).value == "yes"  # no regex match: the other rules still apply


def test_it_rejects_bad_parser_settings_with_a_clear_error():
    with pytest.raises(ValueError, match="group"):
        ParserConfig.from_question(QUESTION, regex=r"答案")
    with pytest.raises(ValueError, match="compile"):
        ParserConfig.from_question(QUESTION, regex=r"(unclosed")
    with pytest.raises(ValueError, match="maybe"):
        ParserConfig.from_question(QUESTION, keywords={"maybe": ["也许"]})


@pytest.mark.timeout(10)
def test_it_gives_up_on_a_catastrophically_backtracking_regex_instead_of_hanging():
    # A regex stored before the save-time check (or one the probe misses) still cannot stall the worker.
    config = ParserConfig(options=CONFIG.options, regex=r"(a+)+$")
    result = parse_answer("a" * 5000 + "!", config)
    assert result.value is None and "ran out of time" in result.detail[0]
    assert parse_answer("答案是：B", config).value == "yes"  # the other rules still decide


@pytest.mark.timeout(10)
@pytest.mark.parametrize("regex, message", [
    (r"(a+)+$", "too slow"),
    (r"(\w+\s?)+$", "too slow"),
    ("(" + "a" * 600 + ")", "longer than 500"),
])
def test_it_refuses_an_unbounded_regex_on_save(regex, message):
    with pytest.raises(ValueError, match=message):
        ParserConfig.from_question(QUESTION, regex=regex)
