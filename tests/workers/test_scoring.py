"""Choice scoring by log-likelihood on the tiny model."""
import pytest

from workers.generation.scoring import choice_scores

PROMPTS = [[{"role": "user", "content": "Does ncnn run on RK3588?"}],
           [{"role": "system", "content": "Answer in one word."}, {"role": "user", "content": "LoRA 的 rank 怎么选？"}]]


@pytest.fixture(scope="module")
def model_and_tokenizer(tiny_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(tiny_model_dir), AutoTokenizer.from_pretrained(tiny_model_dir)


def test_it_scores_the_greedy_answer_with_the_generations_own_log_likelihood(model_and_tokenizer):
    import torch

    model, tok = model_and_tokenizer
    text = tok.apply_chat_template(PROMPTS[0], add_generation_prompt=True, tokenize=False)
    ids = tok(text, return_tensors="pt", add_special_tokens=False)["input_ids"]
    out = model.generate(ids, max_new_tokens=6, do_sample=False, output_scores=True, return_dict_in_generate=True,
                         eos_token_id=None, pad_token_id=tok.pad_token_id)
    new = out.sequences[0, ids.shape[1]:].tolist()
    greedy = tok.decode(new)
    if tok.encode(greedy, add_special_tokens=False) != new:
        pytest.skip("the random model's greedy bytes do not survive decode -> encode")
    # The greedy text as a label scores the generation's own log-probabilities plus the end-of-turn token.
    [choice] = choice_scores(model, tok, PROMPTS[:1], [greedy, greedy[::-1] + "x", "?"], normalize="sum")
    steps = sum(float(torch.log_softmax(s[0].float(), -1)[t]) for s, t in zip(out.scores, new))
    with torch.no_grad():
        full = torch.cat([out.sequences, torch.tensor([[tok.convert_tokens_to_ids("<|im_end|>")]])], dim=1)
        eot = float(torch.log_softmax(model(full).logits[0, -2].float(), -1)[full[0, -1]])
    assert choice.scores[greedy] == pytest.approx(steps + eot, abs=1e-3)
    assert choice.label == max(choice.scores, key=choice.scores.get)


def test_it_is_deterministic_batched_or_not_and_breaks_ties_by_order(model_and_tokenizer):
    model, tok = model_and_tokenizer
    labels = ["需要", "不需要", "不是问题"]
    batched = choice_scores(model, tok, PROMPTS, labels, batch_size=16)
    one_by_one = [choice_scores(model, tok, [p], labels, batch_size=1)[0] for p in PROMPTS]
    assert [c.label for c in batched] == [c.label for c in one_by_one]
    for a, b in zip(batched, one_by_one):
        assert a.scores == pytest.approx(b.scores, abs=1e-4)
    [tie] = choice_scores(model, tok, PROMPTS[:1], ["same", "same"])
    assert tie.label == "same"
    mean = choice_scores(model, tok, PROMPTS[:1], labels, normalize="mean")[0].scores
    total = batched[0].scores
    assert all(mean[lab] > total[lab] for lab in labels)  # per token: less negative than the sum
