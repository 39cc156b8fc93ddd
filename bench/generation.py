"""Generation throughput on the CPU with the tiny model. Prints JSON.

1. Batched vs one-at-a-time: the transformers backend (workers/generation/transformers_backend.py) answers
   N requests in batches of B, then one request at a time; tokens/s counts completion tokens (EOS included,
   padding excluded) over the generate() wall time. The ratio is what batching buys.
2. Worker overhead: the same requests as a real `generation` job in a warm Celery worker process (throwaway
   PostgreSQL database, filesystem broker), timed from the job's start to its finish, vs a warm direct call of
   the backend with the same batches; repeated in alternating order, medians (see `worker_overhead`). The
   target is a ratio within 1.10.

    .venv/bin/python bench/generation.py [--requests 48] [--batch 8] [--max-new-tokens 32] [--repeats 7]
                                         [--no-worker] [--no-batching]
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("FLYWHEEL_DEV", "1")

PROMPTS = ["怎么把 mmpose 部署到 TX2？", "Does ncnn run on RK3588 with fp16?", "LoRA 的 rank 应该怎么选？",
           "int8 量化和 fp16 相比精度一般掉多少？", "Why is lmdeploy slower on A100 than the README says?"]


def _requests(n: int, max_new: int):
    from workers.generation.base import GenerationRequest, SamplingParams

    return [GenerationRequest(messages=[{"role": "user", "content": f"{PROMPTS[i % len(PROMPTS)]} #{i}"}],
                              params=SamplingParams(temperature=0.8, max_new_tokens=max_new, seed=i))
            for i in range(n)]


def batching(model_dir: str, n: int, batch: int, max_new: int) -> dict:
    from workers.generation.backends import load_backend
    from workers.generation.base import ModelSpec

    backend = load_backend(ModelSpec(base_model=model_dir, options={"batch_size": batch}))
    reqs = _requests(n, max_new)
    backend.generate(reqs[:batch])  # warm-up
    t = time.perf_counter()
    batched = backend.generate(reqs)
    t_batched = time.perf_counter() - t
    t = time.perf_counter()
    single = [backend.generate([r])[0] for r in reqs]
    t_single = time.perf_counter() - t
    tok_b, tok_s = sum(r.completion_tokens for r in batched), sum(r.completion_tokens for r in single)
    return {"requests": n, "batch_size": batch, "max_new_tokens": max_new,
            "batched_tokens_per_s": round(tok_b / t_batched, 1), "single_tokens_per_s": round(tok_s / t_single, 1),
            "batched_over_single": round((tok_b / t_batched) / (tok_s / t_single), 2),
            "same_answers_batched_and_single": [r.text for r in batched] == [r.text for r in single]}


def _median(xs: list[float]) -> float:
    return round(statistics.median(xs), 3)


def worker_overhead(model_dir: str, n: int, batch: int, max_new: int, repeats: int) -> dict:
    """A warm worker vs a warm direct call: same requests (same prompts, seeds, max_new_tokens), same batch
    size. Both sides have the model loaded before timing starts (a warm-up job in the worker, a warm-up batch
    here), so neither model loading nor worker start-up is counted. Each repeat uses a new seed (so the job
    has every candidate to write) and runs the job and the direct call back to back, alternating which goes
    first, so both see the same background load; medians over the repeats are reported.

    - job_seconds: the job's started_at -> finished_at in the database: claim, reading what is missing,
      prompts, every generate() call, each batch's bulk insert and progress/cancel check, the final write.
    - job_generate_seconds: the time inside backend.generate() in the worker (from the job's result), so
      job_seconds - job_generate_seconds is the glue (ours), and job_generate_seconds / direct_seconds is the
      same model work in the worker process vs here.
    - direct_seconds: backend.generate() on the same requests in batches of `batch`, in this process.
    The bench process waits for the job by polling its row every 0.25 s (a sleep, not a spin: on 2 cores any
    busy poller would slow torch's two threads and be charged to the job).
    """
    from bench.common import CeleryWorker, child_env, django_setup, throwaway_database

    with throwaway_database("bench_generation") as db_url:
        data_dir = tempfile.mkdtemp(prefix="flywheel-bench-gen-")
        django_setup(database_url=db_url, data_dir=data_dir)
        import shutil

        from django.conf import settings

        from labelstudio_app.evaluation.models import Candidate
        from labelstudio_app.evaluation.prompts import item_messages
        from labelstudio_app.evaluation.services import generation_job_create, model_version_create
        from labelstudio_app.jobs.models import Job
        from labelstudio_app.projects.models import Item, Project
        from workers.generation.backends import load_backend
        from workers.generation.base import GenerationRequest, SamplingParams
        from workers.generation.job import model_spec, sample_seed

        Path(settings.BROKER_DIR).mkdir(parents=True, exist_ok=True)
        local = Path(settings.ARTIFACTS_DIR) / "models" / "tiny"
        shutil.copytree(model_dir, local)
        project = Project.objects.create(name="bench 生成")
        mv = model_version_create(project=project, user=None, name="tiny", base_model=str(local))
        items = [Item.objects.create(project=project, text=f"{PROMPTS[i % len(PROMPTS)]} #{i}") for i in range(n)]
        params = {"temperature": 0.8, "max_new_tokens": max_new}
        backend = load_backend(model_spec(mv))  # the same spec (and cache key) the job uses
        spec_adapter = model_spec(mv).adapter_path

        def job_run(job_items, seed):
            # job_create sends the job once the (auto)commit is done: no second enqueue here.
            job = generation_job_create(project=project, user=None, model_versions=[mv], items=job_items,
                                        params={**params, "seed": seed}, batch_size=batch)
            while not Job.objects.filter(pk=job.pk, state__in=Job.FINISHED).exists():
                time.sleep(0.25)
            job = Job.objects.get(pk=job.pk)
            assert job.state == "succeeded", job.error
            return job

        def direct_run(seed):
            reqs = [GenerationRequest(messages=item_messages(project=project, item=it),
                                      params=SamplingParams(**{**params, "seed": sample_seed(seed, it.pk, 0)}),
                                      adapter=spec_adapter) for it in items]
            t = time.perf_counter()
            results = []
            for start in range(0, len(reqs), batch):
                results.extend(backend.generate(reqs[start:start + batch]))
            return time.perf_counter() - t, results

        log_dir = Path(data_dir)
        worker = CeleryWorker(log_dir, env=child_env(DATABASE_URL=db_url, FLYWHEEL_DATA_DIR=data_dir)).start()
        rows = []
        try:
            # The same warm-up on both sides (all the requests once): the worker imports torch and loads the
            # model, and both processes have seen every batch shape before timing starts.
            job_run(items, 999_999)
            direct_run(999_999)
            for r in range(repeats):
                seed = r + 1
                order = ("job", "direct") if r % 2 == 0 else ("direct", "job")
                row = {"seed": seed, "first": order[0]}
                for side in order:
                    if side == "job":
                        job = job_run(items, seed)
                        row["job_seconds"] = (job.finished_at - job.started_at).total_seconds()
                        row["job_generate_seconds"] = job.result["generate_seconds"]
                        row["job_tokens"] = job.result["completion_tokens"]
                        job_texts = list(Candidate.objects.filter(job=job).order_by("item_id")
                                         .values_list("text", flat=True))
                    else:
                        row["direct_seconds"], results = direct_run(seed)
                        row["direct_tokens"] = sum(x.completion_tokens for x in results)
                        direct_texts = [x.text for x in results]  # items are in id order, like job_texts
                row["same_answers"] = job_texts == direct_texts
                rows.append(row)
        finally:
            worker.stop()
            shutil.rmtree(data_dir, ignore_errors=True)
        job_s = [x["job_seconds"] for x in rows]
        gen_s = [x["job_generate_seconds"] for x in rows]
        direct_s = [x["direct_seconds"] for x in rows]
        return {
            "requests": n, "batch_size": batch, "max_new_tokens": max_new, "repeats": repeats,
            "job_seconds_median": _median(job_s), "job_generate_seconds_median": _median(gen_s),
            "direct_seconds_median": _median(direct_s),
            "job_over_direct_median": round(statistics.median(j / d for j, d in zip(job_s, direct_s)), 3),
            "glue_seconds_median": _median([j - g for j, g in zip(job_s, gen_s)]),
            "same_answers_every_repeat": all(x["same_answers"] for x in rows),
            "runs": [{k: round(v, 3) if isinstance(v, float) else v for k, v in x.items()} for x in rows],
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=48)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--max-new-tokens", type=int, default=32)
    ap.add_argument("--pretrain-steps", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=7, help="job/direct pairs in the worker-overhead part")
    ap.add_argument("--no-worker", action="store_true", help="skip the worker-overhead part (no PostgreSQL)")
    ap.add_argument("--no-batching", action="store_true", help="skip the batched vs one-at-a-time part")
    a = ap.parse_args()
    from workers.tiny_model import build_tiny_model

    model_dir = str(build_tiny_model(tempfile.mkdtemp(prefix="tiny-bench-"), pretrain_steps=a.pretrain_steps))
    import torch

    out = {"device": "cuda" if torch.cuda.is_available() else "cpu", "threads": torch.get_num_threads(),
           "load_average_before": os.getloadavg()}
    if not a.no_batching:
        out["batching"] = batching(model_dir, a.requests, a.batch, a.max_new_tokens)
    if not a.no_worker:
        out["worker_overhead"] = worker_overhead(model_dir, a.requests, a.batch, a.max_new_tokens, a.repeats)
    out["load_average_after"] = os.getloadavg()
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
