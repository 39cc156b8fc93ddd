"""Generation throughput on the CPU with the tiny model. Prints JSON.

1. Batched vs one-at-a-time: the transformers backend (workers/generation/transformers_backend.py) answers
   N requests in batches of B, then one request at a time; tokens/s counts completion tokens (EOS included,
   padding excluded) over the generate() wall time. The ratio is what batching buys.
2. Worker overhead: the same requests as a real `generation` job in a Celery worker process (throwaway
   PostgreSQL database, filesystem broker), timed from the job's start to its finish (after a warm-up job so
   the model is loaded), vs calling the backend directly. The target is a ratio within 1.10.

    .venv/bin/python bench/generation.py [--requests 48] [--batch 8] [--max-new-tokens 32] [--no-worker]
"""
import argparse
import json
import os
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


def worker_overhead(model_dir: str, n: int, batch: int, max_new: int) -> dict:
    from bench.common import CeleryWorker, child_env, django_setup, throwaway_database

    with throwaway_database("bench_generation") as db_url:
        data_dir = tempfile.mkdtemp(prefix="flywheel-bench-gen-")
        django_setup(database_url=db_url, data_dir=data_dir)
        import shutil

        from django.conf import settings

        from labelstudio_app.evaluation.prompts import item_messages
        from labelstudio_app.evaluation.services import generation_job_create, model_version_create
        from labelstudio_app.jobs.models import Job
        from labelstudio_app.jobs.services import job_enqueue
        from labelstudio_app.projects.models import Item, Project
        from workers.generation.backends import load_backend
        from workers.generation.base import GenerationRequest, ModelSpec, SamplingParams
        from workers.generation.job import sample_seed

        Path(settings.BROKER_DIR).mkdir(parents=True, exist_ok=True)
        local = Path(settings.ARTIFACTS_DIR) / "models" / "tiny"
        shutil.copytree(model_dir, local)
        project = Project.objects.create(name="bench 生成")
        mv = model_version_create(project=project, user=None, name="tiny", base_model=str(local))
        items = [Item.objects.create(project=project, text=f"{PROMPTS[i % len(PROMPTS)]} #{i}") for i in range(n)]
        params = {"temperature": 0.8, "max_new_tokens": max_new, "seed": 0}
        log_dir = Path(data_dir)
        worker = CeleryWorker(log_dir, env=child_env(DATABASE_URL=db_url, FLYWHEEL_DATA_DIR=data_dir)).start()
        try:
            def run(job_items, p):
                job = generation_job_create(project=project, user=None, model_versions=[mv], items=job_items,
                                            params=p, batch_size=batch)
                job_enqueue(job_id=job.pk)
                while not Job.objects.get(pk=job.pk).is_finished:
                    time.sleep(0.05)
                job = Job.objects.get(pk=job.pk)
                assert job.state == "succeeded", job.error
                return job

            run(items[:batch], {**params, "seed": 999})  # warm-up: the worker loads torch and the model
            job = run(items, params)
            t_job = (job.finished_at - job.started_at).total_seconds()
        finally:
            worker.stop()
        backend = load_backend(ModelSpec(base_model=str(local)))
        reqs = [GenerationRequest(messages=item_messages(project=project, item=it),
                                  params=SamplingParams(**{**job.params["sampling"],
                                                           "seed": sample_seed(0, it.pk, 0)}))
                for it in items]
        backend.generate(reqs[:batch])
        t = time.perf_counter()
        for start in range(0, len(reqs), batch):
            backend.generate(reqs[start:start + batch])
        t_direct = time.perf_counter() - t
        return {"requests": n, "batch_size": batch, "job_seconds": round(t_job, 3),
                "direct_seconds": round(t_direct, 3), "job_over_direct": round(t_job / t_direct, 3),
                "completion_tokens": job.result["completion_tokens"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=48)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--max-new-tokens", type=int, default=32)
    ap.add_argument("--pretrain-steps", type=int, default=100)
    ap.add_argument("--no-worker", action="store_true", help="skip the worker-overhead part (no PostgreSQL)")
    a = ap.parse_args()
    from workers.tiny_model import build_tiny_model

    model_dir = str(build_tiny_model(tempfile.mkdtemp(prefix="tiny-bench-"), pretrain_steps=a.pretrain_steps))
    import torch

    out = {"device": "cuda" if torch.cuda.is_available() else "cpu", "threads": torch.get_num_threads(),
           "batching": batching(model_dir, a.requests, a.batch, a.max_new_tokens)}
    if not a.no_worker:
        out["worker_overhead"] = worker_overhead(model_dir, a.requests, a.batch, a.max_new_tokens)
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
