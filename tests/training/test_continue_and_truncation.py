"""Continuing from an adapter proposes a lower learning rate and mixes in a seeded share of the parent run's
snapshot; the run page shows how many answers the maximum length cut."""
import json
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from labelstudio_app.evaluation.models import ModelVersion
from labelstudio_app.jobs.models import Job
from labelstudio_app.training import services
from labelstudio_app.training.forms import TrainingForm
from labelstudio_app.training.models import TrainingRun
from labelstudio_app.training.selectors import model_version_list_trainable
from tests.conftest import make_world
from tests.training.factories import approved_items, base_version


def _parent_run(world, tiny_model_dir):
    admin = world.users["admin"]
    items = approved_items(world.project, 20)
    base = base_version(world.project, admin, tiny_model_dir)
    parent_snap = services.snapshot_create(project=world.project, user=admin, name="first", recipe={})
    parent = services.training_run_create(project=world.project, user=admin, base_version=base,
                                          snapshot=parent_snap, hyperparams={"max_seq_length": 128})
    adapter = ModelVersion.objects.create(project=world.project, name="tiny + LoRA", base_model=base.base_model,
                                          adapter_path="/artifacts/adapters/1", parent=base,
                                          metadata={"training_run": parent.pk})
    return admin, items, base, adapter


def test_it_proposes_a_lower_learning_rate_when_continuing_from_an_adapter(db, tiny_model_dir):
    world = make_world()
    _admin, _items, base, adapter = _parent_run(world, tiny_model_dir)
    versions = model_version_list_trainable(project=world.project)
    fresh = TrainingForm(model_versions=versions, snapshots=None, base_version=base)
    assert float(fresh.fields["hp_learning_rate"].initial) == 2e-4
    continued = TrainingForm(model_versions=versions, snapshots=None, base_version=adapter)
    assert float(continued.fields["hp_learning_rate"].initial) <= 2e-5
    assert continued.fields["base_version"].initial == adapter.pk
    # Every default fits the model: the tiny model accepts fewer positions than the generic default of 1024.
    limit = json.loads((Path(base.base_model) / "config.json").read_text())["max_position_embeddings"]
    assert limit < 1024
    assert int(fresh.fields["hp_max_seq_length"].initial) <= limit


def test_it_mixes_in_a_seeded_share_of_the_parent_snapshot_never_a_heldout_item(db, tiny_model_dir):
    world = make_world()
    admin, items, base, adapter = _parent_run(world, tiny_model_dir)
    approved_items(world.project, 10, start=100)
    snap = services.snapshot_create(project=world.project, user=admin, name="second",
                                    recipe={"heldout": {"n": 5}, "seed": 1})
    run = services.training_run_create(project=world.project, user=admin, base_version=adapter, snapshot=snap,
                                       hyperparams={"max_seq_length": 128, "seed": 7}, old_data_fraction=0.5)
    assert run.hyperparams["learning_rate"] == services.CONTINUE_LEARNING_RATE
    parent_snap = TrainingRun.objects.get(pk=adapter.metadata["training_run"]).snapshot
    held_in_parent = len(set(snap.heldout_item_ids) & {i.pk for i in items})
    assert run.old_data == {"snapshot_id": parent_snap.pk, "snapshot_sha256": parent_snap.sha256, "fraction": 0.5,
                            "seed": 7, "rows": round((parent_snap.row_count - held_in_parent) * 0.5)}
    again = services.training_run_create(project=world.project, user=admin, base_version=adapter, snapshot=snap,
                                         hyperparams={"max_seq_length": 128, "seed": 7}, old_data_fraction=0.5)
    assert again.old_data == run.old_data
    with pytest.raises(ValidationError, match="no old data to mix in"):
        services.training_run_create(project=world.project, user=admin, base_version=base, snapshot=snap,
                                     old_data_fraction=0.2)
    with pytest.raises(ValidationError, match="between 0 and 1"):
        services.training_run_create(project=world.project, user=admin, base_version=adapter, snapshot=snap,
                                     old_data_fraction=1.5)


def test_it_shows_how_many_answers_the_maximum_length_cut_on_the_run_page(db, tiny_model_dir, client_as):
    world = make_world()
    admin, _items, _base, _adapter = _parent_run(world, tiny_model_dir)
    run = TrainingRun.objects.filter(project=world.project).first()
    Job.objects.filter(pk=run.job_id).update(state="succeeded", result={
        "examples": 20, "truncated": 3, "truncated_eot_lost": 2, "steps": 5})
    page = client_as(admin).get(f"/projects/{world.project.pk}/training/{run.pk}/").content.decode()
    assert "3 of 20 training examples had their answer cut by the maximum length (128 tokens); 2 of them lost " \
           "their end-of-turn token." in page
    assert "may not stop" in page
