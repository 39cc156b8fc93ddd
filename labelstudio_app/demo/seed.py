"""The demo seeder: demo users, a demo project with its label schema, and the sample group-chat log imported
through the real import job. `manage.py flywheel_demo` runs it; it is safe to run again."""
import random
import tempfile
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.files import File

from labelstudio_app.accounts.models import Membership
from labelstudio_app.demo import samples
from labelstudio_app.jobs.models import Job
from labelstudio_app.jobs.services import job_create
from labelstudio_app.projects import services
from labelstudio_app.projects.models import Project

DEMO_PROJECT = "Demo: group-chat questions"
USERS = [  # username, password, staff, role in the demo project
    ("admin", "flywheel-admin", True, "manager"),
    ("manager", "flywheel-manager", False, "manager"),
    ("annotator", "flywheel-annotator", False, "annotator"),
    ("reviewer", "flywheel-reviewer", False, "reviewer"),
]
LABEL_SCHEMA = [
    {"name": "needs_context", "kind": "single_choice", "label": "需要结合上下文吗？",
     "options": [{"value": "yes", "label": "需要", "key": "1"}, {"value": "no", "label": "不需要", "key": "2"},
                 {"value": "not_question", "label": "不是问题", "key": "3"}], "required": True},
    {"name": "task_type", "kind": "task_type", "label": "任务类型",
     "taxonomy": {"deployment": ["edge", "server"], "install": ["build"], "usage": ["api"], "performance": [],
                  "concept": []}},
    {"name": "rewrite", "kind": "text", "label": "改写为独立问题"},
    {"name": "flags", "kind": "flags", "options": [{"value": "robust_prompt", "label": "robust prompt", "key": "r"}]},
]
TRAINING_TEMPLATE = {
    "instruction": "判断下面群聊中的最后一个问题是否需要结合上下文才能理解。\n{context}\n问题：{text}",
    "output": "{label:needs_context|需要|不需要}",
}
INSTRUCTIONS = ("读最后一条消息：它是问题吗？不看前面的聊天能看懂吗（“它”“这个”指什么）？"
                "按 1 需要 / 2 不需要 / 3 不是问题；需要时写一个独立的改写。")



def demo_users(*, say=print) -> dict:
    User = get_user_model()
    out = {}
    for username, password, staff, _role in USERS:
        user, created = User.objects.get_or_create(username=username,
                                                   defaults={"is_staff": staff, "is_superuser": staff})
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
            say(f"user {username:<10} password {password}")
        else:
            say(f"user {username:<10} exists (password unchanged)")
        out[username] = user
    return out


def demo_project(*, users: dict) -> Project:
    project = demo_project_get()
    if project is None:
        project = services.project_create(
            user=users["admin"], name=DEMO_PROJECT, description="Questions cut from a synthetic group chat.",
            instructions=INSTRUCTIONS, label_schema=LABEL_SCHEMA, training_template=TRAINING_TEMPLATE,
            overlap=1, weights_3h={"helpfulness": 1, "honesty": 1, "harmlessness": 1},
            prompt_template="{context}\n\n问题：{text}\n请回答这个问题。")
    for username, _password, _staff, role in USERS:
        Membership.objects.get_or_create(user=users[username], project=project, role=role)
    return project


def demo_import(*, project, user, messages: int, seed: int, say=print) -> Job | None:
    if project.items.exists() or Job.objects.filter(project=project, kind="import").exclude(
            state__in=[Job.State.FAILED, Job.State.CANCELLED]).exists():
        say("sample log already imported (or being imported)")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        rng = random.Random(seed)
        path = Path(tmp) / "group_chat.log"
        path.write_text("\n".join(samples.chat_log(rng, messages)) + "\n", encoding="utf-8")
        with path.open("rb") as f:
            saved = services.import_upload_save(project=project, upload=File(f, name=path.name))
    return services.import_start(project=project, user=user, token=saved["token"], fmt="chatlog",
                                 options={"window_seconds": 60, "context_turns": 5})


def demo_model(*, project, say=print) -> Job:
    """Queues the demo's model, SmolLM2-135M-Instruct prepared offline (workers/models/job.py), registered by
    the worker as the project's model version; the job is cheap when it is ready already, so every start
    queues it and `flywheel_demo_wait` reads that job. The same job while it is queued or running is returned."""
    job = Job.objects.filter(project=project, kind="offline_model",
                             state__in=[Job.State.QUEUED, Job.State.RUNNING]).order_by("-id").first()
    if job is None:
        job = job_create(kind="offline_model", project=project, params={}, total=4)
        say(f"Demo model job #{job.pk} queued: a worker on the gpu queue prepares SmolLM2-135M-Instruct.")
    return job


def demo_model_job(*, project) -> Job | None:
    """The demo model's latest job."""
    return Job.objects.filter(project=project, kind="offline_model").order_by("-id").first()


def demo_project_get() -> Project | None:
    return Project.objects.filter(name=DEMO_PROJECT).order_by("id").first()
