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
import shutil
import time
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from mkdocs.commands.build import _populate_page
from mkdocs.exceptions import Abort
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page

from markupsafe import Markup

from disclosure.site.pagecache import PageCache, global_key, page_key, signature
from disclosure.site.planner import SitePlan, plan_site
from disclosure.site.render import BYTECODE, NavPartials, overrides_nav, write_bytes
from disclosure.site.views import THEME_DIR, make_env, render_content
from disclosure.model.config import ConfigError, load_config, load_mkdocs_yml
from disclosure.model.corpus import build_date, load_corpus
from disclosure.model.findings import WARNING
from disclosure.model.sanitize import sanitize_html

log = logging.getLogger("mkdocs.plugins.disclosure")
_MARKER = re.compile(r"<p>\[\[portal:([a-z-]+)\]\]</p>")
_ACTIVE: "Portal | None" = None  # the instance forked workers render with
POOL_FROM = 200  # fewer pages than this render in the parent (starting workers costs more)
WANTED_POLL = 0.1  # seconds between two looks at the pages a reader is waiting for (Portal._render_wanted)


def _nav_sources(nav) -> set[str]:
    out = set()
    for item in nav or []:
        if isinstance(item, str):
            out.add(item)
        elif isinstance(item, dict):
            for value in item.values():
                out |= _nav_sources([value]) if isinstance(value, str) else _nav_sources(value)
    return out


class OffNavRenderer:
    """Renders one off-nav page the way `_populate_page` + `_build_page` do, without writing it.

    Same plugin events in the same order (on_pre_page, on_page_markdown, on_page_content,
    on_page_context, on_post_page: our hooks' post-conversion chain — sanitiser, views'
    render_content, the lit nav page — is exactly the one MkDocs runs), the page context from
    MkDocs' own `get_context`, the theme's main.html. Different, and cheaper: one Markdown converter
    per process, reset between pages, with MkDocs' per-page tree processors registered anew for each
    page (what `Page.render` does with a new converter); the drawer and tabs rendered once per place
    (render.NavPartials). One renderer per (worker) process; tests compare its bytes with MkDocs'.
    """

    def __init__(self, portal: "Portal"):
        import markdown

        self.p = portal
        config = portal.config
        self.md = markdown.Markdown(extensions=config["markdown_extensions"],
                                    extension_configs=config["mdx_configs"] or {})
        self.partials = NavPartials([pg.url for pg in portal.nav.pages], _nav_src_of)
        self.env = self.partials.overlay(portal.env) if portal.cache_nav else portal.env
        self.rendered = 0

    def _convert(self, page: Page) -> None:
        from mkdocs.structure.pages import (_ExtractAnchorsTreeprocessor, _ExtractTitleTreeprocessor,
                                            _RawHTMLPreprocessor, _RelativePathTreeprocessor)
        from mkdocs.structure.toc import get_toc

        config, files, md = self.p.config, self.p.files, self.md
        md.reset()
        raw_html = _RawHTMLPreprocessor()
        raw_html._register(md)
        anchors = _ExtractAnchorsTreeprocessor(page.file, files, config)
        anchors._register(md)
        relative = _RelativePathTreeprocessor(page.file, files, config)
        relative._register(md)
        title = _ExtractTitleTreeprocessor()
        title._register(md)
        page.content = md.convert(page.markdown)
        page.toc = get_toc(getattr(md, "toc_tokens", []))
        page._title_from_render = title.title
        page.present_anchor_ids = anchors.present_anchor_ids | raw_html.present_anchor_ids

    def render(self, file: File) -> bytes | None:
        from mkdocs.commands.build import get_context

        p = self.p
        config, files = p.config, p.files
        page = Page(None, file, config)
        config._current_page = page
        try:
            page = config.plugins.on_pre_page(page, config=config, files=files)
            page.read_source(config)
            page.markdown = config.plugins.on_page_markdown(page.markdown, page=page, config=config, files=files)
            self._convert(page)
            page.content = config.plugins.on_page_content(page.content, page=page, config=config, files=files)
        except Exception as e:
            log.error(f"Error reading page '{file.src_uri}': {e}")
            raise
        finally:
            config._current_page = None
        config._current_page = page
        page.active = True
        try:
            context = get_context(p.nav, p.doc_files, config, page)
            template = self.env.get_template(page.meta.get("template", "main.html"))
            context = config.plugins.on_page_context(context, page=page, config=config, nav=p.nav)
            output = template.render(context)
            output = config.plugins.on_post_page(output, page=page, config=config)
        except Exception as e:
            log.error(f"Error building page '{file.src_uri}': {e}")
            raise
        finally:
            page.active = False
            config._current_page = None
            file.page = None  # nothing reads an off-nav page object after it is written
        self.rendered += 1
        if not output.strip():
            log.info(f"Page skipped: '{file.src_uri}'. Generated empty output.")
            return None
        return output.encode("utf-8", errors="xmlcharrefreplace")


def _link(old: Path, new: Path, ino: int | None = None) -> None:
    """Hard-link the last good site's file `old` at `new`, in the folder being built. In a recycled
    folder (build.py) `new` is often there already: kept when it is that very file (`ino`: its
    inode, if known), else unlinked first. The name is this build's, the file may be the live
    site's: only the name goes (a link replaced with rename would cost a journaled rename per page
    after a build that rewrote every page)."""
    try:
        st = os.lstat(new)
    except FileNotFoundError:
        st = None
    if st is not None:
        if st.st_ino == (ino if ino is not None else os.stat(old).st_ino):
            return
        os.unlink(new)
    try:
        os.link(old, new)
    except FileNotFoundError:
        new.parent.mkdir(parents=True, exist_ok=True)
        os.link(old, new)


def _search_enabled() -> bool:
    return os.environ.get("DISCLOSURE_SEARCH", "1") != "0"


def _fresh(path) -> None:
    """Before MkDocs writes `path` in a reused folder (it truncates and writes in place): remove the
    file there, which may be a hard link to the last good site's."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _nav_src_of(page) -> str | None:
    return (page.meta.get("portal") or {}).get("nav_src") if page is not None and page.meta else None


def _render_chunk(indices: list[int]) -> list:
    """Render and write these off-nav pages (in a forked worker, or in the parent for small sets):
    [(index, stat of the written file or None)]."""
    portal = _ACTIVE
    renderer = portal.renderer()
    out = []
    site = Path(portal.config.site_dir)
    for i in indices:
        file = portal.offloaded[i]
        data = renderer.render(file)
        st = write_bytes(site / file.dest_uri, data, portal.replace_files) if data is not None else None
        out.append((i, st and signature(st)))
    return out


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
        self.rendered = 0  # off-nav pages of the last build rendered
        self.pagecache = None  # pagecache.PageCache of an engine build (None: render every page)
        self.previous: Path | None = None  # the folder holding the previous build's files
        self.replace_files = False  # the output folder is reused: write pages beside, rename over
        self.cache_nav = True  # render the drawer and tabs once per place (render.NavPartials)
        self.page_glob = None  # pagecache.global_key of this build
        self.keys: dict = {}
        self._renderer = None
        self.build_id = 0  # one hook instance serves every build of the process (engine.render_ahead checks it)
        self.bodies = None  # record page src_uri → body text of the last build (when captured)
        self.wanted = None  # callable → site-relative URLs asked for meanwhile (the preview), rendered first
        self.rendered_first = 0  # pages of the last build rendered out of turn because they were wanted

    def on_startup(self, command: str):
        self.parallel = command != "serve" and os.environ.get("DISCLOSURE_JOBS", "") != "1"

    def on_config(self, config):
        self.build_id += 1
        self.written, self.reused, self.rendered, self.keys, self.touched = [], 0, 0, {}, set()
        self.page_glob, self._renderer = None, None
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
        import material

        self.cache_nav = (config.extra.get("portal") or {}).get("cache_nav", True) is not False and not overrides_nav(
            dirs, THEME_DIR, Path(material.__file__).resolve().parent / "templates")
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
        # search (disclosure/site/search.py): each record page's rendered body, as it is rendered
        from disclosure.site.search import BodyCapture

        if getattr(self, "search_capture", None):
            self.search_capture.close()
        # (also without search when the caller wants every record page's body: the preview indexes them itself)
        wanted = os.environ.get("DISCLOSURE_SEARCH", "1") != "0" or os.environ.get("DISCLOSURE_BODIES") == "1"
        self.search_capture = BodyCapture() if wanted else None
        self.bodies = None

        records_prefix = self.cfg.records_dir.rstrip("/") + "/"
        # every record's attachment, wherever it lies in docs_dir (a draft's file under uploads/ too)
        attached = {str(a.path) for r in corpus.records for a in r.attachments if a.path}
        for f in list(files):
            if f.src_uri.startswith(records_prefix) or (
                    attached and f.abs_src_path and os.path.realpath(f.abs_src_path) in attached):
                files.remove(f)  # the source Markdown and attachments; generated copies of live records replace them
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
        self._nav_html = {}  # a fresh cache each build (mkdocs serve rebuilds in one process)
        env.globals["portal_nav_key"] = self.nav_key
        env.globals["portal_nav_get"] = lambda key: self._nav_html.get(key) if key else None
        env.globals["portal_nav_put"] = self._nav_put

    def nav_key(self, page):
        """Off-nav pages under the same lit nav page and in the same folder share their nav HTML (its
        links are relative to the folder; no nav item is the page itself). Nav pages: no key, no cache."""
        if page is None or page.file.src_uri in self._nav_pages:
            return None
        src = ((page.meta or {}).get("portal") or {}).get("nav_src")
        return (src, page.url.rstrip("/").rpartition("/")[0])

    def _nav_put(self, key, html):
        if key:
            self._nav_html[key] = html
        return html

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
        if gen:  # a generated page: its body is record text, reduced by the allowlist sanitiser first
            content = render_content(gen, self.views, sanitize_html(html, self.cfg.own_hosts))
            if getattr(self, "search_capture", None):  # search index input: the body as the page shows it
                self.search_capture.add(src, content)
            return content
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

    def renderer(self) -> OffNavRenderer:
        """This process's renderer (a forked worker inherits the parent's, compiled templates included)."""
        if self._renderer is None or self._renderer.p is not self:
            self._renderer = OffNavRenderer(self)
        return self._renderer

    def render_offloaded(self, indices: list[int], jobs: int | None = None) -> None:
        """Render the off-nav pages `indices` (into self.offloaded); with the page cache (engine
        builds), pages whose key is unchanged are reused from the previous build instead."""
        global _ACTIVE
        if not indices:
            return
        self.doc_files = self.files.documentation_pages(inclusion=InclusionLevel.is_included)
        site = Path(self.config.site_dir)
        todo = indices
        cache = self.pagecache
        if cache is not None:
            if self.page_glob is None:
                self.page_glob = global_key(self.config, self.nav)
            pages, todo = self._pages, []
            for i in indices:
                f = self.offloaded[i]
                key = self.keys[i] = page_key(self.page_glob, pages[f.src_uri])
                old = cache.reusable(f.dest_uri, key, self.previous) if self.previous is not None else None
                if old is None:
                    todo.append(i)
                    continue
                if self.previous != site:
                    _link(old, site / f.dest_uri, cache.old[f.dest_uri][1][2])
                cache.new[f.dest_uri] = cache.old[f.dest_uri]
                self.reused += 1
        if not todo:
            return
        jobs = jobs or self.jobs or int(os.environ.get("DISCLOSURE_JOBS") or 0) or os.cpu_count() or 1
        _ACTIVE = self
        try:
            if jobs == 1 or len(todo) < POOL_FROM:
                results = _render_chunk(todo)
            else:
                first = _render_chunk(todo[:1])  # compiles every template once, before the fork
                rest = todo[1:]
                size = max(50, len(rest) // (jobs * 4))
                chunks = [rest[i : i + size] for i in range(0, len(rest), size)]
                gc.freeze()  # keep the collector from touching (and so copying) the parent's objects in each worker
                with multiprocessing.get_context("fork").Pool(jobs) as pool:
                    pending = pool.map_async(_render_chunk, chunks)
                    if self.wanted is not None:
                        self._render_wanted(pending, rest)
                    results = first + [r for part in pending.get() for r in part]
                assert len(results) == len(todo)
        finally:
            _ACTIVE = None
            gc.unfreeze()
        for i, sig in results:
            f = self.offloaded[i]
            if sig is not None:
                self.written.append(f.url)
                self.touched.add(f.dest_uri)
                if cache is not None:
                    cache.new[f.dest_uri] = (self.keys[i], sig)
        self.rendered += len(results)

    def _render_wanted(self, pending, todo: list[int]) -> None:
        """While the workers render `todo`, render in this process, at once, each of those pages
        that `self.wanted()` (the preview: pages a browser asked for and did not get yet) names,
        so a page asked for during a first build does not wait for its turn. The worker writes
        it again later, with the same bytes; only the workers' results are counted."""
        by_url = {self.offloaded[i].url: i for i in todo}
        done: set = set()
        while not pending.ready():
            pending.wait(WANTED_POLL)
            urls = [u for u in dict.fromkeys(self.wanted()) if u in by_url and u not in done]
            if urls:
                _render_chunk([by_url[u] for u in urls])
                done.update(urls)
                self.rendered_first += len(urls)

    def render_ahead(self, paths, as_of) -> dict[str, bytes]:
        """The preview's first answer to an edit: the pages of the edited records, and when the
        edit kept each record's place in the lists (planner.same_place: a title, summary or 文号
        corrected) the off-nav list pages showing its row, rendered with the last build's config,
        nav and templates and written in place, before the whole build (which re-plans every page
        and rewrites the rest: nav pages, feeds, linking pages). {url: bytes}.

        Only for a plain edit of records that stay live under the same address, with no error in
        the corpus; anything else (a new or deleted file, mkdocs.yml, a template, an error) is left
        to the whole build: {}."""
        if self.plan is None or not self.offloaded or getattr(self, "doc_files", None) is None:
            return {}
        from disclosure.site.planner import record_pages, relisted_pages, same_place

        before = {os.path.realpath(r.src_path): r for r in self.plan.corpus.live}
        targets = sorted({os.path.realpath(p) for p in paths})
        if not targets or any(t not in before for t in targets):
            return {}
        corpus = load_corpus(self.cfg, as_of or build_date(), config_path=self.config.config_file_path)
        if corpus.errors:
            return {}
        live = {os.path.realpath(r.src_path): r for r in corpus.live}
        if any(t not in live or live[t].slug != before[t].slug for t in targets):
            return {}
        files = {f.src_uri: f for f in self.offloaded}
        edited = [live[t] for t in targets]
        pages = record_pages(corpus, edited, self.plan)
        if all(same_place(before[t], live[t], self.plan.corpus, corpus) for t in targets):
            pages += relisted_pages(corpus, edited, self.plan)  # the off-nav lists showing their rows
        pages = [p for p in pages if p.src_uri in files]
        site = Path(self.config.site_dir)
        out = {}
        by_src = self._pages
        for page in pages:
            file = files[page.src_uri]
            by_src[page.src_uri] = page
            file.content_string = page.markdown
            data = self.renderer().render(file)
            if data is not None:
                write_bytes(site / file.dest_uri, data, True)
                out[file.url] = data
        return out

    def _incremental(self, site: Path) -> dict:
        """What an engine build writes of the outputs beside the pages: the feeds whose entries
        changed (the others are kept, or linked from the previous build), and which files the
        third-party check reads (those written by this build)."""
        if self.pagecache is None:
            return {}
        from disclosure.site.pagecache import feed_keys

        cache = self.pagecache
        old = cache.old_extra.get("feeds", {})
        self._feed_keys = keys = feed_keys(self.page_glob or global_key(self.config, self.nav), self.plan)
        write = set()
        for spec in self.plan.feeds:
            entry = old.get(spec.id)
            paths = [spec.rss, spec.atom]
            if (self.previous is None or entry is None or entry[0] != keys[spec.id]
                    or any(cache.file_sig(self.previous / rel) != sig for rel, sig in zip(paths, entry[1:]))):
                write.add(spec.id)
                continue
            if self.previous != site:
                for rel, sig in zip(paths, entry[1:]):
                    _link(self.previous / rel, site / rel, sig[2])
        self._feeds_written = write
        return {"feed_ids": write, "check": {t for t in self.touched if (site / t).is_file()}}

    def _record_feeds(self, site: Path) -> None:
        if self.pagecache is None:
            return
        self.pagecache.extra["feeds"] = {
            spec.id: (self._feed_keys[spec.id], self.pagecache.file_sig(site / spec.rss),
                      self.pagecache.file_sig(site / spec.atom)) for spec in self.plan.feeds}

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
        write_bytes(sitemap, text.encode("utf-8"), True)
        _fresh(site_dir / "sitemap.xml.gz")
        with open(site_dir / "sitemap.xml.gz", "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
            gz.write(text.encode("utf-8"))

    def write_staff_report(self, site_dir: Path) -> Path:
        """The HTML compliance report for staff, always written beside (not inside) the site."""
        from disclosure.supervision.render import to_html

        path = site_dir.parent / f"{site_dir.name}-compliance-report.html"
        path.write_text(to_html(self.plan.compliance_report, list(self.config.theme.dirs)), encoding="utf-8")
        log.info(f"公开时效报告：{path}")
        return path

    @staticmethod
    def search_cache(config) -> Path | None:
        """Where unchanged search shards are kept between builds: `.cache/search/` beside mkdocs.yml,
        with the other caches and the same switches: none when they are off; emptied first by a
        --clean build (which then indexes every shard and stores them anew)."""
        from disclosure.site import pagecache

        mode = pagecache.mode()
        if mode == "off":
            return None
        path = pagecache.cache_dir(Path(config.config_file_path).resolve().parent).parent / "search"
        if mode == "clean":
            shutil.rmtree(path, ignore_errors=True)
        return path

    def on_post_build(self, config):
        if self.plan is None:
            return
        from disclosure.site.outputs import OutputError, write_outputs
        from disclosure.site.search import SearchIndexError, start_index

        site_dir = Path(config.site_dir)
        search = _search_enabled()
        started = time.perf_counter()
        records = [i for i, f in enumerate(self.offloaded) if f.src_uri.startswith("records/")]
        rest = [i for i, f in enumerate(self.offloaded) if not f.src_uri.startswith("records/")]
        self.render_offloaded(records)
        # only records are indexed: index them while the lists, sitemap and feeds are written
        indexing = None
        if self.search_capture:
            from disclosure.site.search import docs_from_plan, load_bodies, save_bodies

            cache_dir = self.search_cache(config)
            bodies = self.search_capture.collect()  # the record pages rendered now
            # the pages the page cache reused: their body text as the last build captured it (same key)
            keyed = {self.offloaded[i].src_uri: self.keys[i] for i in records if i in self.keys}
            kept = load_bodies(cache_dir) if any(src not in bodies for src in keyed) else {}
            for src, key in keyed.items():
                if src not in bodies and key in kept:
                    bodies[src] = kept[key]
            docs = docs_from_plan(self.plan, bodies, site_dir)  # others are read back from their page
            # every live record page's body (the preview's own index reads them: engine BuildResult.bodies)
            self.bodies = {f"records/{r.slug}.md": d.body for r, d in zip(self.plan.corpus.live, docs)}
            keep = {key: self.bodies[src] for src, key in keyed.items() if src in self.bodies}
            if keep and keep != kept:  # (a build that changed no record page leaves the file as it is)
                save_bodies(cache_dir, keep)
            if search:
                indexing = start_index(docs, site_dir, cache_dir, jobs=int(os.environ.get("DISCLOSURE_JOBS") or 0) or 2)
        try:
            self.render_offloaded(rest)
            log.info(f"政府信息公开：目录外页面 {len(self.offloaded)} 个，生成 {self.rendered} 个、沿用未变的 {self.reused} 个，"
                     f"用时 {time.perf_counter() - started:.1f} 秒")
            self.add_to_sitemap(site_dir)
            self.write_staff_report(site_dir)
            write_outputs(self.plan, site_dir, search=search, indexing=indexing, **self._incremental(site_dir))
            self._record_feeds(site_dir)
        except (OutputError, SearchIndexError) as e:
            raise Abort(str(e)) from None
        finally:
            if indexing and indexing.poll() is None:
                indexing.kill()
            if self.search_capture:
                self.search_capture.close()
                self.search_capture = None


# ------------------------------------------------------------------------- the build, driven from Python
@dataclass
class Outcome:
    corpus: object = None  # the validated corpus (None: the config did not load)
    plan: object = None  # the site plan (page data) of this build
    written: list = field(default_factory=list)  # site-relative URLs of the pages written
    reused: int = 0  # off-nav pages taken unchanged from the page cache
    rendered: int = 0  # off-nav pages rendered
    error: str | None = None  # the Chinese reason the build was refused or failed
    portal: object = None  # the hook instance that built it (its state serves Portal.render_ahead)
    bodies: dict | None = None  # record page src_uri → body text (search input), when captured
    produced: set | None = None  # the site-relative files the build produced (the search index's folder aside)


def portal_of(config) -> Portal | None:
    """The Portal instance of this config's hook module (MkDocs loads a hook module once per process)."""
    for plugin in config.plugins.values():
        portal = getattr(plugin, "_portal", None)
        if isinstance(portal, Portal):
            return portal
    return None


def config_error_text(config_file, e: Exception) -> str:
    """What MkDocs' config error means for staff: for a mkdocs.yml that is no YAML, our message (the
    slip named at its own line, with the fix, in Chinese: config.yaml_error_text); else MkDocs' text."""
    try:
        load_mkdocs_yml(Path(config_file))
    except ConfigError as ours:
        return str(ours)
    return str(e)


def run_build(config_file, site_dir=None, *, as_of=None, jobs=None, clean=None, previous=None,
              cache_site=None, atomic=False, wanted=None, recycled: set | None = None) -> Outcome:
    """One build of `config_file` into `site_dir`, as `mkdocs.commands.build.build` does it, but:

    - the output folder is not emptied: when it already holds a build (`previous` is None or the
      same folder) unchanged off-nav pages are left in place, static files are copied only when
      their source is newer or of another size, and what the new build does not produce is
      deleted at the end (so the folder equals a clean build's);
    - `previous`: another folder holding the last build (disclosure build builds aside): unchanged
      off-nav pages are hard-linked from there;
    - the page cache (pagecache.py) decides what is unchanged; `cache_site` names the folder the
      files will finally live in (default `site_dir`); `clean=True` ignores the caches;
    - `atomic`: pages are written beside and renamed over even in an empty folder (a reader never
      sees half a page while this build runs);
    - `recycled`: `site_dir` is an older build's folder taken up again (build.py), holding these
      site-relative files: what this build does not produce of them is deleted (no walk of the
      folder); every file is replaced or linked anew, never written through (it may be a hard
      link to the last good site's);
    - `wanted`: a callable polled while the off-nav pages render, returning the site-relative URLs
      (e.g. "records/x/") a reader has asked for meanwhile: those are rendered first
      (Portal._render_wanted).
    """
    from mkdocs.commands.build import _build_extra_template, _build_page, _build_theme_template
    from mkdocs.config import load_config as load_mkdocs_config
    from mkdocs.exceptions import ConfigurationError
    from mkdocs.structure.files import get_files, set_exclusions
    from mkdocs.structure.nav import get_navigation

    from disclosure.site import pagecache

    overrides = {"site_dir": str(site_dir)} if site_dir else {}
    out = Outcome()
    try:
        config = load_mkdocs_config(config_file=str(config_file), **overrides)
    except (Abort, ConfigurationError) as e:
        out.error = f"配置错误：{config_error_text(config_file, e)}"
        return out
    portal = portal_of(config)
    if portal is None:
        out.error = f"{config_file} 没有启用 hooks/portal.py，无法生成政府信息公开网站"
        return out
    saved_mode = os.environ.get("DISCLOSURE_CACHE")
    if clean and pagecache.mode() != "off":
        os.environ["DISCLOSURE_CACHE"] = "clean"  # this build only (request_clean would last for the process)
    site = Path(config.site_dir).resolve()
    reuse = site.is_dir() and any(site.iterdir())
    previous = Path(previous).resolve() if previous is not None else (site if reuse else None)
    mode = pagecache.mode()
    root = Path(config.config_file_path).resolve().parent
    cache = None
    if mode != "off":
        cache = PageCache(root, Path(cache_site or site), read=mode == "on" and not clean and previous is not None)
    portal.as_of, portal.jobs, portal.corpus = as_of, jobs, None
    portal.pagecache, portal.previous, portal.replace_files = cache, previous, reuse or atomic
    portal.wanted, portal.rendered_first = wanted, 0
    config.plugins.on_startup(command="build", dirty=False)
    try:
        config = config.plugins.on_config(config)
        config.plugins.on_pre_build(config=config)
        site.mkdir(parents=True, exist_ok=True)
        files = get_files(config)
        env = config.theme.get_env()
        env.bytecode_cache = BYTECODE  # compiled once per process, checked against each source
        files.add_files_from_theme(env, config)
        files = config.plugins.on_files(files, config=config)
        if portal.views is not None:
            portal.views.bytecode_cache = BYTECODE
        set_exclusions(files, config)
        nav = get_navigation(files, config)
        nav = config.plugins.on_nav(nav, config=config, files=files)
        inclusion = InclusionLevel.is_included
        for file in files.documentation_pages(inclusion=inclusion):
            if file.page is None and file.inclusion.is_not_in_nav():
                Page(None, file, config)
            _populate_page(file.page, config, files)
        env = config.plugins.on_env(env, config=config, files=files)
        portal.touched |= _copy_static(files, inclusion, reuse)
        for template in sorted(config.theme.static_templates):
            if reuse:
                _fresh(site / template)
                _fresh(site / f"{template}.gz")  # sitemap.xml's
            _build_theme_template(template, env, files, config, nav)
            portal.touched.add(template)
        for template in config.extra_templates:
            if reuse:
                _fresh(site / template)
            _build_extra_template(template, files, config, nav)
            portal.touched.add(template)
        doc_files = files.documentation_pages(inclusion=inclusion)
        for file in doc_files:
            if reuse:
                _fresh(file.abs_dest_path)
            _build_page(file.page, config, doc_files, nav, env)
            out.written.append(file.url)
            portal.touched.add(file.dest_uri)
        for file in doc_files:
            file.page.validate_anchor_links(files=files, log_level=config.validation.links.anchors)
        config.plugins.on_post_build(config=config)
        out.produced = _produced(files, portal)
        if recycled is not None:
            _remove_listed(site, recycled - out.produced)
            if not _search_enabled():  # else the indexer replaced it
                shutil.rmtree(site / "pagefind", ignore_errors=True)
        elif reuse:
            _remove_stale(site, out.produced)
        if cache is not None:
            cache.save()
    except Abort as e:
        config.plugins.on_build_error(error=e)
        out.error = str(e)
    except OSError as e:
        config.plugins.on_build_error(error=e)
        out.error = f"生成失败：无法写入输出目录：{e}"
    except Exception as e:
        config.plugins.on_build_error(error=e)
        out.error = f"生成失败：{type(e).__name__}: {e}"
        log.exception("build failed")
    finally:
        config.plugins.on_shutdown()
        out.corpus = portal.corpus
        out.plan = portal.plan
        out.portal = portal
        out.bodies = portal.bodies
        portal.pagecache = portal.previous = None
        if clean:
            if saved_mode is None:
                os.environ.pop("DISCLOSURE_CACHE", None)
            else:
                os.environ["DISCLOSURE_CACHE"] = saved_mode
    out.written += portal.written
    out.reused = portal.reused
    out.rendered = portal.rendered
    return out


def _copy_static(files: Files, inclusion, reuse: bool) -> set:
    """MkDocs' copy_static_files; in a reused folder, a copy as new and as large as its source is
    kept. Returns the site-relative paths copied."""
    copied = set()
    for file in files:
        if file.is_documentation_page() or not inclusion(file.inclusion):
            continue
        dest = Path(file.abs_dest_path)
        if reuse:
            if file.abs_src_path:
                try:
                    src, have = os.stat(file.abs_src_path), os.stat(dest)
                    if src.st_size == have.st_size and have.st_mtime_ns >= src.st_mtime_ns:
                        continue
                except OSError:
                    pass
            if dest.exists():
                dest.unlink()  # never write through a hard link into an older build
        file.copy_file(dirty=False)
        copied.add(file.dest_uri)
    return copied


def _produced(files: Files, portal: "Portal") -> set:
    """The site-relative files a build produced, the search index's folder (the indexer's) aside."""
    keep = {f.dest_uri for f in files if f.inclusion.is_included()} | {f.dest_uri for f in portal.offloaded}
    keep |= {"sitemap.xml", "sitemap.xml.gz", "404.html", "catalogue.json"}
    feeds = portal.plan.feeds if portal.plan is not None else []
    keep |= {spec.rss for spec in feeds} | {spec.atom for spec in feeds}
    return keep


def _remove_listed(site: Path, stale: set) -> None:
    """Delete these site-relative files of a recycled folder, then the folders they leave empty."""
    for rel in sorted(stale, reverse=True):
        path = site / rel
        try:
            os.unlink(path)
        except (FileNotFoundError, IsADirectoryError):
            continue
        parent = path.parent
        while parent != site:
            try:
                os.rmdir(parent)  # only succeeds when empty
            except OSError:
                break
            parent = parent.parent


def _remove_stale(site: Path, keep: set) -> None:
    """Delete what this build did not produce (`keep`: pages of deleted records, old list pages, old
    attachments), then empty folders: the reused folder then equals a clean build. The search
    index folder is the indexer's (left alone)."""
    base = str(site)
    for dirpath, dirnames, filenames in os.walk(base, topdown=False):
        rel = os.path.relpath(dirpath, base).replace(os.sep, "/")
        if rel == "pagefind" or rel.startswith("pagefind/"):
            continue
        prefix = "" if rel == "." else rel + "/"
        for name in filenames:
            if prefix + name not in keep:
                os.unlink(os.path.join(dirpath, name))
        if rel != ".":
            try:
                os.rmdir(dirpath)  # only succeeds when empty
            except OSError:
                pass
