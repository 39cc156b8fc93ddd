"""The openai backend against a real HTTP server on 127.0.0.1 that speaks chat-completions."""
import pytest

from tests.evaluation.chat_server import ChatServer
from workers.generation.base import GenerationRequest, ModelSpec, SamplingParams
from workers.generation.openai_backend import OpenAIBackend, OpenAIError

MESSAGES = [{"role": "user", "content": "怎么把 mmpose 部署到 TX2？"}]


@pytest.fixture
def server():
    with ChatServer() as s:
        yield s


def _backend(server, **options):
    spec = ModelSpec(base_model="Qwen/Qwen2.5-0.5B-Instruct", backend="openai",
                     options={"base_url": server.base_url, "max_retries": 3, **options})
    return OpenAIBackend(spec, backoff=0.01)


def _req(**params):
    return GenerationRequest(messages=MESSAGES, params=SamplingParams(**{"max_new_tokens": 32, **params}))


def test_it_generates_through_chat_completions(server):
    [res] = _backend(server).generate([_req(temperature=0.3, seed=11, top_k=20)])
    assert res.text.startswith("[Qwen/Qwen2.5-0.5B-Instruct] 答：怎么把") and res.finish_reason == "stop"
    assert res.prompt_tokens == len(MESSAGES[0]["content"]) and res.completion_tokens == len(res.text)
    [(path, body, _headers)] = server.requests
    assert path == "/v1/chat/completions"
    assert body == {"model": "Qwen/Qwen2.5-0.5B-Instruct", "messages": MESSAGES, "temperature": 0.3, "top_p": 1.0,
                    "max_tokens": 32, "n": 1, "seed": 11, "top_k": 20, "repetition_penalty": 1.0}


def test_it_sends_neutral_values_so_the_servers_model_defaults_never_apply(server):
    # vllm serve fills an omitted field from the model's generation_config.json (e.g. repetition_penalty 1.3).
    _backend(server).generate([_req(temperature=0)])
    [(_path, body, _headers)] = server.requests
    assert body["top_k"] == -1 and body["repetition_penalty"] == 1.0 and "seed" not in body


def test_it_leaves_the_vllm_extensions_out_for_a_strict_openai_server(server):
    _backend(server, strict_openai=True).generate([_req(temperature=0.5, seed=3)])
    [(_path, body, _headers)] = server.requests
    assert "top_k" not in body and "repetition_penalty" not in body and body["seed"] == 3
    with pytest.raises(ValueError, match="strict_openai"):
        _backend(server, strict_openai=True).generate([_req(repetition_penalty=1.2)])


def test_it_keeps_order_with_concurrent_requests(server):
    reqs = [GenerationRequest(messages=[{"role": "user", "content": f"问题 {i}"}]) for i in range(6)]
    results = _backend(server, concurrency=3).generate(reqs)
    assert [r.text for r in results] == [f"[Qwen/Qwen2.5-0.5B-Instruct] 答：问题 {i}" for i in range(6)]


def test_it_retries_a_500(server):
    server.script = ["500", "500"]
    [res] = _backend(server).generate([_req()])
    assert res.text and len(server.chat_requests()) == 3


def test_it_retries_a_429(server):
    server.script = ["429"]
    [res] = _backend(server).generate([_req()])
    assert res.text and len(server.chat_requests()) == 2


def test_it_retries_after_a_timeout(server):
    server.script = [("sleep", 1.0)]
    [res] = _backend(server, timeout=0.3).generate([_req()])
    assert res.text and len(server.chat_requests()) == 2


def test_it_does_not_retry_a_400(server):
    server.script = ["400"]
    with pytest.raises(OpenAIError, match=r"HTTP 400 Bad Request") as refused:
        _backend(server).generate([_req()])
    assert len(server.chat_requests()) == 1
    assert "max_tokens is too large" not in str(refused.value)  # the status, never the server's body


def test_it_gives_up_after_the_last_retry(server):
    server.script = ["500"] * 10
    with pytest.raises(OpenAIError, match="after 4 attempt"):
        _backend(server).generate([_req()])
    assert len(server.chat_requests()) == 4


def test_it_gives_up_on_a_server_that_is_not_there():
    spec = ModelSpec(base_model="m", backend="openai",
                     options={"base_url": "http://127.0.0.1:9/v1", "max_retries": 1, "timeout": 0.5})
    with pytest.raises(OpenAIError, match="ConnectError"):
        OpenAIBackend(spec, backoff=0.01).generate([_req()])


def test_it_loads_an_adapter_once_then_asks_for_it_by_name(server):
    backend = _backend(server, lora_name="support-v2")
    backend.generate([GenerationRequest(messages=MESSAGES, adapter="/models/adapters/support-v2")] * 2)
    loads = [r for r in server.requests if r[0] == "/v1/load_lora_adapter"]
    assert [b for _, b, _ in loads] == [{"lora_name": "support-v2", "lora_path": "/models/adapters/support-v2"}]
    assert [b["model"] for _, b, _ in server.chat_requests()] == ["support-v2", "support-v2"]
    [res] = backend.generate([_req()])  # the base model still answers under its own name
    assert res.text.startswith("[Qwen/Qwen2.5-0.5B-Instruct]")


def test_it_accepts_an_adapter_the_server_already_has(server):
    server.lora_script = ["already"]
    [res] = _backend(server).generate([GenerationRequest(messages=MESSAGES, adapter="/m/a/lora-x")])
    assert res.text.startswith("[lora-x-")


def test_it_uses_the_adapter_name_when_the_server_has_no_loading_endpoint(server):
    server.lora_script = ["404"]
    [res] = _backend(server, lora_name="pre-served").generate([GenerationRequest(messages=MESSAGES, adapter="/a")])
    assert res.text.startswith("[pre-served]")


def test_it_sends_the_api_key_from_the_named_environment_variable(server, monkeypatch):
    monkeypatch.setenv("FLYWHEEL_TEST_LLM_KEY", "sk-test-123")
    _backend(server, api_key_env="FLYWHEEL_TEST_LLM_KEY").generate([_req()])
    assert server.requests[0][2]["Authorization"] == "Bearer sk-test-123"


def test_it_refuses_no_repeat_ngram_size(server):
    with pytest.raises(ValueError, match="no_repeat_ngram_size"):
        _backend(server).generate([_req(no_repeat_ngram_size=3)])
    assert server.requests == []
