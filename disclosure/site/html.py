"""Small HTML helpers shared by the page, report and feed renderers."""

from __future__ import annotations

import posixpath
from html import escape

__all__ = ["escape", "rel", "human_size", "attrs"]


def rel(from_dir_url: str, to_url: str) -> str:
    """Relative link between two site-root-relative URLs ('' is the home page; dirs end in '/')."""
    base = "/" + from_dir_url
    target = "/" + to_url
    out = posixpath.relpath(target, base if base.endswith("/") else posixpath.dirname(base))
    if (to_url.endswith("/") or to_url == "") and not out.endswith("/"):
        out += "/"
    return "./" if out in (".", "./") else out


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def attrs(**kw) -> str:
    return "".join(f' {k.rstrip("_").replace("_", "-")}="{escape(str(v))}"' for k, v in kw.items() if v is not None)
