"""Audit test data: a labelled project, a model family, runs with predictions written directly."""
from labelstudio_app.audit.models import AuditPrediction, AuditRun
from labelstudio_app.labelling.models import Annotation
from labelstudio_app.projects.models import Item
from tests.evaluation.factories import ModelVersionFactory
from tests.factories import ProjectFactory, UserFactory

QUESTION = {"name": "needs_context", "kind": "single_choice", "label": "需要结合上下文吗？", "required": True,
            "options": [{"value": "yes", "label": "需要", "key": "1"}, {"value": "no", "label": "不需要", "key": "2"},
                        {"value": "not_question", "label": "不是问题", "key": "3"}]}
OPTIONS = ["yes", "no", "not_question"]
TEMPLATE = "聊天记录：\n{context}\n\n问题：{text}\n这个问题需要结合上下文吗？回答 需要 / 不需要 / 不是问题。"
SIZES = (494_000_000, 1_540_000_000, 7_610_000_000, 14_700_000_000)


def labelled_project(*, labels: list[str], annotator=None, project=None, **fields):
    """A project whose items carry final labels `labels` (one item each), each with one accepted annotation."""
    if project is None:
        project = ProjectFactory(label_schema=[QUESTION], prompt_template=TEMPLATE, **fields)
    else:
        project.label_schema, project.prompt_template = [QUESTION], TEMPLATE
        project.save(update_fields=["label_schema", "prompt_template"])
    annotator = annotator or UserFactory()
    items = []
    for i, label in enumerate(labels):
        item = Item.objects.create(project=project, text=f"它支持 TX2 吗？ #{i}", status=Item.Status.DONE,
                                   task_type="deployment / edge" if i % 2 == 0 else "usage / api",
                                   context=[{"sender": "张三", "text": "mmpose 很好用", "time": "09:00"}],
                                   final_values={"needs_context": label})
        Annotation.objects.create(item=item, annotator=annotator, values={"needs_context": label},
                                  status=Annotation.Status.ACCEPTED)
        items.append(item)
    return project, items


def family(project, sizes=SIZES, **kwargs):
    return [ModelVersionFactory(project=project, name=f"qwen-{n / 1e9:.1f}b 模型", parameter_count=n, **kwargs)
            for n in sizes]


def run_with_predictions(project, items, answers: dict, *, positive="yes", metric="precision", user=None):
    """`answers`: {model_version: [predicted value or None, one per item]}; written as the worker would."""
    run = AuditRun.objects.create(project=project, question="needs_context", options=OPTIONS, positive_class=positive,
                                  metric=metric, item_ids=[i.pk for i in items], created_by=user,
                                  name="第一轮 round 1")
    run.model_versions.set(list(answers))
    AuditPrediction.objects.bulk_create([
        AuditPrediction(run=run, model_version=mv, item=item, human_value=item.final_values["needs_context"],
                        predicted_value=pred, rule="exact" if pred else "unparseable",
                        raw_output={"yes": "需要", "no": "不需要", "not_question": "不是问题"}.get(pred, "嗯……"),
                        task_type=item.task_type)
        for mv, preds in answers.items() for item, pred in zip(items, preds, strict=True)
    ])
    return run


def falling_family(project, items):
    """Precision of 'yes' falls with size: the larger models call more 'no' items 'yes' (items 10.. are 'no')."""
    m0, m1, m2, m3 = family(project)
    yes10 = ["yes"] * 10
    return {
        m0: yes10 + ["no"] * 9 + [None],
        m1: yes10 + ["yes"] * 2 + ["no"] * 8,
        m2: yes10 + ["yes"] * 4 + ["no"] * 6,
        m3: yes10 + ["yes"] * 6 + ["no"] * 4,
    }
