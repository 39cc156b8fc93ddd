"""Preference pairs for DPO / reward modelling: streamed as JSONL (one decisive judgment a line), or written
as Parquet / a zipped Hugging Face `datasets` folder (core.columnar) with the same fields."""
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
from django.db.models import QuerySet

from labelstudio_app.core.columnar import write_columnar
from labelstudio_app.projects.chat import anonymise_context
from labelstudio_app.review.models import Judgment

DIMENSIONS = ("helpfulness", "honesty", "harmlessness")
FILE_EXTENSIONS = {"parquet": "parquet", "hf": "hf.zip"}
_SCORES = pa.struct([(d, pa.int64()) for d in DIMENSIONS])
PAIR_SCHEMA = pa.schema([
    ("prompt", pa.string()),
    ("context", pa.list_(pa.struct([("speaker", pa.string()), ("text", pa.string()), ("time", pa.string()),
                                    ("is_asker", pa.bool_())]))),
    ("chosen", pa.string()), ("rejected", pa.string()), ("task_type", pa.string()),
    ("chosen_scores", _SCORES), ("rejected_scores", _SCORES),
    ("chosen_model", pa.string()), ("rejected_model", pa.string()),
    ("round", pa.int64()), ("item_id", pa.int64()), ("external_id", pa.string()), ("comparison", pa.string()),
])


def preference_pairs(*, rounds: QuerySet) -> Iterator[str]:
    """The pairs as JSONL lines."""
    for row in preference_rows(rounds=rounds):
        yield json.dumps(row, ensure_ascii=False) + "\n"


def preference_pairs_write(*, rounds: QuerySet, container: str, path: Path | BinaryIO,
                           folder: str = "preferences") -> int:
    """The pairs as Parquet (`container="parquet"`) or a zipped `datasets` folder (`"hf"`); returns the rows."""
    return write_columnar(preference_rows(rounds=rounds), container=container, schema=PAIR_SCHEMA, path=path,
                          folder=folder)


def preference_pairs_file(*, rounds: QuerySet, container: str, folder: str) -> BinaryIO:
    """The columnar export in an anonymous temporary file, rewound (deleted when closed)."""
    out = tempfile.TemporaryFile()
    preference_pairs_write(rounds=rounds, container=container, path=out, folder=folder)
    out.seek(0)
    return out


def preference_rows(*, rounds: QuerySet) -> Iterator[dict]:
    """Every decisive judgment (A or B preferred; ties and both-bad skipped) of non-gold, non-withdrawn
    comparisons: prompt, chosen, rejected, task type, both sides' 3H scores and which model wrote each."""
    qs = (Judgment.objects.filter(comparison__round__in=rounds, comparison__withdrawn=False,
                                  comparison__is_gold=False, preference__in=("a", "b"))
          .select_related("comparison__item", "comparison__candidate_a", "comparison__candidate_b",
                          "comparison__round__model_a", "comparison__round__model_b")
          .order_by("comparison__round_id", "comparison_id", "id"))
    for j in qs.iterator(chunk_size=1000):
        c = j.comparison
        item, rnd = c.item, c.round
        text_a = c.candidate_a.text
        text_b = c.candidate_b.text if c.candidate_b_id else item.reference_answer
        model_a = rnd.model_a.name
        model_b = rnd.model_b.name if rnd.model_b_id else "reference"
        scores_a = {d: getattr(j, f"a_{d}") for d in DIMENSIONS}
        scores_b = {d: getattr(j, f"b_{d}") for d in DIMENSIONS}
        a_won = j.preference == "a"
        row = {
            "prompt": item.text, "context": anonymise_context(item.context),
            "chosen": text_a if a_won else text_b, "rejected": text_b if a_won else text_a,
            "task_type": item.task_type,
            "chosen_scores": scores_a if a_won else scores_b, "rejected_scores": scores_b if a_won else scores_a,
            "chosen_model": model_a if a_won else model_b, "rejected_model": model_b if a_won else model_a,
            "round": rnd.pk, "item_id": item.pk, "external_id": item.external_id, "comparison": c.public_id,
        }
        yield row
