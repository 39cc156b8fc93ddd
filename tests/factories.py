"""Factories shared by every test package. Domain packages add their own next to their tests."""
import factory
from django.contrib.auth import get_user_model

from labelstudio_app.accounts.models import Membership
from labelstudio_app.jobs.models import Job
from labelstudio_app.projects.models import Item, Project

PASSWORD = "correct horse battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"项目 project {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    project = factory.SubFactory(ProjectFactory)
    role = Membership.Role.ANNOTATOR


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    project = factory.SubFactory(ProjectFactory)
    text = factory.Sequence(lambda n: f"怎么把它部署到 TX2？ question {n}")
    context = factory.LazyFunction(lambda: [{"sender": "张三", "text": "mmpose 支持吗", "time": "2024-03-01 09:00:00"}])
    task_type = "deployment / edge"


class JobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Job

    kind = "selftest"
    params = factory.LazyFunction(lambda: {"batches": 3, "delay": 0})
