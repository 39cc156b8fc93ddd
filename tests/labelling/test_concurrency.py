"""Many annotators at once, each thread on its own PostgreSQL connection."""
import threading
from collections import Counter

import pytest
from django.db import connection

from labelstudio_app.labelling import services
from labelstudio_app.labelling.models import Annotation, Assignment
from labelstudio_app.projects.models import Item
from tests.labelling.factories import YES, labelling_project

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="SQLite serialises every writer, so there is no concurrency to test; CI runs PostgreSQL"),
]


def _annotate_until_empty(project, user, submitted, errors, barrier):
    from django.db import connection as thread_connection

    try:
        barrier.wait()
        while True:
            item = services.item_next_for_annotator(project=project, user=user)
            if item is None:
                return
            item = Item.objects.select_related("project").get(pk=item.pk)
            services.annotation_submit(item=item, user=user, values=YES, time_spent_ms=5)
            submitted.append((user.pk, item.pk))
    except Exception as exc:
        errors.append(repr(exc))
    finally:
        thread_connection.close()


@pytest.mark.parametrize("overlap", [1, 3])
def test_it_never_over_assigns_under_concurrent_annotators(overlap):
    n_items, n_annotators = 40, 8
    project, users = labelling_project(overlap=overlap, items=n_items, annotators=n_annotators)
    submitted, errors = [], []
    barrier = threading.Barrier(n_annotators)
    threads = [threading.Thread(target=_annotate_until_empty, args=(project, u, submitted, errors, barrier))
               for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)  # generous: a loaded machine is slow, and a thread still running would read as lost submits
    assert not errors
    assert len(submitted) == len(set(submitted)) == n_items * overlap  # every submit stored, none twice
    per_item = Counter(Annotation.objects.filter(item__project=project).values_list("item_id", flat=True))
    assert len(per_item) == n_items and set(per_item.values()) == {overlap}  # none over-assigned
    assert Annotation.objects.filter(item__project=project).count() == len(submitted)
    assert Assignment.objects.filter(project=project).exclude(state="submitted").count() == 0
    done = Item.objects.filter(project=project, status="done").count()
    assert done == n_items  # identical answers agree, so every item got its final label
