"""What a failed job tells its owner: the message, never a traceback or where files sit on the server.

The traceback goes to the job's log, which only staff see (templates/jobs/detail.html)."""
import re
from pathlib import PurePosixPath

from django.conf import settings

TRACEBACK_HEAD = "Traceback (most recent call last):"
# An absolute POSIX path of two or more parts; a '/' right after a word, '.', ':' or '/' is not a path's start
# (so "usage / api", "a/b" and URLs are left alone).
_PATH_RE = re.compile(r"(?<![\w.:/~-])/[^\s'\"`<>|;,()\[\]{}]+(?:/[^\s'\"`<>|;,()\[\]{}]+)+")


def path_public(path: str) -> str:
    """A server path as a user may see it: relative to the data dir when inside it, else the file's name."""
    trailing = ""
    while path and path[-1] in ".:":  # the end of a sentence, not of the path
        path, trailing = path[:-1], path[-1] + trailing
    data_dir = str(settings.DATA_DIR).rstrip("/")
    if path == data_dir:
        return "." + trailing
    if path.startswith(data_dir + "/"):
        return path[len(data_dir) + 1:] + trailing
    return PurePosixPath(path).name + trailing


def paths_public(text: str) -> str:
    """Every absolute path in `text` rewritten by `path_public`."""
    return _PATH_RE.sub(lambda m: path_public(m.group(0)), text)


def without_traceback(text: str) -> str:
    """The text before an embedded traceback, plus the traceback's last line (the exception itself)."""
    if TRACEBACK_HEAD not in text:
        return text
    before, _sep, tb = text.partition(TRACEBACK_HEAD)
    lines = [line.strip() for line in tb.splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    return "\n".join(part for part in (before.strip(), last) if part)


def error_public(text: str) -> str:
    """A job error fit for its owner: no traceback, no server paths."""
    return paths_public(without_traceback(text)).strip()
