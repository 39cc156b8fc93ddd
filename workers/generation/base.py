"""The one small interface every generation backend speaks: `generate(requests) -> results`.

Pure: no ORM. The generation job (workers/generation/job.py) turns rows into requests and results into rows.
"""
import threading
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from typing import Protocol

# The job sets this around `generate()`: a backend that waits (retries, back-off) stops when it is set.
cancel_event: ContextVar[threading.Event | None] = ContextVar("generation_cancel_event", default=None)


class GenerationCancelled(Exception):
    """A backend gave up waiting because the job was asked to stop."""


@dataclass(frozen=True)
class SamplingParams:
    temperature: float = 0.7  # 0 means greedy
    top_p: float = 1.0
    top_k: int = 0  # 0: off
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0  # 0: off (vLLM has no equivalent; see the vllm backend)
    max_new_tokens: int = 256
    seed: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class GenerationRequest:
    messages: list[dict]  # chat messages [{"role": ..., "content": ...}]; the tokenizer's chat template renders them
    params: SamplingParams = field(default_factory=SamplingParams)
    adapter: str | None = None  # path of a PEFT LoRA adapter on the backend's base model, or None for the base


@dataclass(frozen=True)
class GenerationResult:
    text: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: int
    finish_reason: str  # "stop" (EOS / stop string) or "length"
    token_ids: list[int] | None = None  # the completion's ids (EOS included) where the backend knows them


@dataclass(frozen=True)
class ModelSpec:
    """What a backend needs to load a model version (built from a ModelVersion row by the job)."""

    base_model: str
    backend: str = "transformers"  # transformers | vllm | openai
    adapter_path: str | None = None
    options: dict = field(default_factory=dict)
    trust_remote_code: bool = False


class Backend(Protocol):
    def generate(self, requests: list[GenerationRequest]) -> list[GenerationResult]: ...

    def close(self) -> None: ...
