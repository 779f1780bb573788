"""Page cache: which rendered off-nav page (record pages, paginated lists) is still what a clean build would write.

Where: `.cache/pages/<site>.pkl` beside mkdocs.yml (`DISCLOSURE_CACHE_DIR` moves the `.cache`
folder), next to the validation cache (disclosure/model/cache.py). Git-ignored and safe to delete.
`DISCLOSURE_CACHE=0` turns it off; `--clean` (or `DISCLOSURE_CACHE=clean`) ignores what it holds and
writes it anew. `<site>` is a digest of the output folder's absolute path: the cache describes the
files of one output folder (`site/` of `disclosure build`, the preview folder of `disclosure serve`).

What is kept: for every off-nav page, its *key* and the stat signature (size, mtime_ns, inode) of
the file written for it. No page bytes are kept: a hit reuses the file the previous build wrote —
left in place when the build writes into the same folder (`disclosure serve`), hard-linked into
the new folder when the build is made aside and swapped in (`disclosure build`, which never writes
into a file it links: every page write is a new file renamed into place). A file whose signature
no longer matches (edited, replaced, deleted) is a miss and is rendered again.

The key of a page is a digest of everything that went into it:
- the page's data from the planner (`views.PageData`: its template name, data, the record body,
  meta with breadcrumbs and the nav page it lights up), pickled without memo (so equal values give
  equal bytes whatever objects they share) — as-of-dependent values (有效性, banners, withdrawn
  notices, scheduled records appearing) are in this data, computed by the planner for the build date;
- the global key: the `disclosure` package's own files (code and theme), the hook files, the
  versions of Python, MkDocs, Material, Jinja2, Markdown and pymdown-extensions, every template
  folder's files (the site's override folder and ours by content; Material's and MkDocs' by their
  package version), the MkDocs config (every setting, canonically dumped; the output folder left
  out) and the nav as MkDocs resolved it (titles and URLs of every item).
A settings or template change thus changes every key; a record edit changes the keys of its page,
the lists that show it and the pages that link it (their data hold its title).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import pickle
import re
import sys
from importlib import metadata
from pathlib import Path

FORMAT = 1
log = logging.getLogger("mkdocs.plugins.disclosure")
_PACKAGE = Path(__file__).resolve().parent.parent
_ADDRESS = re.compile(r" at 0x[0-9a-f]+")
UNKEYED_SETTINGS = {"site_dir", "dev_addr", "watch", "config_file_path", "serve_url", "livereload"}


def mode() -> str:
    """'on', 'clean' or 'off', as for the validation cache (same switches)."""
    from disclosure.model import cache

    return cache.mode()


def cache_dir(root: Path) -> Path:
    base = os.environ.get("DISCLOSURE_CACHE_DIR")
    return (Path(base) if base else Path(root) / ".cache") / "pages"


# ------------------------------------------------------------------------------------------- keys
def _dispatch() -> dict:
    """Pickle the page-data dataclasses as (class, field values): 5× faster than their default
    __getstate__, and the same bytes for the same values."""
    import copyreg
    import dataclasses
    import operator

    from disclosure.site import views

    table = dict(copyreg.dispatch_table)
    for obj in vars(views).values():
        if isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj.__module__ == views.__name__:
            names = [f.name for f in dataclasses.fields(obj)]
            get = operator.attrgetter(*names)
            if len(names) == 1:
                table[obj] = lambda o, c=obj, g=get: (c, (g(o),))
            else:
                table[obj] = lambda o, c=obj, g=get: (c, g(o))
    return table


_DISPATCH: dict | None = None


def dumps(obj) -> bytes:
    """Pickle without memo: the bytes depend on the values only (equal values, equal bytes)."""
    global _DISPATCH
    if _DISPATCH is None:
        _DISPATCH = _dispatch()
    buf = io.BytesIO()
    p = pickle.Pickler(buf, protocol=5)
    p.dispatch_table = _DISPATCH
    p.fast = True
    p.dump(obj)
    return buf.getvalue()


def canonical(obj):
    """Plain JSON-able data with a stable order (sets sorted, mappings by key, addresses dropped)."""
    if isinstance(obj, dict):
        return {str(k): canonical(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [canonical(v) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return sorted((canonical(v) for v in obj), key=repr)
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if hasattr(obj, "items") and hasattr(obj, "dirs"):  # mkdocs Theme: a mapping plus dirs
        return {"dirs": [str(d) for d in obj.dirs], "static_templates": sorted(obj.static_templates),
                "vars": canonical(dict(obj.items()))}
    if hasattr(obj, "__file__"):  # a hook module
        return {"module": getattr(obj, "__file__", "")}
    return _ADDRESS.sub("", repr(obj))


def _hash_tree(h, base: Path) -> None:
    for path in sorted(base.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
            h.update(path.relative_to(base).as_posix().encode() + b"\0")
            h.update(path.read_bytes() + b"\0")


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def _package_of(folder: Path) -> str | None:
    """'mkdocs-material==9.x' for Material's template folder, 'mkdocs==1.6.1' for MkDocs' own."""
    for module, dist in (("material", "mkdocs-material"), ("mkdocs", "mkdocs")):
        mod = sys.modules.get(module)
        if mod is None or not getattr(mod, "__file__", None):
            continue
        root = Path(mod.__file__).resolve().parent
        if folder == root or root in folder.parents:
            return f"{dist}=={_version(dist)}"
    return None


def nav_digest(nav) -> list:
    """The nav as MkDocs resolved it: (kind, title, url, children) of every item."""
    def item(x):
        kind = type(x).__name__
        return [kind, str(x.title or ""), getattr(x, "url", None) or "", [item(c) for c in (x.children or [])]]

    return [item(x) for x in nav.items] if nav is not None else []


def global_key(config, nav) -> str:
    """Everything every page depends on (see the module docstring)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{FORMAT}|{sys.version}".encode())
    for dist in ("mkdocs", "mkdocs-material", "Jinja2", "Markdown", "pymdown-extensions", "MarkupSafe"):
        h.update(f"|{dist}={_version(dist)}".encode())
    _hash_tree(h, _PACKAGE)
    for name, hook in (config.get("hooks") or {}).items():
        f = getattr(hook, "__file__", None)
        if f and Path(f).is_file():
            h.update(name.encode() + b"\0" + Path(f).read_bytes())
    for d in config.theme.dirs:
        folder = Path(d).resolve()
        h.update(b"\0dir\0")
        pkg = _package_of(folder)
        if pkg:
            h.update(pkg.encode())
        elif folder.is_dir() and folder != _PACKAGE / "theme":  # ours is hashed with the package
            _hash_tree(h, folder)
    settings = {k: v for k, v in dict(config).items() if k not in UNKEYED_SETTINGS}
    h.update(json.dumps(canonical(settings), sort_keys=True, ensure_ascii=False).encode())
    h.update(json.dumps(nav_digest(nav), ensure_ascii=False).encode())
    return h.hexdigest()


def page_key(glob: str, page) -> bytes:
    """The key of one generated page (`views.PageData`) under the global key."""
    return hashlib.blake2b(glob.encode() + b"\0" + dumps(page), digest_size=16).digest()


_RECORD_SKIP = ("body", "lines", "path", "src_path")  # what no feed entry shows


def feed_keys(glob: str, plan) -> dict:
    """feed id → the digest of what its entries show: each record's fields (the body, line numbers
    and paths aside), its as-of-dependent state (撤回, 有效性 changes) and the feed's own title."""
    import dataclasses

    from disclosure.site.planner import status_change

    c = plan.corpus
    names = None
    per_record: dict = {}
    out = {}
    for spec in plan.feeds:
        h = hashlib.blake2b(f"{glob}|{spec.id}|{spec.title}|{spec.page_url}|{spec.total}|{c.as_of}".encode(),
                            digest_size=16)
        for r in spec.records:
            d = per_record.get(id(r))
            if d is None:
                if names is None:
                    names = [f.name for f in dataclasses.fields(r) if f.name not in _RECORD_SKIP]
                state = tuple(getattr(r, n) for n in names)
                d = per_record[id(r)] = hashlib.blake2b(
                    dumps((state, status_change(r, c), c.withdrawn(r))), digest_size=16).digest()
            h.update(d)
        out[spec.id] = h.hexdigest()
    return out


def signature(st) -> tuple:
    return st.st_size, st.st_mtime_ns, st.st_ino


# ------------------------------------------------------------------------------------------ store
class PageCache:
    """The key and file signature of every off-nav page of one output folder."""

    def __init__(self, root: Path, site: Path, read: bool = True):
        digest = hashlib.blake2b(str(Path(site).resolve()).encode(), digest_size=8).hexdigest()
        self.path = cache_dir(root) / f"{digest}.pkl"
        self.old: dict = {}
        self.new: dict = {}
        self.extra: dict = {}  # other outputs' digests (feeds, in-nav pages) for the next build
        self.old_extra: dict = {}
        if read:
            try:
                with open(self.path, "rb") as fh:
                    head, entries, extra = pickle.load(fh)
                if head == (FORMAT, str(Path(site).resolve())):
                    self.old, self.old_extra = entries, extra
            except FileNotFoundError:
                pass
            except Exception as e:  # unreadable: ignore it, it is rewritten after this build
                log.info(f"页面缓存无法读取（{e}），本次全部重新生成")
        self.site = str(Path(site).resolve())

    def reusable(self, dest: str, key: bytes, previous: Path) -> Path | None:
        """The previous build's file for `dest` (site-relative path) if its key and file still match."""
        entry = self.old.get(dest)
        if entry is None or entry[0] != key:
            return None
        path = previous / dest
        try:
            st = os.stat(path)
        except OSError:
            return None
        return path if signature(st) == entry[1] else None

    @staticmethod
    def file_sig(path: Path):
        try:
            return signature(os.stat(path))
        except OSError:
            return None

    def record(self, dest: str, key: bytes, st) -> None:
        self.new[dest] = (key, signature(st))

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as fh:
                pickle.dump(((FORMAT, self.site), self.new, self.extra), fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.path)
        finally:
            if tmp.exists():
                tmp.unlink()
