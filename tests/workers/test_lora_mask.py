"""The loss mask of the LoRA runner on stock chat templates (no {% generation %} tags), on the tiny tokenizer."""
import pytest

from workers.training.lora import TrainingError, chat_template_check, chat_template_check_dir, tokenize_conversation

SMOLLM2 = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\n"
    "You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
QWEN25 = (
    "{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
    "{%- else %}{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant."
    "<|im_end|>\\n' }}{%- endif %}"
    "{%- for message in messages %}{%- if message.role != 'system' %}"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
LLAMA3 = (
    "{{- bos_token }}{%- for message in messages %}"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}"
    "{%- endfor %}{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}"
)
# Marks the last message: the prompt renders differently once an answer follows it, so it cannot be masked.
LAST_MARKED = (
    "{%- for message in messages %}{{- message['role'] + ('*' if loop.last else '') + ': ' + message['content'] + "
    "'\\n' }}{%- endfor %}{%- if add_generation_prompt %}{{- 'assistant: ' }}{%- endif %}"
)

SINGLE = [{"role": "system", "content": "You answer briefly."},
          {"role": "user", "content": "Does ncnn run on RK3588?"},
          {"role": "assistant", "content": "Yes, it does."}]
MULTI = [*SINGLE, {"role": "user", "content": "And on TX2?"}, {"role": "assistant", "content": "It runs there too."}]
NO_SYSTEM = [{"role": "user", "content": "Hello?"}, {"role": "assistant", "content": "Hello."}]


@pytest.fixture
def tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


def _learned_runs(tokenizer, example) -> list[str]:
    """The decoded text of each run of consecutive learned tokens."""
    runs, cur = [], []
    for label in [*example["labels"], -100]:
        if label != -100:
            cur.append(label)
        elif cur:
            runs.append(tokenizer.decode(cur))
            cur = []
    return runs


@pytest.mark.parametrize(("template", "eot"), [(None, "<|im_end|>"), (SMOLLM2, "<|im_end|>"),
                                               (QWEN25, "<|im_end|>"), (LLAMA3, "<|eot_id|>")],
                         ids=["tiny-chatml", "smollm2", "qwen2.5", "llama3"])
@pytest.mark.parametrize("messages", [SINGLE, MULTI, NO_SYSTEM], ids=["single", "multi", "no-system"])
def test_it_learns_exactly_every_assistant_turn_and_its_end_token(tokenizer, template, eot, messages):
    if template:
        tokenizer.chat_template = template
    chat_template_check(tokenizer)
    example = tokenize_conversation(tokenizer, messages, 4096)
    answers = [m["content"] + eot for m in messages if m["role"] == "assistant"]
    assert _learned_runs(tokenizer, example) == answers
    whole = tokenizer.decode(example["input_ids"])
    if messages[0]["role"] == "system":
        assert "You answer briefly." in whole  # the system prompt is kept, as context
    assert not example["truncated"]


def test_it_keeps_a_templates_default_system_prompt_as_context(tokenizer):
    tokenizer.chat_template = QWEN25
    example = tokenize_conversation(tokenizer, NO_SYSTEM, 4096)
    assert "You are Qwen" in tokenizer.decode(example["input_ids"])
    assert _learned_runs(tokenizer, example) == ["Hello.<|im_end|>"]


def test_it_refuses_a_template_whose_prompt_changes_once_an_answer_follows(tokenizer):
    tokenizer.chat_template = LAST_MARKED
    with pytest.raises(TrainingError, match="not a prefix"):
        chat_template_check(tokenizer)


def test_it_refuses_a_model_folder_without_a_chat_template(tiny_model_dir, tmp_path):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    tok.chat_template = None
    tok.save_pretrained(tmp_path)
    (tmp_path / "chat_template.jinja").unlink(missing_ok=True)
    with pytest.raises(TrainingError, match="no chat template"):
        chat_template_check_dir(tmp_path)
    chat_template_check_dir(tiny_model_dir)  # the bundled one passes


def test_it_counts_answers_cut_by_the_max_length_and_whether_the_end_token_went(tokenizer):
    full = tokenize_conversation(tokenizer, MULTI, 4096)
    n = len(full["input_ids"])
    last_answer = [i for i, label in enumerate(full["labels"]) if label != -100][-1]
    inside = tokenize_conversation(tokenizer, MULTI, last_answer)  # cuts the last answer's end token
    assert inside["truncated"] and inside["eot_lost"]
    first_run_end = next(i for i in range(n) if full["labels"][i] != -100 and full["labels"][i + 1] == -100) + 1
    between = tokenize_conversation(tokenizer, MULTI, first_run_end + 2)  # drops the second turn whole
    assert between["truncated"] and not between["eot_lost"]
    assert _learned_runs(tokenizer, between) == ["Yes, it does.<|im_end|>"]
