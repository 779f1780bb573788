"""Pieces of the off-nav page renderer that need no MkDocs: the cached nav partials and page writes.

The renderer itself (mkdocs_glue.OffNavRenderer) builds each off-nav page (record pages, paginated
lists) the way MkDocs' `_populate_page` + `_build_page` do — same plugin events, same page context,
the theme's main.html — but in one compiled Jinja environment per worker process, with one reused
Markdown converter, and with the two partials that cost most rendered once per *place* instead of
once per page:

- `partials/nav.html` (the drawer) and `partials/tabs.html` print the whole site nav. For a page
  that is not itself in the nav, their HTML depends only on (a) which nav page is lit up (the
  page's `nav_src`, see Portal.on_page_context) and (b) the relative URLs from the page to the nav
  pages, which are fixed by the page's depth and by the leading path segments it shares with nav
  URLs (`url_place`). `NavPartials.overlay(env)` returns an overlay environment in which those two
  includes print the stored HTML for the page's key; the first page with a key renders the
  original partial, in its own full context, and stores the result.
- A site that overrides nav.html / tabs.html (or the items they include) with markup that reads
  anything else about the page must turn this off: `extra.portal.cache_nav: false`. It is turned
  off automatically when the site's own override folder contains any `partials/nav*.html` or
  `partials/tabs*.html` (we cannot know what such a template reads).
"""

from __future__ import annotations

import os
from pathlib import Path

import jinja2

CACHED = ("partials/nav.html", "partials/tabs.html")
_ORIGINAL = "portal-original/"
_CACHED_PARTIAL = (
    '{%- set _k = portal_partial_key(page, "NAME") -%}'
    '{%- if _k in portal_partials -%}{{ portal_partials[_k] }}'
    '{%- else -%}{%- set _html -%}{% include "' + _ORIGINAL + 'NAME" %}{%- endset -%}'
    '{{ portal_stash(_k, _html) }}{%- endif -%}'
)


def nav_prefixes(nav_urls) -> set[str]:
    """Every leading path of a nav page URL ('catalogue/', 'catalogue/type/', …)."""
    out = set()
    for url in nav_urls:
        parts = [p for p in (url or "").split("/") if p]
        for i in range(1, len(parts) + 1):
            out.add("/".join(parts[:i]) + "/")
    return out


def url_place(url: str, prefixes: set[str]) -> tuple:
    """(depth, longest leading path shared with some nav URL): all a relative URL to a nav page needs."""
    parts = [p for p in (url or "").split("/") if p]
    shared = ""
    for i in range(1, len(parts) + 1):
        candidate = "/".join(parts[:i]) + "/"
        if candidate not in prefixes:
            break
        shared = candidate
    depth = url.count("/") if url else 0
    return depth, shared, url.endswith("/")


class NavPartials:
    """The drawer and tabs HTML of off-nav pages, rendered once per (partial, place, lit nav page)."""

    def __init__(self, nav_urls, active_of):
        self.prefixes = nav_prefixes(nav_urls)
        self.active_of = active_of  # page → the src_uri of the nav page it lights up (or None)
        self.store: dict = {}
        self.rendered = 0  # how many times an original partial was rendered (tests, logs)

    def key(self, page, name):
        url = page.url if page is not None else ""
        return name, url_place(url, self.prefixes), self.active_of(page)

    def stash(self, key, html):
        self.store[key] = html
        self.rendered += 1
        return html

    def overlay(self, env: jinja2.Environment) -> jinja2.Environment:
        base_loader = env.loader
        cached = {name: _CACHED_PARTIAL.replace("NAME", name) for name in CACHED}

        def load(name):
            if name.startswith(_ORIGINAL):
                return base_loader.get_source(env, name[len(_ORIGINAL):])
            if name in cached:
                return cached[name], None, lambda: True
            return base_loader.get_source(env, name)

        over = env.overlay(loader=jinja2.FunctionLoader(load))
        over.globals = dict(env.globals, portal_partials=self.store, portal_partial_key=self.key,
                            portal_stash=self.stash)
        return over


def overrides_nav(dirs, ours: Path, material: Path | None) -> bool:
    """True when a template folder other than ours and Material's overrides the nav or tabs partials."""
    for d in dirs:
        p = Path(d).resolve()
        if p == ours or (material is not None and p == material):
            continue
        partials = p / "partials"
        if partials.is_dir() and (any(partials.glob("nav*.html")) or any(partials.glob("tabs*.html"))):
            return True
    return False


def write_bytes(path: Path, data: bytes, replace: bool) -> os.stat_result:
    """Write a page; `replace`: the folder is reused, so write beside and rename over the old file
    (a file hard-linked into another site is never modified). Returns the new file's stat."""
    if replace:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        return os.stat(path)
    try:
        fh = open(path, "wb")
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(path, "wb")
    with fh:
        fh.write(data)
        return os.fstat(fh.fileno())
