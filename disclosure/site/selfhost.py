"""No third-party requests: prune theme assets we do not use and prove nothing points off-site.

Google Fonts and CDNs stall in mainland China. Material is configured with `font: false` and no
search plugin; its JavaScript bundle still carries two on-demand loaders (a ResizeObserver polyfill
and mermaid from unpkg) and repository-facts calls (GitHub/GitLab APIs). None is used by this site;
we point them at site-local paths so that even if triggered they never leave the site.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import urlparse

UNUSED_THEME_ASSETS = ["assets/javascripts/lunr", "assets/javascripts/workers"]
NEUTRALISE = [
    ("https://unpkg.com/", "/assets/javascripts/not-loaded/"),
    ("https://api.github.com/", "/assets/javascripts/not-loaded/"),
    ("`https://${e}/api/v4/", "`/assets/javascripts/not-loaded/"),
]
URL = re.compile(r"""https?://[^\s"'`<>()\\]+""")
# Identifiers that are not requests: XML namespaces and schema names, and the reserved example.com
# (RFC 2606) that Pagefind uses as a base for parsing relative URLs.
NOT_REQUESTS = ("http://www.w3.org/", "http://www.sitemaps.org/schemas/", "https://example.com")
# Licence banners name their authors' sites: /* … */ in CSS/JS, <!-- … --> in inline SVG (CSS-escaped as \3c !--).
COMMENT = re.compile(r"/\*.*?\*/|(?:<|\\3c ?)!--.*?--(?:>|\\3e ?)", re.S)
CHECKED_SUFFIXES = {".html", ".css", ".js", ".mjs", ".xml", ".json", ".svg"}


def prune_and_neutralise(site_dir: Path) -> None:
    for rel_path in UNUSED_THEME_ASSETS:
        shutil.rmtree(site_dir / rel_path, ignore_errors=True)
    for bundle in (site_dir / "assets" / "javascripts").glob("bundle.*.js"):
        text = bundle.read_text(encoding="utf-8")
        for old, new in NEUTRALISE:
            text = text.replace(old, new)
        bundle.write_text(text, encoding="utf-8")


def external_references(site_dir: Path, own_hosts: set[str], suffixes=CHECKED_SUFFIXES,
                        skip_dirs=("feeds", "records")) -> list[tuple[str, str]]:
    """(file, url) for every http(s) URL to a host that is not ours, in the theme's assets and the
    pages we generate. Skipped: feeds (absolute links to our own site by design) and record pages,
    whose only varying part is the staff-written body: rule E306 checks those sources for embedded
    third-party resources at validation time, so 10,000 copies of the same template are not rescanned."""
    found = []
    for path in site_dir.rglob("*"):
        if path.suffix not in suffixes or not path.is_file():
            continue
        rel_path = path.relative_to(site_dir)
        if rel_path.parts and rel_path.parts[0] in skip_dirs:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        text = COMMENT.sub("", text)
        for m in URL.finditer(text):
            url = m.group(0)
            if url.startswith(NOT_REQUESTS):
                continue
            host = urlparse(url).hostname or ""
            if host not in own_hosts:
                found.append((rel_path.as_posix(), url))
    return found
