"""Labelling test data: the demo schema, projects with annotators, items in bulk."""
from labelstudio_app.accounts.models import Membership
from labelstudio_app.demo.seed import LABEL_SCHEMA
from labelstudio_app.projects.models import Item
from tests.factories import ProjectFactory, UserFactory

DEMO_SCHEMA = LABEL_SCHEMA  # the demo project's schema: what a real project looks like


def labelling_project(*, overlap=1, qa_required=False, items=0, annotators=0, schema=None, **kwargs):
    from labelstudio_app.projects.schema import schema_validate

    project = ProjectFactory(overlap=overlap, qa_required=qa_required,
                             label_schema=schema_validate(schema or DEMO_SCHEMA), **kwargs)
    items_add(project, items)
    users = [annotator_add(project) for _ in range(annotators)]
    return project, users


def annotator_add(project, role=Membership.Role.ANNOTATOR, user=None):
    user = user or UserFactory()
    Membership.objects.create(user=user, project=project, role=role)
    return user


def items_add(project, n, **fields):
    context = [{"sender": "张三", "text": "mmpose 很好用", "time": "2024-03-01 09:00:00"},
               {"sender": "李四", "text": "是的", "time": "2024-03-01 09:00:05"}]
    return Item.objects.bulk_create(
        [Item(project=project, text=f"怎么把它部署到 TX2？ #{i}", context=context, **fields) for i in range(n)],
        batch_size=5000)


YES = {"needs_context": "yes", "task_type": "deployment / edge"}
NO = {"needs_context": "no", "task_type": "install / build"}
