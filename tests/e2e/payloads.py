"""Hostile text that must always show as text: imported items, candidates, names, job messages."""

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
JS_LINK = '<a href="javascript:alert(1)">click me</a>'
ATTR = '" onmouseover="alert(1)" x="'
ALL = f"{SCRIPT} {IMG} {JS_LINK} {ATTR} 中文"


def assert_inert(page) -> None:
    """The hostile markup is on the page as text, and the DOM holds no element or handler it would create."""
    body = page.inner_text("body")
    assert SCRIPT in body and IMG in body, "the payload should be visible as text"
    assert_no_active_content(page)


def assert_no_active_content(page) -> None:
    """No inline script, no on* attribute, no javascript: URL anywhere in the DOM."""
    assert page.evaluate("""() => {
        const bad = [];
        for (const s of document.querySelectorAll('script')) { if (!s.src || s.textContent.includes('alert')) bad.push('script'); }
        for (const el of document.querySelectorAll('*')) {
            for (const a of el.attributes) {
                if (a.name.startsWith('on')) bad.push(el.tagName + '[' + a.name + ']');
                if (/^\\s*javascript:/i.test(a.value)) bad.push(el.tagName + '[' + a.name + '=javascript:]');
            }
        }
        return bad;
    }""") == []
