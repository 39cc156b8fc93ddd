from tests.access_rules import MANAGERS, REVIEWERS, Rule

SCORES = {"left_helpfulness": 4, "left_honesty": 4, "left_harmlessness": 5, "right_helpfulness": 2,
          "right_honesty": 3, "right_harmlessness": 5, "preference": "left", "comment": "ok"}


def setup(world):
    from labelstudio_app.review.services import round_create
    from tests.review.factories import lease, review_setup

    mv_a, mv_b, items = review_setup(world.project, n_items=2)
    rnd = round_create(project=world.project, user=world.users["manager"], name="access round", model_a=mv_a,
                       model_b=mv_b, items=items, overlap=3)
    world.extra["round"] = rnd
    world.extra["comparison"] = rnd.comparisons.order_by("id").first()
    for persona in ("admin", "manager", "reviewer"):  # a submit needs the reviewer's own lease
        lease(world.comparison, world.users[persona])


def _p(w):
    return {"project_id": w.project.pk}


def _r(w):
    return {"project_id": w.project.pk, "round_id": w.round.pk}


def _c(w):
    return {"project_id": w.project.pk, "public_id": w.comparison.public_id}


def _new_round(w):
    return {"name": "new", "model_a": w.round.model_a_id, "model_b": w.round.model_b_id, "overlap": 1, "n_gold": 0}


RULES = {
    "review-next": Rule(allowed=REVIEWERS, kwargs=_p),
    "review-submit": Rule(allowed=REVIEWERS, kwargs=_c, method="post", data=lambda w: SCORES),
    "review-skip": Rule(allowed=REVIEWERS, kwargs=_c, method="post", data=lambda w: {}),
    "review-stats": Rule(allowed=MANAGERS, kwargs=_p),
    "round-list": Rule(allowed=MANAGERS, kwargs=_p),
    "round-create": Rule(allowed=MANAGERS, kwargs=_p, method="post", data=_new_round),
    "round-detail": Rule(allowed=MANAGERS, kwargs=_r),
    "round-status": Rule(allowed=MANAGERS, kwargs=_r, method="post", data=lambda w: {"status": "closed"}),
    "round-export": Rule(allowed=MANAGERS, kwargs=_r),
    "round-export-parquet": Rule(allowed=MANAGERS, kwargs=_r),
    "round-export-hf": Rule(allowed=MANAGERS, kwargs=_r),
    "round-comparison-flag": Rule(allowed=MANAGERS, method="post", data=lambda w: {"side": "a"},
                                  kwargs=lambda w: {**_r(w), "comparison_id": w.comparison.pk}),
    "api-round-list": Rule(allowed=MANAGERS, kwargs=_p, api=True),
    "api-round-detail": Rule(allowed=MANAGERS, kwargs=_r, api=True),
    "api-round-stats": Rule(allowed=MANAGERS, kwargs=_r, api=True),
    "api-round-export": Rule(allowed=MANAGERS, kwargs=_r, api=True),
    "api-round-export-parquet": Rule(allowed=MANAGERS, kwargs=_r, api=True),
    "api-round-export-hf": Rule(allowed=MANAGERS, kwargs=_r, api=True),
    "api-round-flag": Rule(allowed=MANAGERS, kwargs=_r, api=True, method="post", fmt="json",
                           data=lambda w: {"comparison": w.comparison.pk, "side": "b"}),
    "api-review-stats": Rule(allowed=MANAGERS, kwargs=_p, api=True),
    "api-review-next": Rule(allowed=REVIEWERS, kwargs=_p, api=True),
    "api-review-submit": Rule(allowed=REVIEWERS, kwargs=_c, api=True, method="post", fmt="json", data=lambda w: SCORES),
}
