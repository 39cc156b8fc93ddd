"""Every kind of background job: which queue runs it and which function does the work.

The rule for handlers: one `job.py` per area under `workers/` (`workers/<area>/job.py`), named here by dotted
path so the web process never imports them. A handler is `handler(ctx: workers.context.JobContext) -> dict`;
it reads through the owning domain's selectors and writes through its services (no ORM query of its own), and
calls the pure runners beside it. `tests/jobs/test_kinds.py` imports every entry below.
"""
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class JobKind:
    queue: str
    handler: str
    label: str
    staff_only: bool = False  # only staff start these, so only staff may cancel them


JOB_KINDS: dict[str, JobKind] = {
    "selftest": JobKind("default", "workers.selftest.selftest_run", _("Worker self-test"), staff_only=True),
    "import": JobKind("default", "workers.projects.job.import_run", _("Import")),
    "export": JobKind("default", "workers.projects.job.export_run", _("Export")),
    "generation": JobKind("gpu", "workers.generation.job.generation_run", _("Generation")),
    "training": JobKind("gpu", "workers.training.job.training_run", _("Training"), staff_only=True),
    "snapshot": JobKind("default", "workers.training.snapshot.snapshot_run", _("Snapshot token count")),
    "audit": JobKind("gpu", "workers.audit.job.audit_run", _("Label audit")),
    "tiny_model": JobKind("gpu", "workers.generation.tiny.tiny_model_run", _("Tiny demo model"),
                          staff_only=True),
    "offline_model": JobKind("gpu", "workers.models.job.offline_model_run", _("Offline model (SmolLM2-135M-Instruct)"),
                             staff_only=True),
    "template_check": JobKind("default", "workers.models.template.template_check_run", _("Chat template check")),
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
