"""File modes for what workers write and another process reads (a vLLM server, the web app, another user)."""
import os
from pathlib import Path


def share_tree(root: str | Path) -> None:
    """Makes root and everything under it readable by all: folders 0755, files 0644.

    Writers such as safetensors and mkdtemp create 0600/0700 entries, which a serving process running as
    another user could not open."""
    root = Path(root)
    if root.is_file():
        os.chmod(root, 0o644)
        return
    os.chmod(root, 0o755)
    for parent, dirs, files in os.walk(root):
        for name in dirs:
            os.chmod(os.path.join(parent, name), 0o755)
        for name in files:
            os.chmod(os.path.join(parent, name), 0o644)
