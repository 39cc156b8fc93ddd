"""Reviewers never see which model wrote what: not in pages, HTML source, URLs or any API they can call."""
import pytest
from django.urls import reverse

from labelstudio_app.review import services
from labelstudio_app.review.models import Comparison
from tests.conftest import PERSONAS
from tests.factories import ItemFactory
from tests.review.access import SCORES
from tests.review.factories import CandidateFactory, ModelVersionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def secret_round(world):
    """Two versions and their candidates with distinctive names, ids, paths and counts."""
    mv_a = ModelVersionFactory(pk=913_572, project=world.project, name="Marmoset-Alpha-9000",
                               base_model="/srv/models/Qwen-Hidden-Base-77", adapter_path="/srv/adapters/lora-Quokka-v2")
    mv_b = ModelVersionFactory(pk=913_573, project=world.project, name="Narwhal-Beta-4242",
                               base_model="/srv/models/Llama-Hidden-Base-88", adapter_path="/srv/adapters/lora-Wombat-v1")
    items, cand_ids = [], []
    for i in range(3):
        item = ItemFactory(project=world.project, reference_answer=f"参考答案 Reference-Key-{i}",
                           metadata={"generated_by": "Marmoset-Alpha-9000", "source": "lora-Quokka-v2"},
                           final_values={"verdict": f"Final-Key-{i}"})
        a = CandidateFactory(pk=771_100 + i, item=item, model_version=mv_a, text=f"左右答案 alpha {i}",
                             prompt_tokens=31_337, completion_tokens=27_182, latency_ms=161_803)
        b = CandidateFactory(pk=771_200 + i, item=item, model_version=mv_b, text=f"左右答案 beta {i}",
                             prompt_tokens=31_338, completion_tokens=27_183, latency_ms=161_804)
        items.append(item)
        cand_ids += [a.pk, b.pk]
    rnd = services.round_create(project=world.project, user=world.users["manager"], name="Marmoset vs Narwhal round",
                                model_a=mv_a, model_b=mv_b, items=items, overlap=2)
    secrets = ["Marmoset", "Narwhal", "913572", "913573", "Qwen-Hidden-Base", "Llama-Hidden-Base", "Quokka", "Wombat",
               "31337", "31338", "27182", "27183", "161803", "161804", f"round/{rnd.pk}", f"rounds/{rnd.pk}",
               *[str(c) for c in cand_ids], "Reference-Key", "Final-Key"]
    return rnd, secrets


def _assert_blind(text: str, secrets: list[str], where: str):
    leaked = [s for s in secrets if s in text]
    assert not leaked, f"{where} leaks {leaked}"


def test_it_hides_model_identity_on_every_review_page_and_api(world, client_as, api_as, secret_round):
    rnd, secrets = secret_round
    reviewer = world.users["reviewer"]
    pid = world.project.pk
    client = client_as(reviewer)
    responses = {}
    responses["page"] = client.get(reverse("review-next", kwargs={"project_id": pid}))
    responses["page htmx"] = client.get(reverse("review-next", kwargs={"project_id": pid}), HTTP_HX_REQUEST="true")
    held = Comparison.objects.get(claims__reviewer=reviewer)
    kw = {"project_id": pid, "public_id": held.public_id}
    responses["invalid submit"] = client.post(reverse("review-submit", kwargs=kw), {"preference": "left"},
                                              HTTP_HX_REQUEST="true")
    responses["submit"] = client.post(reverse("review-submit", kwargs=kw), SCORES, HTTP_HX_REQUEST="true")
    responses["submit again"] = client.post(reverse("review-submit", kwargs=kw), SCORES, HTTP_HX_REQUEST="true")
    nxt = Comparison.objects.get(claims__reviewer=reviewer, claims__state="open")
    responses["skip"] = client.post(reverse("review-skip", kwargs={"project_id": pid, "public_id": nxt.public_id}),
                                    HTTP_HX_REQUEST="true")
    responses["project"] = client.get(reverse("project-detail", kwargs={"project_id": pid}))
    api = api_as(reviewer)
    responses["api next"] = api.get(reverse("api-review-next", kwargs={"project_id": pid}))
    card = responses["api next"].json()
    assert set(card) == {"public_id", "text", "context", "task_type", "left", "right"}
    akw = {"project_id": pid, "public_id": card["public_id"]}
    responses["api bad submit"] = api.post(reverse("api-review-submit", kwargs=akw), {"preference": "x"}, format="json")
    responses["api submit"] = api.post(reverse("api-review-submit", kwargs=akw), SCORES, format="json")
    responses["api double submit"] = api.post(reverse("api-review-submit", kwargs=akw), SCORES, format="json")
    assert responses["api submit"].status_code == 201 and responses["api double submit"].status_code == 201
    assert responses["api double submit"].json() == responses["api submit"].json()
    responses["api next empty"] = api.get(reverse("api-review-next", kwargs={"project_id": pid}))
    for item in {c.item for c in rnd.comparisons.select_related("item")}:
        ikw = {"project_id": pid, "item_id": item.pk}
        responses[f"item {item.pk}"] = client.get(reverse("item-detail", kwargs=ikw))
        responses[f"api item {item.pk}"] = api.get(reverse("api-item-detail", kwargs=ikw))
    for q in ("", "参考", "question"):
        responses[f"items q={q}"] = client.get(reverse("item-list", kwargs={"project_id": pid}), {"q": q})
        responses[f"api items q={q}"] = api.get(reverse("api-item-list", kwargs={"project_id": pid}), {"q": q})
    # search reads the text only, so it cannot be used to probe the reference answers either
    probe = api.get(reverse("api-item-list", kwargs={"project_id": pid}), {"q": "Reference-Key"})
    assert probe.status_code == 200 and probe.json()["results"] == []
    for item in {c.item for c in rnd.comparisons.select_related("item")}:
        assert item.text in responses["items q="].content.decode()  # the sweep looked at the real items
    for where, r in responses.items():
        if where.startswith(("item", "api item")):
            assert r.status_code == 200, where
    for name in ("round-detail", "api-round-detail", "api-round-stats", "round-export"):
        responses[name] = client.get(reverse(name, kwargs={"project_id": pid, "round_id": rnd.pk}))
        assert responses[name].status_code == 404, name
    for name in ("review-stats", "api-review-stats", "round-list", "api-round-list"):
        responses[name] = client.get(reverse(name, kwargs={"project_id": pid}))
        assert responses[name].status_code == 404, name
    for where, r in responses.items():
        assert r.status_code < 500, where
        text = r.content.decode() + " ".join(f"{k}: {v}" for k, v in r.items())
        _assert_blind(text, secrets, where)
    # the texts themselves did reach the reviewer, so the check above looked at real cards
    page = responses["page"].content.decode()
    assert "左右答案" in page and "mmpose 支持吗" in page
    # chat senders are anonymised too
    assert "张三" not in page and "张三" not in responses["api next"].content.decode()


def test_it_hides_model_identity_on_every_get_url_a_reviewer_may_open(world, client_as, secret_round):
    """A sweep over the permission matrix: every GET URL that a reviewer is allowed to open."""
    from tests.test_permissions import MODULES, RULES, URLS

    _rnd, secrets = secret_round
    for m in MODULES:
        if hasattr(m, "setup"):
            m.setup(world)
    client = client_as(world.users["reviewer"])
    checked = 0
    for name, rule in sorted(RULES.items()):
        if rule.method != "get" or "reviewer" not in rule.allowed or name not in URLS:
            continue
        r = client.get(reverse(name, kwargs=rule.kwargs(world)), follow=True)
        # An error page holds no secret either: only a page actually served proves the URL is blind
        # (a redirect, e.g. the login page for a logged-in user, is checked where it lands).
        assert r.status_code == 200, (name, r.status_code)
        body = r.getvalue() if r.streaming else r.content
        _assert_blind(body.decode(errors="replace"), secrets, name)
        checked += 1
    assert checked >= 3


def test_it_gives_reviewers_opaque_non_sequential_ids(world, secret_round):
    rnd, _ = secret_round
    ids = list(rnd.comparisons.values_list("public_id", flat=True))
    assert len(set(ids)) == len(ids)
    assert all(len(i) >= 16 and not i.isdigit() for i in ids)


@pytest.mark.parametrize("persona", PERSONAS)
def test_it_shows_the_review_and_rounds_tabs_by_role(world, client_as, persona):
    r = client_as(world.users[persona]).get(reverse("project-detail", kwargs={"project_id": world.project.pk}))
    if persona == "outsider":
        assert r.status_code == 404
        return
    body = r.content.decode()
    review_url = reverse("review-next", kwargs={"project_id": world.project.pk})
    rounds_url = reverse("round-list", kwargs={"project_id": world.project.pk})
    assert (review_url in body) == (persona in ("admin", "manager", "reviewer"))
    assert (rounds_url in body) == (persona in ("admin", "manager"))


def test_it_hides_gold_items_and_their_answers_from_reviewers(world, client_as, api_as):
    """Gold items look like any other item to a reviewer: no flag, no badge, no gold answer, no final label;
    a manager of the project (and staff) still sees them all."""
    gold = ItemFactory(project=world.project, is_gold=True, gold_values={"verdict": "Gold-Answer-Key"},
                       final_values={"verdict": "Gold-Answer-Key"}, reference_answer="Gold-Reference-Key")
    plain = ItemFactory(project=world.project)
    pid = world.project.pk
    urls = [reverse("item-list", kwargs={"project_id": pid}), reverse("api-item-list", kwargs={"project_id": pid}),
            *[reverse(n, kwargs={"project_id": pid, "item_id": i.pk}) for n in ("item-detail", "api-item-detail")
              for i in (gold, plain)]]
    for persona in ("reviewer", "manager", "admin"):
        client, api = client_as(world.users[persona]), api_as(world.users[persona])
        bodies = []
        for url in urls:
            r = (api if url.startswith("/api/") else client).get(url)
            assert r.status_code == 200, (persona, url)
            bodies.append(r.content.decode())
        text = " ".join(bodies)
        if persona == "reviewer":
            assert gold.text in text  # the sweep looked at the real item
            leaked = [s for s in ("Gold-Answer-Key", "Gold-Reference-Key", "is_gold", "gold_values",
                                  'class="badge"', "final_values", "reference_answer") if s in text]
            assert not leaked, leaked
        else:
            assert "Gold-Answer-Key" in text and "Gold-Reference-Key" in text and '"is_gold":true' in text


def test_it_shows_a_reviewer_who_also_manages_the_answer_key(world, client_as):
    from labelstudio_app.accounts.models import Membership

    reviewer = world.users["reviewer"]
    item = ItemFactory(project=world.project, reference_answer="Managed-Reference-Key")
    url = reverse("item-detail", kwargs={"project_id": world.project.pk, "item_id": item.pk})
    assert "Managed-Reference-Key" not in client_as(reviewer).get(url).content.decode()
    Membership.objects.create(user=reviewer, project=world.project, role="manager")
    assert "Managed-Reference-Key" in client_as(reviewer).get(url).content.decode()
