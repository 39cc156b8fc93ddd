"""A Content-Security-Policy that forbids inline scripts on every page, and templates that never need one."""
import re
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from tests.conftest import ROOT
from tests.security.matrix import RULES, URLS, first_allowed, request, rule_for, world_with_objects

PAGES = sorted(n for n in URLS if n and RULES.get(n) and RULES[n].method == "get")
TEMPLATES = sorted(p for p in (ROOT / "templates").rglob("*.html"))
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>\s*\S", re.IGNORECASE | re.DOTALL)
STYLE_ATTR = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.IGNORECASE | re.DOTALL)
EVENT_ATTR = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE | re.DOTALL)


def _csp(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    return {d.split()[0]: d.split()[1:] for d in (x.strip() for x in header.split(";")) if d}


@pytest.mark.parametrize("name", PAGES)
def test_it_sends_a_csp_without_inline_scripts(name, db):
    rule = rule_for(name)
    world = world_with_objects()
    client = APIClient()
    client.force_login(world.users[first_allowed(rule)])
    r = request(client, name, rule, world)
    assert r.status_code < 500, (name, r.status_code)
    csp = _csp(r)
    scripts = csp.get("script-src", csp.get("default-src"))
    assert scripts, (name, r.headers.get("Content-Security-Policy"))
    assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"} & set(scripts), (name, scripts)
    assert csp.get("object-src") == ["'none'"] and csp.get("frame-ancestors") == ["'none'"]
    assert r.headers.get("X-Content-Type-Options") == "nosniff"
    if r.status_code == 200 and r.headers.get("Content-Type", "").startswith("text/html"):
        html = r.content.decode()
        assert not INLINE_SCRIPT.search(html), (name, INLINE_SCRIPT.search(html).group(0)[:200])
        assert not STYLE_ATTR.search(html), (name, STYLE_ATTR.search(html).group(0)[:200])
        assert not EVENT_ATTR.search(html), (name, EVENT_ATTR.search(html).group(0)[:200])


def test_it_sends_the_csp_on_errors_too(client, db):
    for path in ("/accounts/login/", "/no-such-page/", "/healthz"):
        r = client.get(path)
        assert "script-src 'self'" in r.headers.get("Content-Security-Policy", ""), path
    # Static files are served before the CSP middleware (a policy on a script file has no effect anyway),
    # but they must never be sniffed into another type.
    r = client.get("/static/js/app.js")
    assert r.status_code == 200 and r.headers.get("X-Content-Type-Options") == "nosniff"


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT / "templates")))
def test_it_keeps_templates_free_of_inline_code_and_unescaped_output(path: Path):
    text = path.read_text()
    problems = []
    for label, pattern in (("inline <script> body", INLINE_SCRIPT), ("style= attribute", STYLE_ATTR),
                           ("on…= event handler attribute", EVENT_ATTR),
                           ("|safe filter", re.compile(r"\|\s*safe\b")),
                           ("autoescape off", re.compile(r"{%\s*autoescape\s+off")),
                           ("javascript: URL", re.compile(r"javascript:", re.IGNORECASE))):
        for m in pattern.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            problems.append(f"{path.relative_to(ROOT)}:{line}: {label}: {m.group(0)[:80]!r}")
    assert not problems, "\n".join(problems)
