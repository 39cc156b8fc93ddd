"""Fills empty msgstr entries of locale/zh_Hans/LC_MESSAGES/django.po from locale/zh_Hans/glossary.tsv.

    python scripts/fill_translations.py        # then: manage.py compilemessages

The glossary (English<TAB>Chinese, one per line) is the one place translations are written; .po files are regenerated
by `manage.py makemessages`. Reports every msgid still untranslated.
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale/zh_Hans/LC_MESSAGES/django.po"
GLOSSARY = ROOT / "locale/zh_Hans/glossary.tsv"


def _unquote(block: str) -> str:
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', block)).encode().decode("unicode_escape").encode("latin-1").decode()


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def main() -> int:
    glossary = {}
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            en, zh = line.split("\t", 1)
            glossary[en.replace("\\n", "\n")] = zh.replace("\\n", "\n")
    entries = PO.read_text(encoding="utf-8").split("\n\n")
    missing = []
    out = []
    for entry in entries:
        # zh_Hans has one plural form (nplurals=1): msgstr[0] of a plural entry comes from the singular's line.
        m = re.search(r'(?ms)^msgid (".*?")\n(?:msgid_plural ".*?"\n)?msgstr(?:\[0\])? (".*?")\s*\Z', entry)
        if m:
            msgid = _unquote(m.group(1))
            if msgid and msgid in glossary:
                entry = entry[: m.start(2)] + _quote(glossary[msgid])
                # makemessages marks guessed entries "#, fuzzy" or "#, fuzzy, python-format"; a glossary line confirms it
                entry = re.sub(r"(?m)^#, fuzzy(?:, )?(.*)\n", lambda f: f"#, {f.group(1)}\n" if f.group(1) else "", entry)
            elif msgid:
                missing.append(msgid)
        out.append(entry)
    text = "\n\n".join(out)
    text = text.replace('"Content-Type: text/plain; charset=CHARSET\\n"', '"Content-Type: text/plain; charset=UTF-8\\n"')
    PO.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    for msgid in missing:
        print(f"untranslated: {msgid!r}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
