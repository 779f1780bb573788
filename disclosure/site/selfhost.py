"""No third-party requests: prune theme assets we do not use and prove nothing loads from off-site.

Google Fonts and CDNs stall in mainland China. Material is configured with `font: false` and no
search plugin; its JavaScript bundle still carries two on-demand loaders (a ResizeObserver polyfill
and mermaid from unpkg) and repository-facts calls (GitHub/GitLab APIs). None is used by this site;
we point them at site-local paths so that even if triggered they never leave the site.

What counts as a third-party request is what a *browser* fetches by itself when it shows a file,
not every URL that appears in it:

- HTML and SVG: `src`/`srcset` (img, source, script, iframe, frame, embed, audio, video, track,
  input), `poster`, `object[data]`, `<link href>` unless every `rel` is a non-loading relation
  (canonical, alternate, author, …), `base[href]`, `meta http-equiv=refresh`, the legacy
  `background` attribute, SVG `href`/`xlink:href` on anything but `<a>`, CSS in `style`
  attributes and `<style>` elements, and URL literals in inline scripts.
- CSS files: `url(…)` and `@import`. JavaScript files: URL literals (code may fetch them).
- Never: plain text, `<a href>` links (a visitor chooses to follow them: allowed in a record's body),
  `<form action>`, meta tags' content, JSON data (`catalogue.json`, the search index), feeds and
  the sitemap (XML).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

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
CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))\s*\)|@import\s+(?:"([^"]*)"|'([^']*)')""", re.I)
HTML_SUFFIXES = {".html", ".htm"}
SCRIPT_SUFFIXES = {".js", ".mjs"}
CHECKED_SUFFIXES = HTML_SUFFIXES | SCRIPT_SUFFIXES | {".css", ".svg"}

# element → attributes whose URL the browser fetches while showing the page
LOADING_ATTRIBUTES = {
    "img": ("src", "srcset"), "source": ("src", "srcset"), "script": ("src",), "iframe": ("src",),
    "frame": ("src",), "embed": ("src",), "object": ("data",), "audio": ("src",), "video": ("src", "poster"),
    "track": ("src",), "input": ("src",), "base": ("href",),
}
# <link rel=…> values that do not make the browser fetch anything by themselves
NON_LOADING_RELS = {"canonical", "alternate", "author", "license", "help", "next", "prev", "previous",
                    "bookmark", "external", "nofollow", "noopener", "noreferrer", "tag", "me", "search",
                    "shortlink", "index", "up", "first", "last", "contents", "home"}
JS_TYPES = {"", "text/javascript", "application/javascript", "module", "text/ecmascript", "application/ecmascript"}
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"


def prune_and_neutralise(site_dir: Path) -> None:
    for rel_path in UNUSED_THEME_ASSETS:
        shutil.rmtree(site_dir / rel_path, ignore_errors=True)
    for bundle in (site_dir / "assets" / "javascripts").glob("bundle.*.js"):
        text = bundle.read_text(encoding="utf-8")
        for old, new in NEUTRALISE:
            text = text.replace(old, new)
        bundle.write_text(text, encoding="utf-8")


def css_urls(css: str) -> list[str]:
    css = COMMENT.sub("", css)
    return [next(g for g in m.groups() if g is not None) for m in CSS_URL.finditer(css)]


def script_urls(js: str) -> list[str]:
    return [u for u in URL.findall(COMMENT.sub("", js)) if not u.startswith(NOT_REQUESTS)]


def _srcset_urls(value: str) -> list[str]:
    return [c.split()[0] for c in value.split(",") if c.split()]


def _local_name(tag) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def loaded_urls(root) -> list[str]:
    """The URLs a browser fetches by itself when it shows this parsed HTML or SVG document (an lxml
    element tree), in document order."""
    urls: list[str] = []
    for el in root.iter():
        tag = _local_name(el.tag)
        if not tag:
            continue  # comments, processing instructions
        for attr in LOADING_ATTRIBUTES.get(tag, ()):
            value = el.get(attr)
            if value:
                urls += _srcset_urls(value) if attr == "srcset" else [value]
        if tag == "link" and el.get("href"):
            rels = set((el.get("rel") or "").lower().split())
            if not rels or not rels <= NON_LOADING_RELS:
                urls.append(el.get("href"))
        elif tag == "meta" and (el.get("http-equiv") or "").lower() == "refresh":
            m = re.search(r"url\s*=\s*['\"]?([^'\"]+)", el.get("content") or "", re.I)
            if m:
                urls.append(m.group(1))
        elif tag in ("image", "use", "feimage") or (tag == "script" and el.get("href")):
            urls += [v for v in (el.get("href"), el.get(XLINK_HREF), el.get("xlink:href")) if v]
        elif tag == "style" and el.text:
            urls += css_urls(el.text)
        elif tag == "script" and el.text and not el.get("src") and (el.get("type") or "").lower() in JS_TYPES:
            urls += script_urls(el.text)
        if el.get("background"):
            urls.append(el.get("background"))
        if el.get("style"):
            urls += css_urls(el.get("style"))
    return urls


def is_external(url: str, own_hosts: set[str]) -> bool:
    """True for a URL on another host: http(s)://, protocol-relative //, and the forms browsers
    repair (tabs/newlines removed, backslashes read as slashes)."""
    url = re.sub(r"[\t\n\r]", "", url).strip(" \x00-\x1f").replace("\\", "/")
    if url.startswith(("data:", "blob:", "#")):
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return True  # unparsable authority: not ours
    if not parts.netloc:
        return False
    return (host or "") not in own_hosts


def parse_html(text: str):
    import lxml.html

    return lxml.html.document_fromstring(text) if text.strip() else None


def _parse_svg(data: bytes):
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=False)
    return etree.fromstring(data, parser)


def file_references(path: Path) -> list[str]:
    """What the browser would load for this file (see the module docstring); [] for data files."""
    suffix = path.suffix.lower()
    if suffix in HTML_SUFFIXES:
        root = parse_html(path.read_text(encoding="utf-8", errors="replace"))
        return loaded_urls(root) if root is not None else []
    if suffix == ".svg":
        try:
            return loaded_urls(_parse_svg(path.read_bytes()))
        except Exception:  # not well-formed: fall back to every URL in it, the safe side
            return script_urls(path.read_text(encoding="utf-8", errors="replace"))
    if suffix == ".css":
        return css_urls(path.read_text(encoding="utf-8", errors="replace"))
    if suffix in SCRIPT_SUFFIXES:
        return script_urls(path.read_text(encoding="utf-8", errors="replace"))
    return []


def external_references(site_dir: Path, own_hosts: set[str], skip_dirs=("records",),
                        suffixes=CHECKED_SUFFIXES, only: set[str] | None = None) -> list[tuple[str, str]]:
    """(file, url) for every third-party URL the browser would load from the site's pages and assets.
    Skipped by default: record pages, whose only varying part is the staff-written body: validation
    checks those sources for embedded third-party resources, so 10,000 copies of the same template
    are not rescanned at build time (`disclosure publish` verifies every page, records included).
    `only`: the site-relative paths to look at (an incremental build checks what it wrote; the
    files it kept were checked when they were written)."""
    found = []
    paths = sorted(site_dir / p for p in only) if only is not None else sorted(site_dir.rglob("*"))
    for path in paths:
        if path.suffix.lower() not in suffixes or not path.is_file():
            continue
        rel_path = path.relative_to(site_dir)
        if rel_path.parts and rel_path.parts[0] in skip_dirs:
            continue
        found += [(rel_path.as_posix(), u) for u in file_references(path) if is_external(u, own_hosts)]
    return found
