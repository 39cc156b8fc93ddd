"""The layers hold: core is the ground floor, each layer imports only those below it, the web side never
imports the workers or the ML stack, and bench/ never imports the tests (docs/rules.md)."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "labelstudio_app"
# Lower number = lower floor. Domains on the same floor may import each other.
LAYERS = {"core": 0, "accounts": 1, "jobs": 2, "projects": 3, "labelling": 4, "evaluation": 4, "review": 4,
          "training": 4, "audit": 4, "demo": 5}
WEB_NEVER = ("workers", "torch", "transformers", "peft", "vllm")


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
    return out


def _sources(folder: Path):
    return [p for p in folder.rglob("*.py") if "migrations" not in p.parts]


@pytest.mark.parametrize("domain", sorted(LAYERS))
def test_it_imports_no_domain_above_its_own_floor(domain):
    wrong = set()
    for path in _sources(APP / domain):
        for name in _imports(path):
            parts = name.split(".")
            above = parts[0] == "labelstudio_app" and len(parts) > 1 and LAYERS.get(parts[1], -1) > LAYERS[domain]
            if above:
                wrong.add(f"{path.relative_to(ROOT)} imports {name}")
    assert not wrong, sorted(wrong)


def test_it_keeps_the_web_side_off_the_workers_and_the_ml_stack():
    wrong = {f"{p.relative_to(ROOT)} imports {n}" for p in _sources(APP) for n in _imports(p)
             if n.split(".")[0] in WEB_NEVER}
    assert not wrong, sorted(wrong)


def test_it_keeps_bench_off_the_tests():
    wrong = {f"{p.relative_to(ROOT)} imports {n}" for p in _sources(ROOT / "bench") for n in _imports(p)
             if n.split(".")[0] == "tests"}
    assert not wrong, sorted(wrong)


def test_every_chart_is_drawn_by_the_one_drawer():
    """SVG markup lives in templates/charts/ only; Python computes geometry and never builds markup."""
    templates = {p.relative_to(ROOT) for p in (ROOT / "templates").rglob("*.html")
                 if "<svg" in p.read_text(encoding="utf-8") and p.parent.name != "charts"}
    python = {p.relative_to(ROOT) for p in _sources(APP) if "<svg" in p.read_text(encoding="utf-8")}
    assert not templates and not python, sorted(map(str, templates | python))
