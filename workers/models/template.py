"""The `template_check` job: can a model version's chat template be masked for training? The verdict (or the
reason it cannot) is recorded on the version; training refuses a version whose check failed."""
from labelstudio_app.evaluation.selectors import model_version_get_for_job
from labelstudio_app.evaluation.services import model_version_template_record
from workers.training.lora import TrainingError, chat_template_check_dir


def template_check(mv) -> str | None:
    """None when the version's template masks every assistant turn and nothing else, else why not."""
    try:
        chat_template_check_dir(mv.base_model, trust_remote_code=mv.trust_remote_code)
    except TrainingError as exc:
        return str(exc)
    return None


def template_check_run(ctx) -> dict:
    mv = model_version_get_for_job(job=ctx.job)
    error = template_check(mv)
    model_version_template_record(model_version_id=mv.pk, error=error)
    ctx.log(f"chat template of {mv.name}: " + (f"cannot be masked: {error}" if error else "ok"))
    return {"model_version_id": mv.pk, "template_ok": error is None, "template_error": error or ""}
