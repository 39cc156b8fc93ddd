import dataclasses

import pytest
from django.core.exceptions import ValidationError

from labelstudio_app.evaluation.params import DEFAULTS, params_hash, params_normalise
from workers.generation.base import SamplingParams


def test_it_fills_defaults_from_the_worker_sampling_params():
    assert params_normalise(None) == SamplingParams().to_dict() == DEFAULTS
    assert [f.name for f in dataclasses.fields(SamplingParams)] == list(DEFAULTS)


def test_it_coerces_form_strings():
    p = params_normalise({"temperature": "0.2", "top_k": "40", "seed": ""})
    assert p["temperature"] == 0.2 and p["top_k"] == 40 and p["seed"] is None


@pytest.mark.parametrize("params, field", [
    ({"temperature": -1}, "temperature"), ({"top_p": 1.5}, "top_p"), ({"top_k": 1.5}, "top_k"),
    ({"max_new_tokens": 0}, "max_new_tokens"), ({"seed": "abc"}, "seed"), ({"top_p": 0}, "top_p"),
    ({"temperature": True}, "temperature"), ({"tempreature": 1}, "tempreature"),
])
def test_it_names_the_bad_field(params, field):
    with pytest.raises(ValidationError) as exc:
        params_normalise(params)
    assert field in str(exc.value)


def test_it_hashes_the_normalised_params():
    assert params_hash({}) == params_hash(DEFAULTS) == params_hash({"temperature": "0.7"})
    assert params_hash({"seed": 1}) != params_hash({"seed": 2})
    assert len(params_hash({})) == 64
