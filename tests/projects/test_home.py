from django.urls import reverse


def test_it_sends_a_content_security_policy_without_inline_scripts(client_as, world):
    r = client_as(world.users["annotator"]).get(reverse("home"))
    csp = r["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    html = r.content.decode()
    assert "<script>" not in html and "htmx" in html  # scripts only as files
    assert 'hx-headers=\'{"X-CSRFToken"' in html


def test_it_lists_only_the_projects_a_user_belongs_to(client_as, world):
    html = client_as(world.users["outsider"]).get(reverse("home")).content.decode()
    assert world.project.name not in html and "other" in html
    html = client_as(world.users["annotator"]).get(reverse("home")).content.decode()
    assert world.project.name in html


def test_it_escapes_project_names(client_as, world):
    world.project.name = '<script>alert(1)</script>'
    world.project.save()
    html = client_as(world.users["annotator"]).get(reverse("home")).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_it_shows_navigation_by_role(client_as, world):
    nav = lambda who: client_as(world.users[who]).get(reverse("home")).content.decode()  # noqa: E731
    assert reverse("job-list") in nav("manager")
    assert reverse("job-list") not in nav("annotator")
    assert reverse("admin:index") in nav("admin") and reverse("admin:index") not in nav("manager")


def test_it_speaks_chinese(client, world):
    client.force_login(world.users["annotator"])
    client.post(reverse("set_language"), {"language": "zh-hans"})
    html = client.get(reverse("home")).content.decode()
    assert 'lang="zh-hans"' in html and "退出登录" in html and "Log out" not in html


def test_it_answers_503_while_the_database_is_unreachable(client_as, world, monkeypatch):
    from django.db import OperationalError

    from labelstudio_app.projects import selectors

    def down(**kwargs):
        raise OperationalError("connection refused")

    c = client_as(world.users["annotator"])
    monkeypatch.setattr(selectors, "project_list_for_user", down)
    r = c.get(reverse("home"))
    assert r.status_code == 503 and r["Retry-After"] == "5" and "retry" in r.content.decode()
