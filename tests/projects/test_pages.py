"""The project pages and API as a user sees them."""
import json

from django.urls import reverse

from labelstudio_app.accounts.models import Membership
from labelstudio_app.projects.models import Item, Project
from tests.factories import ItemFactory, ProjectFactory, UserFactory
from tests.projects.factories import upload


def test_it_lets_staff_create_a_project_and_makes_them_its_manager(client_as, manager):
    r = client_as(manager).post(reverse("project-create"), {"name": "群聊问题 2024", "overlap": 2,
                                                              "helpfulness": 2, "honesty": 1, "harmlessness": 3})
    project = Project.objects.get(name="群聊问题 2024")
    assert r.status_code == 302 and r["Location"] == reverse("project-detail", kwargs={"project_id": project.pk})
    assert project.overlap == 2 and project.weights_3h == {"helpfulness": 2, "honesty": 1, "harmlessness": 3}
    assert Membership.objects.filter(project=project, user=manager, role="manager").exists()


def test_it_saves_settings_and_rejects_a_bad_training_template(client_as, manager, project):
    url = reverse("project-settings", kwargs={"project_id": project.pk})
    base = {"name": "新名字", "overlap": 3, "qa_required": "on", "instructions": "看上下文",
            "training_template": json.dumps({"instruction": "{text}", "output": "{value:rewrite}"})}
    assert client_as(manager).post(url, base).status_code == 302
    project.refresh_from_db()
    assert (project.name, project.overlap, project.qa_required) == ("新名字", 3, True)
    assert project.training_template == {"instruction": "{text}", "output": "{value:rewrite}"}
    r = client_as(manager).post(url, {**base, "training_template": '{"instruction": "{txt}", "output": "x"}'})
    assert r.status_code == 200 and "unknown placeholder {txt}" in r.content.decode()
    r = client_as(manager).post(url, {**base, "training_template": '{"instruction": '})
    assert "Invalid JSON" in r.content.decode()
    project.refresh_from_db()
    assert project.training_template == {"instruction": "{text}", "output": "{value:rewrite}"}


def test_it_adds_and_removes_members(client_as, manager, project):
    ann = UserFactory(username="标注员_ann")
    url = reverse("project-members", kwargs={"project_id": project.pk})
    r = client_as(manager).post(url, {"username": "标注员_ann", "role": "annotator"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "标注员_ann" in r.content.decode()
    m = Membership.objects.get(project=project, user=ann)
    r = client_as(manager).post(url, {"username": "nobody", "role": "annotator"})
    assert "If nobody has an account, they now have the role" in r.content.decode()
    client_as(manager).post(reverse("project-member-remove", kwargs={"project_id": project.pk, "membership_id": m.pk}))
    assert not Membership.objects.filter(pk=m.pk).exists()


def test_it_shows_counts_by_status_and_task_type(client_as, manager, project):
    ItemFactory.create_batch(3, project=project, task_type="deployment / edge")
    ItemFactory.create_batch(2, project=project, task_type="concept", status="done")
    r = client_as(manager).get(reverse("project-detail", kwargs={"project_id": project.pk}))
    html = r.content.decode()
    assert 'id="count-total">5<' in html and 'id="count-open">3<' in html and 'id="count-done">2<' in html
    assert "deployment / edge" in html and "concept" in html


def test_it_pages_filters_and_searches_items_with_constant_queries(client_as, manager, project,
                                                                   django_assert_num_queries):
    ItemFactory.create_batch(60, project=project, task_type="usage / api")
    target = ItemFactory(project=project, text="怎么把它部署到树莓派？", task_type="deployment / edge")
    url = reverse("item-list", kwargs={"project_id": project.pk})
    c = client_as(manager)
    c.get(url)  # warm the session
    with django_assert_num_queries(4):  # session, user, project (scoped), one page of items
        r = c.get(url)
    html = r.content.decode()
    assert html.count('class="item-row"') == 50 and "after=" in html
    after = Item.objects.filter(project=project).order_by("id")[49].pk
    with django_assert_num_queries(4):
        r = c.get(url, {"after": after}, HTTP_HX_REQUEST="true")
    assert r.content.decode().count('class="item-row"') == 11
    r = c.get(url, {"q": "树莓派"})
    assert r.content.decode().count('class="item-row"') == 1 and target.text in r.content.decode()
    r = c.get(url, {"task_type": "deployment / edge", "sort": "-id"})
    assert r.content.decode().count('class="item-row"') == 1


def test_it_shows_an_item_with_anonymised_senders(client_as, manager, project):
    item = ItemFactory(project=project, text="那它呢？", metadata={"sender": "王二"},
                       context=[{"sender": "张三", "text": "mmpose 支持 TX2", "time": ""},
                                {"sender": "王二", "text": "真的吗", "time": ""}])
    html = client_as(manager).get(reverse("item-detail", kwargs={"project_id": project.pk, "item_id": item.pk})
                                  ).content.decode()
    assert "张三" not in html and "王二" not in html
    assert html.count('class="speaker">A<') == 1 and html.count('class="speaker">B<') == 2
    assert 'turn target asker' in html


def test_it_previews_then_imports_from_the_page(client_as, manager, project, django_capture_on_commit_callbacks):
    from labelstudio_app.jobs.models import Job

    log = "2024-03-01 09:00:00 张三: mmpose 挺好用\n2024-03-01 09:01:00 李四: 怎么把它部署到 TX2？\n"
    c = client_as(manager)
    r = c.post(reverse("import-preview", kwargs={"project_id": project.pk}),
               {"file": upload("chat.log", log), "format": "auto", "window_seconds": 60, "context_turns": 5,
                "min_chars": 4, "max_chars": 500, "require_question": "on", "dedupe": "on"}, HTTP_HX_REQUEST="true")
    html = r.content.decode()
    assert "1 rows kept" in html and "怎么把它部署到 TX2？" in html and "not_question: 1" in html
    token = html.split('name="token" value="')[1].split('"')[0]
    options = html.split('name="options" value="')[1].split('"')[0].replace("&quot;", '"')
    with django_capture_on_commit_callbacks(execute=False):
        r = c.post(reverse("import-start", kwargs={"project_id": project.pk}),
                   {"token": token, "format": "auto", "options": options}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "job-" in r.content.decode()
    job = Job.objects.get(project=project, kind="import")
    assert job.params["options"]["window_seconds"] == 60 and job.params["filename"] == "chat.log"


def test_it_shows_preview_errors_naming_the_line(api_as, manager, project):
    r = api_as(manager).post(f"/api/projects/{project.pk}/imports/preview/",
                             {"file": upload("x.jsonl", '{"text": "ok?"}\n{"text": 5}\n')}, format="multipart")
    assert r.status_code == 200
    assert r.json()["report"]["errors"] == ["line 2: field 'text' must be a string, got number"]
    assert r.json()["rows"][0]["text"] == "ok?"


def test_it_lists_items_and_projects_through_the_api(api_as, manager, project):
    ItemFactory.create_batch(3, project=project)
    c = api_as(manager)
    page = c.get(f"/api/projects/{project.pk}/items/?limit=2").json()
    assert len(page["results"]) == 2 and page["next_after"] == page["results"][1]["id"]
    rest = c.get(f"/api/projects/{project.pk}/items/?after={page['next_after']}").json()
    assert len(rest["results"]) == 1 and rest["next_after"] is None
    r = c.post("/api/projects/", {"name": "API 项目", "overlap": 2}, format="json")
    assert r.status_code == 201
    pid = r.json()["id"]
    r = c.patch(f"/api/projects/{pid}/", {"training_template": {"instruction": "{nope}", "output": "x"}},
                format="json")
    assert r.status_code == 400 and "unknown placeholder {nope}" in json.dumps(r.json(), ensure_ascii=False)
    assert c.get("/api/schema/").status_code == 200


def test_it_hides_other_projects_items(api_as, project):
    other = ProjectFactory()
    item = ItemFactory(project=other)
    reviewer = UserFactory(username="rev_h1a")
    Membership.objects.create(user=reviewer, project=project, role="reviewer")
    assert api_as(reviewer).get(f"/api/projects/{other.pk}/items/{item.pk}/").status_code == 404
    assert api_as(reviewer).get(f"/api/projects/{project.pk}/items/{item.pk}/").status_code == 404


def test_it_answers_member_add_the_same_whether_the_username_exists(client_as, api_as, manager, project):
    UserFactory(username="real_person")
    url = reverse("project-members", kwargs={"project_id": project.pk})
    api_url = reverse("api-project-members", kwargs={"project_id": project.pk})

    def answers(name):
        page = client_as(manager).post(url, {"username": name, "role": "reviewer"}, HTTP_HX_REQUEST="true")
        api = api_as(manager).post(api_url, {"username": name, "role": "reviewer"}, format="json")
        notice = page.content.decode().split('role="status">')[1].split("</p>")[0]
        return page.status_code, notice.replace(name, "NAME"), api.status_code, api.json()["detail"].replace(name, "NAME")

    assert answers("real_person") == answers("ghost_person")
    assert Membership.objects.filter(project=project, user__username="real_person", role="reviewer").exists()


def test_it_shows_the_final_label_and_metadata_as_people_read_them(client_as, manager, project):
    project.label_schema = [{"name": "needs_context", "kind": "single_choice", "label": "需要上下文吗？",
                             "options": [{"value": "yes", "label": "需要", "key": "1"},
                                         {"value": "no", "label": "不需要", "key": "2"}]}]
    project.save()
    item = ItemFactory(project=project, final_values={"needs_context": "no"}, status="done",
                       metadata={"template": "needs-6", "tags": ["a", "b"], "extra": {"来源": None}})
    html = client_as(manager).get(reverse("item-detail", kwargs={"project_id": project.pk, "item_id": item.pk})
                                  ).content.decode()
    assert "<dt>需要上下文吗？</dt><dd class=\"cjk-safe\">不需要</dd>" in html
    assert "{&#x27;" not in html and "None" not in html  # no Python repr
    assert "a, b" in html and "&quot;来源&quot;: null" in html
