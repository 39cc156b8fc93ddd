"""What the review card tells a reviewer beyond the two answers: that they are identical, and how many
comparisons of the round are left for them. Neither names a model, a version or a side."""
import re

import pytest
from django.urls import reverse

from labelstudio_app.review import services
from labelstudio_app.review.models import Comparison
from tests.review.access import SCORES
from tests.review.factories import review_setup

pytestmark = pytest.mark.django_db

LEFT = re.compile(r'<span class="badge" id="review-left">([^<]*)</span>')


def _round(world, texts, *, name="Marmoset-7B vs Narwhal-13B", overlap=1):
    mv_a, mv_b, items = review_setup(world.project, n_items=len(texts), texts=texts)
    return services.round_create(project=world.project, user=world.users["manager"], name=name, model_a=mv_a,
                                 model_b=mv_b, items=items, overlap=overlap), mv_a, mv_b


def _card(client, world, **extra) -> str:
    return client.get(reverse("review-next", kwargs={"project_id": world.project.pk}), **extra).content.decode()


def test_it_says_when_the_two_answers_are_identical(world, client_as):
    _round(world, [("同一个回答 same", "同一个回答 same  "), ("回答一", "回答二")])
    client = client_as(world.users["reviewer"])
    seen = []
    for _ in range(2):
        page = _card(client, world)
        held = Comparison.objects.get(claims__reviewer=world.users["reviewer"], claims__state="open")
        seen.append(("judge them as a tie" in page, held.candidate_a.text.strip() == held.candidate_b.text.strip()))
        client.post(reverse("review-submit", kwargs={"project_id": world.project.pk, "public_id": held.public_id}),
                    SCORES, HTTP_HX_REQUEST="true")
    assert sorted(seen) == [(False, False), (True, True)]


def test_it_counts_the_comparisons_left_for_this_reviewer_in_the_round(world, client_as):
    rnd, mv_a, mv_b = _round(world, [(f"甲 {i}", f"乙 {i}") for i in range(3)], overlap=2)
    reviewer, pid = world.users["reviewer"], world.project.pk
    client = client_as(reviewer)
    counts = []
    page = _card(client, world)
    for action in ("submit", "skip"):
        badge = LEFT.search(page).group(1)
        # the badge is a number and a fixed sentence: nothing about the round, its models or the sides
        assert re.fullmatch(r"\d+ comparisons? left for you in this round \(this one included\)\.", badge), badge
        counts.append(int(badge.split()[0]))
        held = Comparison.objects.get(claims__reviewer=reviewer, claims__state="open")
        url = reverse(f"review-{action}", kwargs={"project_id": pid, "public_id": held.public_id})
        page = client.post(url, SCORES if action == "submit" else {}, HTTP_HX_REQUEST="true").content.decode()
    counts.append(int(LEFT.search(page).group(1).split()[0]))
    assert counts == [3, 2, 1]  # a judgment and a skip each take one off; the round has overlap 2, so
    # another reviewer still has all three
    other = client_as(world.users["manager"])
    assert int(LEFT.search(_card(other, world)).group(1).split()[0]) == 3
    for secret in (rnd.name, "Marmoset", "Narwhal", mv_a.name, mv_b.name, f"round/{rnd.pk}"):
        assert secret not in page


def test_it_shows_no_count_when_nothing_is_left(world, client_as):
    _round(world, [("甲", "乙")])
    client = client_as(world.users["reviewer"])
    _card(client, world)
    held = Comparison.objects.get(claims__reviewer=world.users["reviewer"], claims__state="open")
    page = client.post(reverse("review-submit", kwargs={"project_id": world.project.pk, "public_id": held.public_id}),
                       SCORES, HTTP_HX_REQUEST="true").content.decode()
    assert "Nothing left to review" in page and 'id="review-left"' not in page
