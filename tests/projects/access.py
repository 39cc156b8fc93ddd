"""Permission rules for every project, item, import and export URL (pages and API)."""
from django.core.files.uploadedfile import SimpleUploadedFile

from labelstudio_app.jobs.models import Job
from tests.access_rules import EVERYONE, MANAGERS, MEMBERS, REVIEWERS, STAFF_ONLY, Rule
from tests.factories import ItemFactory, JobFactory, MembershipFactory, UserFactory


def setup(world):
    world.extra["item"] = ItemFactory(project=world.project, text="这个能在 TX2 上跑吗？")
    spare = UserFactory(username="spare_member")
    world.extra["spare_membership"] = MembershipFactory(user=spare, project=world.project, role="annotator")
    world.extra["export_job"] = JobFactory(project=world.project, kind="export", state=Job.State.SUCCEEDED,
                                           created_by=world.users["manager"],
                                           params={"format": "jsonl", "scope": "all"}, result={"file": "missing"})


def _p(w):
    return {"project_id": w.project.pk}


def _item(w):
    return {"project_id": w.project.pk, "item_id": w.item.pk}


def _member(w):
    return {"project_id": w.project.pk, "membership_id": w.spare_membership.pk}


def _export(w):
    return {"project_id": w.project.pk, "job_id": w.export_job.pk}


def _upload(_w):
    return {"file": SimpleUploadedFile("q.jsonl", '{"text": "怎么部署？"}\n'.encode()), "format": "auto"}


def _project_body(_w):
    return {"name": "新项目 new", "overlap": 1}


RULES = {
    "project-detail": Rule(allowed=MEMBERS, kwargs=_p),
    "project-create": Rule(allowed=STAFF_ONLY),
    "project-settings": Rule(allowed=MANAGERS, kwargs=_p),
    "project-members": Rule(allowed=MANAGERS, kwargs=_p),
    "project-member-remove": Rule(allowed=MANAGERS, kwargs=_member, method="post", data=lambda w: {}),
    "item-list": Rule(allowed=REVIEWERS, kwargs=_p),
    "item-detail": Rule(allowed=REVIEWERS, kwargs=_item),
    "import-page": Rule(allowed=MANAGERS, kwargs=_p),
    "import-preview": Rule(allowed=MANAGERS, kwargs=_p, method="post", data=_upload),
    # a well-formed token that names no upload: members get a clear 400, outsiders 404 before that
    "import-start": Rule(allowed=MANAGERS, kwargs=_p, method="post", ok=(400,),
                         data=lambda w: {"token": "0" * 32, "format": "auto"}),
    # the preview's mapping table sent back with a token that names no upload: members get a clear 400
    "import-remap": Rule(allowed=MANAGERS, kwargs=_p, method="post", ok=(400,),
                         data=lambda w: {"token": "0" * 32, "format": "labelstudio"}),
    "export-page": Rule(allowed=MANAGERS, kwargs=_p),
    "export-start": Rule(allowed=MANAGERS, kwargs=_p, method="post", data=lambda w: {"format": "jsonl",
                                                                                     "scope": "all"}),
    # the job's file does not exist: managers get 404 too, so only the deny side is checked here
    "export-download": Rule(allowed=MANAGERS, kwargs=_export, ok=(404,)),
    "api-project-list": Rule(allowed=EVERYONE, api=True),
    "api-project-detail": Rule(allowed=MEMBERS, kwargs=_p, api=True),
    "api-project-counts": Rule(allowed=MEMBERS, kwargs=_p, api=True),
    "api-project-members": Rule(allowed=MANAGERS, kwargs=_p, api=True),
    "api-project-member-detail": Rule(allowed=MANAGERS, kwargs=_member, method="delete", api=True),
    "api-item-list": Rule(allowed=REVIEWERS, kwargs=_p, api=True),
    "api-item-detail": Rule(allowed=REVIEWERS, kwargs=_item, api=True),
    "api-import-create": Rule(allowed=MANAGERS, kwargs=_p, method="post", data=_upload, api=True),
    "api-import-preview": Rule(allowed=MANAGERS, kwargs=_p, method="post", data=_upload, api=True),
    "api-import-bulk": Rule(allowed=MANAGERS, kwargs=_p, method="post", api=True, fmt="json",
                            data=lambda w: [{"text": "怎么部署？"}]),
    "api-export-create": Rule(allowed=MANAGERS, kwargs=_p, method="post", api=True, fmt="json",
                              data=lambda w: {"format": "jsonl", "scope": "all"}),
    "api-export-stream": Rule(allowed=MANAGERS, kwargs=lambda w: _p(w), api=True),
    "api-export-download": Rule(allowed=MANAGERS, kwargs=_export, api=True, ok=(404,)),
}
