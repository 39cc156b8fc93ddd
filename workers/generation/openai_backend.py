"""The openai backend: any OpenAI-compatible chat-completions server (`vllm serve`, TGI, llama.cpp, a
hosted API).

Options (the spec the job builds): `base_url` and `api_key_env` (the NAME of an environment variable holding
the key; the key itself is never stored) come from the staff-managed endpoint the version names, never from
the version itself; `model` (the served name; defaults to the base model), `timeout` (seconds per request,
default 120, at most 600), `max_retries` (default 4, at most 5), `concurrency` (parallel requests, default 4),
`lora_name` (name to serve the adapter under).

Parameters: every one the request has is sent, neutral values included, because a server fills what a request
leaves out from its own defaults (`vllm serve` applies the model's generation_config.json, e.g. a
repetition_penalty of 1.3): temperature, top_p, max_tokens (= max_new_tokens), seed (when set), and the vLLM
extensions top_k (-1 = off) and repetition_penalty. `strict_openai: true` is for servers that refuse unknown
fields (the hosted OpenAI API): the extensions are then left out and a request that sets one is refused.
no_repeat_ngram_size has no equivalent and is refused (generation_job_create refuses it up front).

Adapters: a request's adapter is registered once with the server's LoRA loading endpoint
(vLLM: `POST {base_url}/load_lora_adapter` {lora_name, lora_path}, needs VLLM_ALLOW_RUNTIME_LORA_UPDATING)
and then asked for as `model=<lora_name>`. "already loaded" counts as success; a server without the endpoint
(404/405) is assumed to serve the adapter under that name already (e.g. `--lora-modules name=path`).

Retries: timeouts, connection errors, 429 and 5xx are retried with exponential backoff (Retry-After wins when
given); any other 4xx fails at once, since repeating a bad request cannot help. A cancelled job stops between
attempts and during the back-off (`base.cancel_event`). Errors name the status and its reason phrase, never
the response body: the server may be one that should not have been reachable, and its body may hold secrets.
"""
import contextlib
import hashlib
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import PurePath

import httpx

from workers.generation.base import GenerationCancelled, GenerationRequest, GenerationResult, ModelSpec, cancel_event

logger = logging.getLogger(__name__)


class OpenAIError(RuntimeError):
    """The server refused a request, or kept failing after every retry."""


def _transient(status: int) -> bool:
    return status == 429 or status >= 500


def _status(response: httpx.Response) -> str:
    return f"HTTP {response.status_code} {response.reason_phrase}".rstrip()


class OpenAIBackend:
    def __init__(self, spec: ModelSpec, *, backoff: float = 0.5, max_backoff: float = 20.0):
        opts = spec.options or {}
        self.base_url = str(opts.get("base_url") or "").rstrip("/")
        if not self.base_url:
            raise ValueError("the openai backend needs backend_options.base_url")
        self.model = opts.get("model") or spec.base_model
        self.timeout = float(opts.get("timeout") or 120)
        self.max_retries = int(opts.get("max_retries") if opts.get("max_retries") is not None else 4)
        self.concurrency = max(1, int(opts.get("concurrency") or 4))
        self.lora_name = opts.get("lora_name") or ""
        self.strict_openai = bool(opts.get("strict_openai"))
        self.backoff, self.max_backoff = backoff, max_backoff
        headers = {}
        key_env = opts.get("api_key_env") or ""
        if key_env:
            key = os.environ.get(key_env, "")
            if not key:
                raise ValueError(f"the environment variable {key_env} (api_key_env) is not set on this worker")
            headers["Authorization"] = f"Bearer {key}"
        self.client = httpx.Client(base_url=self.base_url, headers=headers, timeout=self.timeout)
        self._adapters: dict[str, str] = {}
        self._lock = threading.Lock()

    # ---- HTTP with retries --------------------------------------------------------------------------
    def _post(self, path: str, payload: dict, cancel=None) -> httpx.Response:
        attempt = 0
        while True:
            if cancel is not None and cancel.is_set():
                raise GenerationCancelled(path)
            try:
                response = self.client.post(path, json=payload)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                error = f"{type(exc).__name__}: {exc}"
                retry_after = None
            else:
                if not _transient(response.status_code):
                    return response
                error = _status(response)
                retry_after = response.headers.get("retry-after")
            if attempt >= self.max_retries:
                raise OpenAIError(f"POST {self.base_url}{path} failed after {attempt + 1} attempt(s): {error}")
            delay = min(self.max_backoff, self.backoff * (2 ** attempt))
            if retry_after:
                with contextlib.suppress(ValueError):
                    delay = min(self.max_backoff, float(retry_after))
            logger.warning("POST %s%s: %s; retrying in %.2fs", self.base_url, path, error, delay)
            if cancel is not None:
                if cancel.wait(delay):  # wakes as soon as the job is cancelled
                    raise GenerationCancelled(path)
            else:
                time.sleep(delay)
            attempt += 1

    # ---- adapters -----------------------------------------------------------------------------------
    def adapter_model_name(self, path: str, cancel=None) -> str:
        """Registers the adapter with the server once and returns the model name to ask for."""
        with self._lock:
            if path in self._adapters:
                return self._adapters[path]
            name = self.lora_name or f"{PurePath(path).name}-{hashlib.sha256(path.encode()).hexdigest()[:8]}"
            response = self._post("/load_lora_adapter", {"lora_name": name, "lora_path": path}, cancel)
            if response.status_code in (404, 405):
                logger.info("%s has no LoRA loading endpoint; assuming it serves %s already", self.base_url, name)
            elif response.status_code >= 400 and "already" not in response.text.lower():
                raise OpenAIError(f"the server refused to load adapter {path} as {name}: {_status(response)}")
            self._adapters[path] = name
            return name

    # ---- generation ---------------------------------------------------------------------------------
    def _payload(self, req: GenerationRequest, model: str) -> dict:
        p = req.params
        if p.no_repeat_ngram_size:
            raise ValueError("no_repeat_ngram_size is not supported by OpenAI-compatible servers; set it to 0")
        payload = {"model": model, "messages": req.messages, "temperature": p.temperature, "top_p": p.top_p,
                   "max_tokens": p.max_new_tokens, "n": 1}
        if p.seed is not None:
            payload["seed"] = p.seed
        if not self.strict_openai:
            payload["top_k"] = p.top_k if p.top_k else -1
            payload["repetition_penalty"] = p.repetition_penalty
        elif p.top_k or p.repetition_penalty != 1.0:
            raise ValueError("top_k and repetition_penalty are not OpenAI API parameters and this backend has "
                             "strict_openai set; leave them at 0 and 1.0")
        return payload

    def _one(self, req: GenerationRequest, cancel=None) -> GenerationResult:
        model = self.adapter_model_name(req.adapter, cancel) if req.adapter else self.model
        started = time.perf_counter()
        response = self._post("/chat/completions", self._payload(req, model), cancel)
        if response.status_code >= 400:
            raise OpenAIError(f"chat/completions refused the request: {_status(response)}")
        latency = int((time.perf_counter() - started) * 1000)
        try:
            body = response.json()
            choice = body["choices"][0]
            text = choice["message"].get("content") or ""
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise OpenAIError(f"not a chat-completions answer ({type(exc).__name__})") from None
        usage = body.get("usage") or {}
        return GenerationResult(text=text, prompt_tokens=int(usage.get("prompt_tokens") or 0),
                                completion_tokens=int(usage.get("completion_tokens") or 0), latency_ms=latency,
                                finish_reason=str(choice.get("finish_reason") or ""))

    def generate(self, requests: list[GenerationRequest]) -> list[GenerationResult]:
        cancel = cancel_event.get()  # read here: the pool's threads do not share this context

        def one(req: GenerationRequest) -> GenerationResult:
            return self._one(req, cancel)

        if len(requests) <= 1 or self.concurrency == 1:
            return [one(r) for r in requests]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(requests))) as pool:
            return list(pool.map(one, requests))

    def close(self) -> None:
        self.client.close()
