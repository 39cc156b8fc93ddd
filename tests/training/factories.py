"""Training test data: approved items through a training template, the tiny model as a registered version."""
import shutil
from pathlib import Path

from django.conf import settings

from labelstudio_app.evaluation.services import model_version_create
from labelstudio_app.projects.models import Item
from tests.factories import ItemFactory

TEMPLATE = {"instruction": "{text}", "output": "{value:answer}"}
ANSWERS = ["可以，先转 ONNX 再部署。", "Yes, enable fp16.", "需要", "不需要", "No."]


def tiny_base_dir(tiny_model_dir: Path) -> Path:
    """The session's tiny model copied under the artifacts dir (a model root), once."""
    dest = Path(settings.ARTIFACTS_DIR) / "models" / "tiny"
    if not (dest / "config.json").exists():
        shutil.copytree(tiny_model_dir, dest, dirs_exist_ok=True)
    return dest


def base_version(project, user, tiny_model_dir: Path, name: str = "tiny base"):
    return model_version_create(project=project, user=user, name=name,
                                base_model=str(tiny_base_dir(tiny_model_dir)))


def approved_items(project, n: int, *, task_type: str = "deployment / edge", start: int = 0, **kwargs) -> list[Item]:
    """Items with a final label (status done) the training template turns into examples."""
    if project.training_template != TEMPLATE:
        project.training_template = TEMPLATE
        project.save(update_fields=["training_template"])
    return [ItemFactory(project=project, task_type=task_type, status=Item.Status.DONE,
                        text=f"{['怎么部署到 TX2？', 'Does it run on Orin?', 'LoRA rank 怎么选？'][i % 3]} #{start + i}",
                        final_values={"answer": ANSWERS[(start + i) % len(ANSWERS)]}, **kwargs)
            for i in range(n)]
