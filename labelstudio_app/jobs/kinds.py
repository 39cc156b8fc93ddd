"""Every kind of background job: which queue runs it and which function does the work.

Handlers are named by dotted path so the web process never imports them (the heavy ones live in
`workers/` and import torch). A handler is `handler(ctx: workers.context.JobContext) -> dict`.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class JobKind:
    queue: str
    handler: str
    label: str


JOB_KINDS: dict[str, JobKind] = {
    "selftest": JobKind("default", "workers.selftest.selftest_run", "Worker self-test"),
    "import": JobKind("default", "labelstudio_app.projects.jobs.import_run", "Import"),
    "export": JobKind("default", "labelstudio_app.projects.jobs.export_run", "Export"),
    "generation": JobKind("gpu", "workers.generation.job.generation_run", "Generation"),
    "training": JobKind("gpu", "workers.training.job.training_run", "Training"),
    "snapshot": JobKind("default", "workers.training.snapshot.snapshot_run", "Snapshot token count"),
    "audit": JobKind("gpu", "workers.audit.audit_run", "Label audit"),
    "tiny_model": JobKind("gpu", "workers.generation.tiny.tiny_model_run", "Tiny demo model"),
}


def job_kind_get(kind: str) -> JobKind:
    try:
        return JOB_KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown job kind {kind!r}; known: {', '.join(sorted(JOB_KINDS))}") from None


# What may run after a job succeeds: `job_create(..., params={"then": {"name": ..., "kwargs": {...}}})`.
# The follow-up is called as `followup(job=job, **kwargs)` in the worker, after the job is marked succeeded.
JOB_FOLLOWUPS: dict[str, str] = {
    "review.round_open": "labelstudio_app.review.services.round_open_after_generation",
    "training.heldout_audit": "labelstudio_app.training.services.training_run_heldout_audit_start",
}
