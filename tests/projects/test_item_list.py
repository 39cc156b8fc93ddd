"""The item list, API and page: keyset pages both ways, with filters, search and sort, at a fixed cost."""
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from labelstudio_app.accounts.models import Membership
from labelstudio_app.projects.models import Item
from tests.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def member_manager(project):
    """A manager by membership (not staff): the answer key comes from the role."""
    user = UserFactory(username="mgr_lists")
    Membership.objects.create(user=user, project=project, role="manager")
    return user


def token_client(user) -> APIClient:
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return c


def ids(page) -> list[int]:
    return [row["id"] for row in page["results"]]


def test_it_walks_the_api_pages_forward_and_back_in_both_sort_orders(project, member_manager):
    made = [i.pk for i in ItemFactory.create_batch(7, project=project)]
    c = token_client(member_manager)
    url = f"/api/projects/{project.pk}/items/"
    for sort, order in (("id", made), ("-id", made[::-1])):
        first = c.get(url, {"limit": 3, "sort": sort}).json()
        assert ids(first) == order[:3] and first["prev_before"] is None and first["next_after"] == order[2]
        second = c.get(url, {"limit": 3, "sort": sort, "after": first["next_after"]}).json()
        assert ids(second) == order[3:6] and second["prev_before"] == order[3]
        last = c.get(url, {"limit": 3, "sort": sort, "after": second["next_after"]}).json()
        assert ids(last) == order[6:] and last["next_after"] is None
        back = c.get(url, {"limit": 3, "sort": sort, "before": last["prev_before"]}).json()
        assert back == second
        back = c.get(url, {"limit": 3, "sort": sort, "before": second["prev_before"]}).json()
        assert back == first
    assert set(first["results"][0]) == {"id", "external_id", "text", "task_type", "status", "is_gold"}


def test_it_filters_and_searches_cjk_across_pages(project, member_manager):
    ItemFactory.create_batch(5, project=project, text="an English question?")
    wanted = [ItemFactory(project=project, text=f"怎么部署到树莓派？ #{i}", status="done").pk for i in range(5)]
    ItemFactory(project=project, text="怎么部署到树莓派？ but open")
    c = token_client(member_manager)
    url = f"/api/projects/{project.pk}/items/"
    query = {"q": "树莓派", "status": "done", "limit": 2}
    got, after = [], None
    while True:
        page = c.get(url, {**query, **({"after": after} if after else {})}).json()
        got += ids(page)
        if page["next_after"] is None:
            break
        after = page["next_after"]
    assert got == wanted


def test_it_hides_the_gold_flag_from_reviewers(project):
    ItemFactory(project=project, is_gold=True)
    reviewer = UserFactory()
    Membership.objects.create(user=reviewer, project=project, role="reviewer")
    row = token_client(reviewer).get(f"/api/projects/{project.pk}/items/").json()["results"][0]
    assert "is_gold" not in row


def test_it_answers_a_bad_cursor_with_a_clear_error(project, member_manager):
    r = token_client(member_manager).get(f"/api/projects/{project.pk}/items/", {"before": "x"})
    assert r.status_code == 400 and "after, before and limit must be integers" in r.json()["detail"]


def test_it_costs_the_same_queries_on_a_deep_page_and_never_offsets(project, member_manager):
    items = ItemFactory.create_batch(30, project=project)
    c = token_client(member_manager)
    url = f"/api/projects/{project.pk}/items/"
    counts = []
    for query in ({}, {"after": items[25].pk}, {"before": items[28].pk}, {"after": items[20].pk, "sort": "-id"}):
        with CaptureQueriesContext(connection) as q:
            assert c.get(url, {"limit": 2, **query}).status_code == 200
        counts.append(len(q.captured_queries))
        page_sql = q.captured_queries[-1]["sql"]
        assert "LIMIT 3" in page_sql and "OFFSET" not in page_sql
    # the token and user, the project with the reader's answer-key access, the page: nothing more
    assert counts == [3, 3, 3, 3]


def test_it_pins_the_item_list_query_count(project, member_manager, django_assert_max_num_queries):
    ItemFactory.create_batch(120, project=project)
    c = token_client(member_manager)
    after = Item.objects.order_by("id")[5].pk
    with django_assert_max_num_queries(3):
        r = c.get(f"/api/projects/{project.pk}/items/", {"limit": 100, "after": after})
    assert len(r.json()["results"]) == 100


def test_it_pages_with_previous_and_next_links_keeping_the_filters(client, project, member_manager):
    made = [ItemFactory(project=project, text=f"部署 & <b>{i}</b>", task_type="deployment / edge").pk
            for i in range(120)]
    ItemFactory.create_batch(3, project=project, text="其他", task_type="concept")
    client.force_login(member_manager)
    url = reverse("item-list", kwargs={"project_id": project.pk})

    def rows(html):
        return [int(x) for x in re.findall(r'class="item-row"><td><a href="[^"]+">(\d+)<', html)]

    def link(html, rel):
        found = re.search(rf'rel="{rel}" href="\?([^"]+)"', html)
        return found and found.group(1).replace("&amp;", "&")

    html = client.get(url, {"q": "部署", "task_type": "deployment / edge"}).content.decode()
    assert rows(html) == made[:50] and link(html, "prev") is None
    assert "&lt;b&gt;0&lt;/b&gt;" in html and "<b>0</b>" not in html  # imported text is escaped
    nxt = link(html, "next")
    assert "q=%E9%83%A8%E7%BD%B2" in nxt and "task_type=deployment+%2F+edge" in nxt and f"after={made[49]}" in nxt
    html = client.get(f"{url}?{nxt}").content.decode()
    assert rows(html) == made[50:100]
    html = client.get(f"{url}?{link(html, 'next')}").content.decode()
    assert rows(html) == made[100:] and link(html, "next") is None
    html = client.get(f"{url}?{link(html, 'prev')}").content.decode()
    assert rows(html) == made[50:100]
    html = client.get(f"{url}?{link(html, 'prev')}").content.decode()
    assert rows(html) == made[:50] and link(html, "prev") is None


def test_it_keeps_other_projects_items_out_of_every_page(project, member_manager):
    other = ProjectFactory()
    ItemFactory.create_batch(3, project=other)
    mine = ItemFactory(project=project)
    c = token_client(member_manager)
    page = c.get(f"/api/projects/{project.pk}/items/", {"after": 0}).json()
    assert ids(page) == [mine.pk]
    assert c.get(f"/api/projects/{other.pk}/items/").status_code == 404


def test_it_walks_the_id_order_for_a_common_search_word_instead_of_sorting_every_match(project):
    """The statistics on UPPER(text) (migration 0004) tell the planner a common word matches many rows."""
    if connection.vendor != "postgresql":
        pytest.skip("planner statistics are PostgreSQL's")
    Item.objects.bulk_create([Item(project=project, text=("显存不够怎么办？ " if i % 2 else "how to quantize? ") + str(i))
                              for i in range(4000)])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE projects_item")
    page = Item.objects.filter(project=project, text__icontains="显存").order_by("id").values("id")[:101]
    plan = page.explain()
    assert "Sort" not in plan and "Index Scan" in plan, plan
