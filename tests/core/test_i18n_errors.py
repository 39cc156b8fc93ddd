"""Under 简体中文 the services' validation errors read in Chinese, and every msgid of the .po has a translation."""
import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from labelstudio_app.audit import services as audit_services
from labelstudio_app.core.errors import Conflict
from labelstudio_app.projects.schema import annotation_validate, schema_validate
from labelstudio_app.review import services as review_services
from labelstudio_app.training.hyperparams import hyperparams_validate
from labelstudio_app.training.models import DatasetSnapshot
from labelstudio_app.training.services import snapshot_verify
from tests.audit.factories import labelled_project
from tests.review.factories import ModelVersionFactory

PO = Path(__file__).resolve().parents[2] / "locale/zh_Hans/LC_MESSAGES/django.po"
TASK_TYPE = {"name": "task", "kind": "task_type", "taxonomy": {"部署": ["边缘设备"], "usage": []}}


@pytest.fixture
def zh():
    with translation.override("zh-hans"):
        yield


def _message(exc_info, field=None) -> str:
    exc = exc_info.value
    return exc.message_dict[field][0] if field else (exc.messages[0] if isinstance(exc, ValidationError) else str(exc))


def test_a_bad_label_schema_is_explained_in_chinese(zh):
    schema = [{"name": "a", "kind": "single_choice", "options": [{"value": "yes", "key": "1"}]},
              {"name": "b", "kind": "single_choice", "options": [{"value": "no", "key": "1"}]}]
    with pytest.raises(ValidationError) as exc_info:
        schema_validate(schema)
    assert _message(exc_info) == "第 2 个问题（b）：快捷键“1”重复使用（第 1 个问题（a）的选项“yes”也在使用）"


def test_a_bad_annotation_names_its_question_in_chinese(zh):
    schema = schema_validate([TASK_TYPE])
    with pytest.raises(ValidationError) as exc_info:
        annotation_validate(schema=schema, values={"task": "部署 / 服务器"})
    assert _message(exc_info, "task") == "task：“服务器”不是“部署”的子类型"
    with pytest.raises(ValidationError) as exc_info:
        annotation_validate(schema=schema, values={"task": "部署", "extra": 1})
    assert exc_info.value.message_dict == {"task": ["task：请选择“部署”的子类型：边缘设备"],
                                           "extra": ["extra：不是本项目标注方案中的问题"]}


def test_a_bad_hyper_parameter_is_explained_in_chinese(zh):
    with pytest.raises(ValidationError) as exc_info:
        hyperparams_validate({"r": 0, "epochs": "many"})
    assert exc_info.value.message_dict == {"r": ["不能小于 1（0）"], "epochs": ["必须为整数（'many'）"]}


def test_english_stays_the_default():
    with pytest.raises(ValidationError) as exc_info:
        hyperparams_validate({"r": 0})
    assert _message(exc_info, "r") == "must be at least 1 (0)"


@pytest.mark.django_db
def test_a_bad_audit_and_a_bad_round_are_refused_in_chinese(zh):
    project, items = labelled_project(labels=["yes", "no"])
    with pytest.raises(ValidationError) as exc_info:
        audit_services.audit_run_create(project=project, user=None, question="needs_context", model_versions=[],
                                        positive_class="maybe")
    assert exc_info.value.message_dict["model_versions"] == ["请至少选择一个模型版本"]
    assert exc_info.value.message_dict["positive_class"] == ["“maybe”不是“needs_context”的选项（yes, no, not_question）"]
    with pytest.raises(ValidationError) as exc_info:
        audit_services.audit_run_create(project=project, user=None, question="needs_context", model_versions=[],
                                        regex="(unclosed")
    assert exc_info.value.message_dict["regex"][0].startswith("正则表达式无法编译：")
    mv = ModelVersionFactory(project=project)
    with pytest.raises(ValidationError) as exc_info:
        review_services.round_create(project=project, user=None, name="同一个模型", model_a=mv, model_b=mv, items=items)
    assert _message(exc_info, "model_b") == "请比较两个不同的模型版本（或将 B 留空，与参考答案比较）。"


@pytest.mark.django_db
def test_a_missing_snapshot_file_is_a_conflict_in_chinese(zh, tmp_path, settings):
    settings.ARTIFACTS_DIR = str(tmp_path)
    project, _items = labelled_project(labels=["yes"])
    snapshot = DatasetSnapshot.objects.create(project=project, name="快照一", path="snapshots/gone.jsonl",
                                              sha256="0" * 64)
    with pytest.raises(Conflict) as exc_info:
        snapshot_verify(snapshot=snapshot)
    assert _message(exc_info) == "数据快照 '快照一'：其文件 snapshots/gone.jsonl 不存在"


def _po_entries() -> list[tuple[str, str, str]]:
    """(flags, msgid, msgstr) of every entry but the header; plural entries give their msgstr[0]."""
    def unquote(block: str) -> str:
        return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', block))

    entries = []
    for block in PO.read_text(encoding="utf-8").split("\n\n"):
        if block.lstrip().startswith("#~"):  # obsolete entries are not shown to anyone
            continue
        m = re.search(r'(?ms)^msgid (".*?")\n(?:msgid_plural ".*?"\n)?msgstr(?:\[0\])? (".*?")\s*\Z', block)
        if m and unquote(m.group(1)):
            flags = " ".join(re.findall(r"(?m)^#, (.*)$", block))
            entries.append((flags, unquote(m.group(1)), unquote(m.group(2))))
    return entries


def test_every_msgid_has_a_confirmed_chinese_translation():
    entries = _po_entries()
    assert len(entries) > 500  # the parser found the catalogue, not an empty file
    assert [msgid for _f, msgid, msgstr in entries if not msgstr.strip()] == []
    assert [msgid for flags, msgid, _s in entries if "fuzzy" in flags] == []
