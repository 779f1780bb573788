"""Where record files may live: under `content/<records_dir>/`, named `*.md`.

A record saved anywhere else would be published by MkDocs as an ordinary page (a draft too, with
its front matter ignored), and a record named `*.markdown` or `*.MD` would be skipped without a
word. Both are errors here, with the fix. Decision: only the exact, lower-case `.md` extension is a
record; other Markdown extensions under the records folder (`.markdown`, `.mdown`, `.mkd`, `.mkdn`,
and any case variant of `.md`) are E114 ("rename it"), never parsed silently or skipped silently.
Hand-written pages elsewhere in `content/` are fine as long as they are not record-shaped (front
matter with `index_no:`, or `type:` naming a record type).

This check reads the folder tree, so it runs as a corpus check (once per validation), not per record.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from disclosure.model.findings import Finding
from disclosure.model.schema import RECORD_TYPES

MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown", ".mkd", ".mkdn")
_RECORD_KEY = re.compile(
    r"^(?:index_no[ \t]*:|type[ \t]*:[ \t]*['\"]?(?:" + "|".join(map(re.escape, RECORD_TYPES)) + r")['\"]?[ \t]*(?:#.*)?$)",
    re.M)


def looks_like_record(path: Path) -> bool:
    """Front matter that names a record type or carries an index_no (read from the first 8 KB)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8192).decode("utf-8", "replace").lstrip("\ufeff").replace("\r\n", "\n")
    except OSError:
        return False
    if not head.startswith("---"):
        return False
    end = re.search(r"^(?:---|\.\.\.)[ \t]*$", head[3:], re.M)
    front = head[3 : 3 + end.start()] if end else head[3:]
    return _RECORD_KEY.search(front) is not None


def tree(top) -> list[tuple[str, str]]:
    """(folder, file name) of every file below `top`, in the order of sorted(Path(top).rglob("*")):
    entries sorted by name, folders entered where their name sorts (Path order compares parts).
    Symbolic links to folders are not followed (as rglob does not). Strings, no Path objects: at
    100,000 records this takes ~0.2 s where rglob and sorting Paths took ~1.2 s."""
    out: list = []

    def walk(folder: str) -> None:
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            return
        for e in entries:
            try:
                is_dir = e.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                walk(e.path)
            else:
                out.append((folder, e.name))

    walk(str(Path(top)))
    return out


def misplaced(cfg):
    """(path, kind) for record files outside the records folder ('outside') and for Markdown files
    under it whose extension is not exactly '.md' ('suffix')."""
    docs = Path(cfg.docs_dir)
    records = docs / cfg.records_dir
    inside = {}
    for folder, name in tree(docs):
        if not name.lower().endswith(MARKDOWN_SUFFIXES):
            continue
        if folder not in inside:
            here = Path(folder)
            inside[folder] = here == records or records in here.parents
        if inside[folder]:
            if not name.endswith(".md"):
                yield Path(folder, name), "suffix"
        elif looks_like_record(Path(folder, name)):
            yield Path(folder, name), "outside"


def check_corpus(records, ctx):
    cfg = ctx.cfg
    for path, kind in misplaced(cfg):
        try:
            rel = path.relative_to(cfg.root).as_posix()
        except ValueError:
            rel = str(path)
        if kind == "outside":
            yield Finding("E113", rel, 1,
                          f"这个文件是一条记录（有 type 或 index_no），但不在 {cfg.docs_dir.name}/{cfg.records_dir}/ 文件夹中，"
                          "会被当作普通网页直接发布（草稿也会）",
                          f"把它移到 {cfg.docs_dir.name}/{cfg.records_dir}/ 下（例如 {cfg.docs_dir.name}/{cfg.records_dir}/年份/单位/）",
                          "")
        else:
            fixed = path.name[: -len(path.suffix)] + ".md"
            yield Finding("E114", rel, 1, f"记录文件的扩展名是「{path.suffix}」，不会被读取，也不会发布",
                          f"把文件改名为 {fixed}（扩展名用小写 .md）", "")
