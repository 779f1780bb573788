"""Check a built site before it goes live: internal links and attachments resolve, the search index
and the feeds exist and parse, and nothing loads from another host (what the browser would fetch by
itself: see disclosure/site/selfhost.py; ordinary links to other sites are allowed)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from disclosure.site.selfhost import (CHECKED_SUFFIXES, HTML_SUFFIXES, external_references, is_external, loaded_urls,
                                      parse_html)

_NOT_FILES = ("#", "mailto:", "tel:", "data:", "javascript:", "blob:")


@dataclass
class Verification:
    pages: int = 0
    links: int = 0
    problems: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _target_exists(site: Path, page: Path, url: str) -> bool:
    parts = urlsplit(url)
    path = unquote(parts.path)
    if not path:
        return True  # a fragment or query on the page itself
    base = site if path.startswith("/") else page.parent
    target = (base / path.lstrip("/")).resolve()
    if target.is_dir() or path.endswith("/"):
        target = target / "index.html"
    return target.is_file()


def verify_site(site: Path, own_hosts: set[str]) -> Verification:
    site = site.resolve()
    v = Verification()
    for page in sorted(site.rglob("*.html")):
        v.pages += 1
        root = parse_html(page.read_text(encoding="utf-8", errors="replace"))
        if root is None:
            v.problems.append(f"{page.relative_to(site)}: 页面是空的")
            continue
        rel = page.relative_to(site).as_posix()
        for url in loaded_urls(root):
            if is_external(url, own_hosts):
                v.problems.append(f"{rel}: 引用了外部网站 {url}（浏览器会自动加载它）")
        for value in root.xpath("//@href | //@src"):
            url = str(value).strip()
            if not url or url.lower().startswith(_NOT_FILES) or "://" in url or url.startswith("//"):
                continue
            v.links += 1
            if not _target_exists(site, page, url):
                v.problems.append(f"{rel}: 链接 {url} 指向的文件不存在")
    entry = site / "pagefind" / "pagefind-entry.json"
    if not entry.is_file():
        v.problems.append("缺少搜索索引 pagefind/pagefind-entry.json")
    else:
        languages = json.loads(entry.read_text(encoding="utf-8")).get("languages", {})
        if "zh" not in languages or not languages["zh"].get("page_count"):
            v.problems.append(f"搜索索引没有中文页面：{languages}")
    feeds = list((site / "feeds").glob("*.xml"))
    if not feeds:
        v.problems.append("缺少订阅源 feeds/*.xml")
    for feed in feeds:
        try:
            ET.parse(feed)
        except ET.ParseError as e:
            v.problems.append(f"订阅源 {feed.name} 不是有效的 XML：{e}")
    # the pages were checked above; here the theme's and the search bundle's CSS, JS and SVG files
    for f, url in external_references(site, own_hosts, skip_dirs=(), suffixes=CHECKED_SUFFIXES - HTML_SUFFIXES):
        v.problems.append(f"{f}: 引用了外部网站 {url}（浏览器会自动加载它）")
    return v
