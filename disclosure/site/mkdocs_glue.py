"""The only module that knows MkDocs: turns the site plan into MkDocs files and runs the post-build steps.

Event order (MkDocs 1.6): on_startup → on_config → on_files (read every record once, validate, add
generated pages) → on_nav → on_page_markdown / on_page_content (attach page meta; wrap generated
HTML around the converted body) → on_env → on_post_build (render the off-nav pages in parallel,
sitemap, feeds, catalogue JSON, search index).

Scale: MkDocs renders pages one at a time on one core. Pages outside the nav (every record page and
every paginated list: nearly all pages of a large office) are handed to MkDocs as EXCLUDED, and
rendered here after the main build by MkDocs' own page functions in forked worker processes, with the
same config, nav, Jinja environment and hooks, so the output is byte-for-byte what MkDocs would write.
`mkdocs serve` keeps the plain serial path (live reload needs MkDocs to own every page).
"""

from __future__ import annotations

import gc
import gzip
import logging
import multiprocessing
import os
import re
import time
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from mkdocs.commands.build import _build_page, _populate_page
from mkdocs.exceptions import Abort
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page

from markupsafe import Markup

from disclosure.site.planner import SitePlan, plan_site
from disclosure.site.views import THEME_DIR, make_env, render_content
from disclosure.model.config import ConfigError, load_config
from disclosure.model.corpus import build_date, load_corpus
from disclosure.model.findings import WARNING

log = logging.getLogger("mkdocs.plugins.disclosure")
_MARKER = re.compile(r"<p>\[\[portal:([a-z-]+)\]\]</p>")
_ACTIVE: "Portal | None" = None  # the instance forked workers render with


def _nav_sources(nav) -> set[str]:
    out = set()
    for item in nav or []:
        if isinstance(item, str):
            out.add(item)
        elif isinstance(item, dict):
            for value in item.values():
                out |= _nav_sources([value]) if isinstance(value, str) else _nav_sources(value)
    return out


def _render_chunk(indices: list[int]) -> int:
    portal = _ACTIVE
    for i in indices:
        file = portal.offloaded[i]
        page = Page(None, file, portal.config)
        _populate_page(page, portal.config, portal.files)
        _build_page(page, portal.config, portal.doc_files, portal.nav, portal.env)
    return len(indices)


class Portal:
    def __init__(self):
        self.plan: SitePlan | None = None
        self.cfg = None
        self.parallel = False
        self.offloaded: list[File] = []
        self._pages_cache = None
        self.views = None  # our autoescaping Jinja environment (views.make_env)
        self._active = None  # the nav page lit up for the off-nav page being rendered
        self.as_of = None  # set by engine.SiteBuilder; None: DISCLOSURE_AS_OF or today
        self.jobs = None  # worker processes for the off-nav pages (None: DISCLOSURE_JOBS or all cores)
        self.corpus = None  # the last build's validated corpus (its findings, even when refused)
        self.written: list[str] = []  # site-relative URLs of the off-nav pages written by the last build
        self.reused = 0  # off-nav pages of the last build taken unchanged from the page cache

    def on_startup(self, command: str):
        self.parallel = command != "serve" and os.environ.get("DISCLOSURE_JOBS", "") != "1"

    def on_config(self, config):
        try:
            self.cfg = load_config(config.config_file_path, mkdocs_cfg=dict(config))
        except ConfigError as e:
            raise Abort(f"配置错误：{e}") from None
        self.cfg.docs_dir = Path(config.docs_dir)  # the docs_dir MkDocs resolved is the one that counts
        # Template search order: the site's own folder (theme.custom_dir), our theme, Material. A site
        # that sets `custom_dir: overrides` overrides single partials and still gets our theme.
        dirs = config.theme.dirs
        ours = str(THEME_DIR)
        if not any(Path(d).resolve() == THEME_DIR for d in dirs):
            at = 1 if config.theme.custom_dir else 0
            dirs.insert(at, ours)
        return config

    def on_files(self, files: Files, config) -> Files:
        as_of = self.as_of or build_date()
        self.corpus = corpus = load_corpus(self.cfg, as_of, config_path=config.config_file_path)
        errors = corpus.errors
        for f in corpus.findings:
            if f.level == WARNING:
                log.warning(f.render())
        if errors:
            raise Abort("记录校验未通过，网站未生成：\n" + "\n".join(f.render() for f in errors)
                        + f"\n共 {len(errors)} 个错误（与 disclosure validate 的结果相同）。")
        log.info(f"政府信息公开：{len(corpus.live)} 条已发布记录（生成日期 {as_of}），"
                 f"{len(corpus.records) - len(corpus.live)} 条草稿或定时发布未生成")
        self.plan = plan_site(corpus, nav=config.nav)
        settings = {**(config.extra.get("portal") or {}), "site_name": config.site_name, "site_url": config.site_url or ""}
        self.views = make_env(list(config.theme.dirs), settings)
        self._pages_cache = None

        records_prefix = self.cfg.records_dir.rstrip("/") + "/"
        for f in list(files):
            if f.src_uri.startswith(records_prefix):
                files.remove(f)  # the source Markdown and attachments; generated copies replace them
        in_nav = _nav_sources(config.nav)
        self.offloaded = []
        for page in self.plan.pages:
            off_nav = page.src_uri not in in_nav
            if self.parallel and off_nav:
                inclusion = InclusionLevel.EXCLUDED
            elif page.src_uri.startswith("records/"):
                inclusion = InclusionLevel.NOT_IN_NAV
            else:
                inclusion = InclusionLevel.UNDEFINED
            file = File.generated(config, page.src_uri, content=page.markdown, inclusion=inclusion)
            files.append(file)
            if inclusion is InclusionLevel.EXCLUDED:
                self.offloaded.append(file)
        for src_uri, path in self.plan.attachments:
            files.append(File.generated(config, src_uri, abs_src_path=str(path)))
        self.files, self.config = files, config
        return files

    def on_nav(self, nav):
        self.nav = nav
        self._nav_pages = {p.file.src_uri: p for p in nav.pages}

    def on_env(self, env):
        self.env = env

    def on_page_markdown(self, markdown: str, page) -> str:
        if self.plan is None:
            return markdown
        src = page.file.src_uri
        gen = self._pages.get(src)
        meta = gen.meta if gen else self.plan.page_meta.get(src, {"column": page.title or ""})
        page.meta["portal"] = meta
        if gen:
            # Material prints page.meta.title raw (<title>, header): hand it over escaped
            page.meta["title"] = Markup.escape(gen.title)
        return markdown

    def on_page_content(self, html: str, page) -> str:
        if self.plan is None:
            return html
        src = page.file.src_uri
        gen = self._pages.get(src)
        # (the render-time sanitiser of body HTML goes here: html = sanitize(html))
        if gen:
            return render_content(gen, self.views, html)
        # a hand-written page: breadcrumbs first, settings-driven blocks in place of their markers
        meta = page.meta.setdefault("portal", {})
        title = page.title or ""
        crumbs = self.plan.crumbs(src, title)
        meta["crumbs"], meta["nav_src"] = crumbs, None
        here = page.url
        head = self.views.get_template("partials/portal/breadcrumbs.html").render(crumbs=crumbs, here=here)
        html = _MARKER.sub(lambda m: self._snippet(m.group(1), here), html)
        if src == "index.md" and self.plan.home is not None:
            html = html + "\n" + render_content(self.plan.home, self.views)
        return head + html

    def _snippet(self, name: str, here: str) -> str:
        """`[[portal:contact]]` (a paragraph of its own in a hand-written page) → partials/portal/snippets/contact.html."""
        return self.views.get_template(f"partials/portal/snippets/{name}.html").render(here=here)

    def on_page_context(self, context, page):
        """Off-nav pages (records, lists) light up the nav page they belong under: its tab and drawer section."""
        src = (page.meta.get("portal") or {}).get("nav_src") if page.meta else None
        target = self._nav_pages.get(src) if src else None
        if target is not None and target is not page:
            target.active = True
            self._active = target
        return context

    def on_post_page(self, output: str, page) -> str:
        if self._active is not None:
            self._active.active = False
            self._active = None
        return output

    @property
    def _pages(self):
        if self._pages_cache is None:
            self._pages_cache = self.plan.by_src()
        return self._pages_cache

    def render_offloaded(self, indices: list[int], jobs: int | None = None) -> None:
        global _ACTIVE
        if not indices:
            return
        self.doc_files = self.files.documentation_pages(inclusion=InclusionLevel.is_included)
        jobs = jobs or self.jobs or int(os.environ.get("DISCLOSURE_JOBS") or 0) or os.cpu_count() or 1
        _ACTIVE = self
        try:
            if jobs == 1 or len(indices) < 200:
                _render_chunk(indices)
                return
            size = max(50, len(indices) // (jobs * 4))
            chunks = [indices[i : i + size] for i in range(0, len(indices), size)]
            gc.freeze()  # keep the collector from touching (and so copying) the parent's objects in each worker
            with multiprocessing.get_context("fork").Pool(jobs) as pool:
                done = sum(pool.map(_render_chunk, chunks))
            assert done == len(indices)
        finally:
            _ACTIVE = None
            gc.unfreeze()

    def add_to_sitemap(self, site_dir: Path) -> None:
        """MkDocs lists only the pages it rendered; add the off-nav pages (deterministic .gz, mtime 0)."""
        sitemap = site_dir / "sitemap.xml"
        if not sitemap.exists() or not self.offloaded:
            return
        base = self.config.site_url or ""
        dates = {f"records/{r.slug}.md": r.published.isoformat() for r in self.plan.corpus.live}
        entries = []
        for f in self.offloaded:
            lastmod = f"\n         <lastmod>{dates[f.src_uri]}</lastmod>" if f.src_uri in dates else ""
            entries.append(f"    <url>\n         <loc>{escape(base + f.url)}</loc>{lastmod}\n    </url>\n")
        text = sitemap.read_text(encoding="utf-8").replace("</urlset>", "".join(entries) + "</urlset>")
        sitemap.write_text(text, encoding="utf-8")
        with open(site_dir / "sitemap.xml.gz", "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
            gz.write(text.encode("utf-8"))

    def write_staff_report(self, site_dir: Path) -> Path:
        """The HTML compliance report for staff, always written beside (not inside) the site."""
        from disclosure.supervision.render import to_html

        path = site_dir.parent / f"{site_dir.name}-compliance-report.html"
        path.write_text(to_html(self.plan.compliance_report), encoding="utf-8")
        log.info(f"公开时效报告：{path}")
        return path

    def on_post_build(self, config):
        if self.plan is None:
            return
        from disclosure.site.outputs import OutputError, write_outputs
        from disclosure.site.search import SearchIndexError, start_index

        site_dir = Path(config.site_dir)
        search = os.environ.get("DISCLOSURE_SEARCH", "1") != "0"
        started = time.perf_counter()
        records = [i for i, f in enumerate(self.offloaded) if f.src_uri.startswith("records/")]
        rest = [i for i, f in enumerate(self.offloaded) if not f.src_uri.startswith("records/")]
        self.render_offloaded(records)
        # only record pages are indexed: index them while the lists, sitemap and feeds are written
        indexing = start_index(site_dir) if search and records else None
        try:
            self.render_offloaded(rest)
            log.info(f"政府信息公开：另行生成 {len(self.offloaded)} 个目录外页面，用时 {time.perf_counter() - started:.1f} 秒")
            self.add_to_sitemap(site_dir)
            self.write_staff_report(site_dir)
            write_outputs(self.plan, site_dir, search=search, indexing=indexing)
        except (OutputError, SearchIndexError) as e:
            raise Abort(str(e)) from None
        finally:
            if indexing and indexing.poll() is None:
                indexing.kill()


# ------------------------------------------------------------------------- the build, driven from Python
@dataclass
class Outcome:
    corpus: object = None  # the validated corpus (None: the config did not load)
    written: list = field(default_factory=list)  # site-relative URLs of the pages written
    reused: int = 0  # pages taken unchanged from the page cache
    error: str | None = None  # the Chinese reason the build was refused or failed


def portal_of(config) -> Portal | None:
    """The Portal instance of this config's hook module (MkDocs loads a hook module once per process)."""
    for plugin in config.plugins.values():
        portal = getattr(plugin, "_portal", None)
        if isinstance(portal, Portal):
            return portal
    return None


def run_build(config_file, site_dir=None, *, as_of=None, jobs=None, clean=None, first=True) -> Outcome:
    """One `mkdocs build` of `config_file` into `site_dir` (engine.SiteBuilder's work)."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config as load_mkdocs_config
    from mkdocs.exceptions import ConfigurationError

    overrides = {"site_dir": str(site_dir)} if site_dir else {}
    out = Outcome()
    try:
        config = load_mkdocs_config(config_file=str(config_file), **overrides)
    except (Abort, ConfigurationError) as e:
        out.error = f"配置错误：{e}"
        return out
    portal = portal_of(config)
    if portal is None:
        out.error = f"{config_file} 没有启用 hooks/portal.py，无法生成政府信息公开网站"
        return out
    portal.as_of, portal.jobs, portal.corpus = as_of, jobs, None
    config.plugins.on_startup(command="build", dirty=False)
    try:
        build(config)
    except Abort as e:
        out.error = str(e)
    except OSError as e:
        out.error = f"生成失败：无法写入输出目录：{e}"
    finally:
        config.plugins.on_shutdown()
        out.corpus = portal.corpus
    if out.error is None and portal.plan is not None:
        out.written = [p.url for p in portal.plan.pages]
    return out
