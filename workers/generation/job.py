"""The `generation` job: glue between the Job/Candidate tables and a backend (the ML itself is pure).

It computes what is still missing (natural key: item, model version, sample index, params hash), generates
only that in batches, and at a batch boundary at least every CHECKPOINT_SECONDS (and after each model
version) writes what it generated since the last write with one `bulk_create(ignore_conflicts=True)` and
reports progress (which is also where a cancel lands). A redelivered or restarted job therefore only fills
gaps. Each sample gets its own seed, derived from the job's seed, the item and the sample index: the n
samples of an item differ, and a rerun draws the same ones.
"""
import hashlib
import logging
import time

from django.utils.translation import gettext as _

from labelstudio_app.evaluation import modelfiles, selectors, services
from labelstudio_app.jobs.services import JobCancelled
from labelstudio_app.projects.sft import item_prompt_messages, prompt_sha256
from workers.generation.backends import load_backend
from workers.generation.base import GenerationCancelled, GenerationRequest, ModelSpec, SamplingParams, cancel_event

logger = logging.getLogger(__name__)
DEFAULT_BATCH = 8
# Generated candidates are written (one bulk insert) and progress is reported (which is also where a cancel
# lands) at a batch boundary once this much time has passed since the last write, and after each model
# version: a slow model writes every batch, a fast one does not pay three round trips per small batch.
# A killed worker loses at most this much generated work (the rerun fills the gap). A job's params may carry
# `checkpoint_seconds` (not exposed in the API or the form; the tests use 0 to write every batch).
CHECKPOINT_SECONDS = 0.5


def sample_seed(base_seed: int | None, item_id: int, sample_index: int) -> int:
    """A stable per-sample seed: the same item and sample index always draw the same answer."""
    digest = hashlib.sha256(f"{base_seed}:{item_id}:{sample_index}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % (2**31)


def model_spec(mv) -> ModelSpec:
    """The backend spec of a model version, every rule checked again here (model roots and the project's
    own artifacts, hub ids, backend options, the openai endpoint allowlist), so a row edited behind the
    app's back still cannot load weights from elsewhere or reach out."""
    base, adapter = mv.base_model, mv.adapter_path or None
    if mv.backend != "openai":
        base = modelfiles.base_model_resolve_for_worker(base, project_id=mv.project_id)
    if adapter:
        adapter = str(modelfiles.path_resolve_in_roots(adapter, field_name="adapter_path", project_id=mv.project_id))
    return ModelSpec(base_model=base, backend=mv.backend, adapter_path=adapter,
                     options=services.backend_options_for_worker(mv), trust_remote_code=mv.trust_remote_code)


def _missing(mvs, item_ids: list[int], n_samples: int, params_hash: str,
             prompt_shas: dict[int, str]) -> dict[int, list[tuple[int, int]]]:
    out = {}
    for mv in mvs:
        done = selectors.candidate_keys_done(model_version_id=mv.pk, item_ids=item_ids, params_hash=params_hash,
                                             prompt_sha256s=prompt_shas)
        out[mv.pk] = [(i, s) for i in item_ids for s in range(n_samples) if (i, s) not in done]
    return out


def generation_run(ctx) -> dict:
    p = ctx.params
    job = ctx.job
    n_samples, params_hash, sampling = int(p["n_samples"]), p["params_hash"], dict(p["sampling"])
    mvs = selectors.model_versions_for_job(project_id=job.project_id, ids=p["model_version_ids"])
    items = selectors.items_for_generation(project_id=job.project_id, item_ids=p["item_ids"])
    item_ids = [i for i in p["item_ids"] if i in items]  # items deleted since the job was made drop out
    total = len(item_ids) * len(mvs) * n_samples
    # A candidate is an answer to one prompt: after a template edit the old answers do not count as done.
    prompts = {i: item_prompt_messages(project=items[i].project, item=items[i]) for i in item_ids}
    prompt_shas = {i: prompt_sha256(m) for i, m in prompts.items()}
    missing = _missing(mvs, item_ids, n_samples, params_hash, prompt_shas)
    done = total - sum(len(m) for m in missing.values())
    already = done
    ctx.progress(done=done, total=total, message=_("%(n)s candidate(s) to generate") % {"n": total - done})
    if already:
        ctx.log(f"{already} of {total} candidates already exist; generating the rest")
    tokens, generate_seconds = 0, 0.0
    pending: list[dict] = []  # generated, not yet written
    last_checkpoint = time.monotonic()
    checkpoint_seconds = float(p.get("checkpoint_seconds", CHECKPOINT_SECONDS))

    def checkpoint(label: str) -> None:
        nonlocal done, last_checkpoint
        services.candidates_store(rows=pending)
        done += len(pending)
        pending.clear()
        ctx.progress(done=done, message=_("%(model)s: %(done)s / %(total)s") % {"model": label, "done": done, "total": total})
        last_checkpoint = time.monotonic()

    for mv in mvs:
        todo = missing[mv.pk]
        if not todo:
            continue
        spec = model_spec(mv)
        backend = load_backend(spec)
        batch_size = int(p.get("batch_size") or mv.backend_options.get("batch_size") or DEFAULT_BATCH)
        ctx.log(f"{mv.name}: {len(todo)} candidate(s) in batches of {batch_size}")
        for start in range(0, len(todo), batch_size):
            batch = todo[start:start + batch_size]
            requests = [
                GenerationRequest(
                    messages=prompts[item_id],
                    params=SamplingParams(**{**sampling, "seed": sample_seed(sampling.get("seed"), item_id, s)}),
                    adapter=spec.adapter_path,
                )
                for item_id, s in batch
            ]
            started = time.perf_counter()
            token = cancel_event.set(ctx.cancel_seen)
            try:
                results = backend.generate(requests)
            except GenerationCancelled:
                raise JobCancelled(job.pk) from None
            finally:
                cancel_event.reset(token)
            generate_seconds += time.perf_counter() - started
            pending.extend(
                {"item_id": item_id, "model_version_id": mv.pk, "sample_index": s, "params_hash": params_hash,
                 "prompt_sha256": prompt_shas[item_id], "params": {**sampling, "seed": req.params.seed}, "text": res.text, "prompt_tokens": res.prompt_tokens,
                 "completion_tokens": res.completion_tokens, "latency_ms": res.latency_ms,
                 "finish_reason": res.finish_reason[:32], "job_id": job.pk}
                for (item_id, s), req, res in zip(batch, requests, results)
            )
            tokens += sum(r.completion_tokens for r in results)
            if time.monotonic() - last_checkpoint >= checkpoint_seconds:
                checkpoint(mv.name)
        if pending:
            checkpoint(mv.name)
    return {"total": total, "generated": total - already, "already_there": already, "completion_tokens": tokens,
            "generate_seconds": round(generate_seconds, 3)}
