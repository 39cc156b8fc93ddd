"""Agreement numbers against independent references: scikit-learn and the krippendorff package."""
import random

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from labelstudio_app.labelling import agreement
from labelstudio_app.projects.schema import schema_validate
from tests.labelling.factories import DEMO_SCHEMA


def _random_units(seed, n_units=60, n_coders=4, n_values=4, missing=0.25):
    rng = random.Random(seed)
    units = []
    for _ in range(n_units):
        truth = rng.randrange(n_values)
        row = [None if rng.random() < missing else (truth if rng.random() < 0.7 else rng.randrange(n_values))
               for _ in range(n_coders)]
        units.append(row)
    return units


def _reference_alpha(units, level):
    data = np.array([[np.nan if v is None else float(v) for v in row] for row in units]).T  # coders x units
    return krippendorff.alpha(reliability_data=data, level_of_measurement=level)


@pytest.mark.parametrize("seed", range(5))
def test_it_matches_sklearn_cohen_kappa(seed):
    rng = random.Random(seed)
    a = [rng.choice("yn?") for _ in range(50)]
    b = [x if rng.random() < 0.6 else rng.choice("yn?") for x in a]
    assert agreement.cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))


@pytest.mark.parametrize("level", ["nominal", "ordinal"])
@pytest.mark.parametrize("seed", range(5))
def test_it_matches_the_krippendorff_package_with_missing_values(seed, level):
    units = _random_units(seed)
    assert agreement.krippendorff_alpha(units, level) == pytest.approx(_reference_alpha(units, level))


def test_it_matches_krippendorffs_worked_example():
    # Krippendorff (2011), the 4 coders x 12 units example with missing values: nominal alpha = 0.743
    coders = [[1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
              [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
              [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
              [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]]
    units = [list(col) for col in zip(*coders)]
    assert agreement.krippendorff_alpha(units, "nominal") == pytest.approx(0.743, abs=5e-4)
    assert agreement.krippendorff_alpha(units, "ordinal") == pytest.approx(_reference_alpha(units, "ordinal"))


def test_it_is_undefined_when_everyone_gives_one_value():
    assert agreement.krippendorff_alpha([[1, 1], [1, 1]]) is None
    assert agreement.cohen_kappa(["y", "y"], ["y", "y"]) is None


def test_it_reports_kappa_for_two_annotators_and_alpha_per_question():
    schema = schema_validate([*DEMO_SCHEMA, {"name": "clarity", "kind": "rating", "min": 1, "max": 5}])
    rng = random.Random(7)
    annotations, a_choices, b_choices = [], [], []
    for item in range(40):
        a = rng.choice(["yes", "no", "not_question"])
        b = a if rng.random() < 0.7 else rng.choice(["yes", "no", "not_question"])
        a_choices.append(a)
        b_choices.append(b)
        annotations.append((item, "ann", {"needs_context": a, "clarity": rng.randint(1, 5)}))
        annotations.append((item, "bob", {"needs_context": b, "clarity": rng.randint(1, 5),
                                          **({"flags": ["robust_prompt"]} if item % 3 == 0 else {})}))
    annotations.append((99, "ann", {"needs_context": "yes"}))  # a single annotation: no overlap, not counted
    rows = {r["name"]: r for r in agreement.question_agreement(schema, annotations)}
    assert "rewrite" not in rows  # free text has no agreement number
    assert rows["needs_context"]["items"] == 40 and rows["needs_context"]["annotators"] == 2
    assert rows["needs_context"]["kappa"] == pytest.approx(cohen_kappa_score(a_choices, b_choices))
    codes = {"yes": 0, "no": 1, "not_question": 2}
    units = [[codes[a], codes[b]] for a, b in zip(a_choices, b_choices)]
    assert rows["needs_context"]["alpha"] == pytest.approx(_reference_alpha(units, "nominal"))
    assert rows["clarity"]["level"] == "ordinal"
    clar = [[v["clarity"] for i, _w, v in annotations if i == item] for item in range(40)]
    assert rows["clarity"]["alpha"] == pytest.approx(_reference_alpha(clar, "ordinal"))
    assert rows["flags"]["kappa"] == pytest.approx(0.0)  # ann never flags, bob flags a third: no agreement


def test_it_measures_gold_accuracy_per_annotator_and_question():
    schema = schema_validate(DEMO_SCHEMA)
    gold = {"needs_context": "yes", "task_type": "deployment / edge"}
    rows = [("ann", {"needs_context": "yes", "task_type": "deployment / edge"}, gold),
            ("ann", {"needs_context": "no", "task_type": "deployment / edge"}, gold),
            ("bob", {"needs_context": "yes", "task_type": "install / build"}, gold)]
    acc = agreement.gold_accuracy(schema, rows)
    assert acc["ann"]["questions"]["needs_context"] == {"accuracy": 0.5, "answers": 2}
    assert acc["ann"]["questions"]["task_type"]["accuracy"] == 1.0
    assert acc["ann"]["overall"] == 0.75 and acc["bob"]["overall"] == 0.5
    assert agreement.speed([1000, 3000, 2000]) == {"count": 3, "median_s": 2.0}
