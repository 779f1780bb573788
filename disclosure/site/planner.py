"""The site plan: every generated page (records, catalogues, columns, home sections) as page DATA.

Pure: Corpus in, `SitePlan` out. Pages are `views.PageData`: plain, picklable values that the theme's
`partials/portal/*.html` templates render (`views.render_content`); no markup is written here. The
MkDocs glue turns the plan into `File.generated` pages; the feeds and the search index read the same
plan, so one pass over the records feeds every output.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from disclosure.model import annual_tables
from disclosure.model.corpus import Corpus
from disclosure.site.html import escape, human_size
from disclosure.model.records import Record
from disclosure.model.schema import RECORD_TYPES
from disclosure.site.views import (AttachmentView, Banner, IndexRow, Link, Listing, PageData, Pager, PagerItem,
                                   RecordView, Row)

PER_PAGE = 20
TYPE_PLURAL = {"disclosure": "主动公开信息", "normative": "行政规范性文件", "annual-report": "政府信息公开年报",
               "interpretation": "政策解读"}
STATUS_CLASS = {"有效": "valid", "失效": "expired", "废止": "repealed", "已修改": "amended", "已撤回": "withdrawn"}
FILE_TYPES = {"pdf": "PDF", "doc": "Word", "docx": "Word", "xls": "Excel", "xlsx": "Excel", "wps": "WPS",
              "ofd": "OFD", "zip": "ZIP", "csv": "CSV", "txt": "文本", "jpg": "图片", "png": "图片"}
HOME = "index.md"


def url_of(src_uri: str) -> str:
    """Directory URL of a generated page: 'a/index.md' → 'a/', 'a/b.md' → 'a/b/', 'index.md' → ''."""
    stem = src_uri[:-3]
    if stem == "index":
        return ""
    if stem.endswith("/index"):
        return stem[: -len("index")]
    return stem + "/"


def record_url(r: Record) -> str:
    return f"records/{r.slug}/"


def nav_index(nav) -> dict:
    """The configured nav (mkdocs.yml `nav`, plain data) as src_uri → (title, parent src_uri).
    A section whose first child is a bare path is that page's title (navigation.indexes)."""
    out: dict = {}

    def walk(items, parent):
        for item in items or []:
            if isinstance(item, str):
                out.setdefault(item, (None, parent))
                continue
            if not isinstance(item, dict):
                continue
            for title, value in item.items():
                if isinstance(value, str):
                    out[value] = (str(title), parent)
                elif isinstance(value, list) and value:
                    if isinstance(value[0], str):
                        out[value[0]] = (str(title), parent)
                        walk(value[1:], value[0])
                    else:
                        walk(value, parent)

    walk(nav, None)
    return out


@dataclass
class FeedSpec:
    id: str  # file stem under feeds/: all, type-normative, unit-jyj, topic-t05
    title: str
    records: list  # its entries (feed_entries of them at most), newest first by publication
    page_url: str  # the catalogue page that shows the same records
    total: int = 0  # the records of that catalogue page (the feed holds the latest of them)

    @property
    def rss(self) -> str:
        return f"feeds/{self.id}.xml"

    @property
    def atom(self) -> str:
        return f"feeds/{self.id}.atom.xml"


@dataclass
class SitePlan:
    corpus: Corpus
    pages: list = field(default_factory=list)  # PageData
    attachments: list = field(default_factory=list)  # (src_uri, Path)
    feeds: list = field(default_factory=list)
    page_meta: dict = field(default_factory=dict)  # src_uri of hand-written pages → meta
    home: PageData | None = None  # the sections appended to the hand-written home page
    nav: dict = field(default_factory=dict)  # nav_index of the configured nav
    where: dict = field(default_factory=dict)  # generated src_uri → (title, parent src_uri)

    def by_src(self) -> dict:
        return {p.src_uri: p for p in self.pages}

    @cached_property
    def compliance_report(self):
        """Computed once a build: the site's 公开时效 page and the staff report beside the site share it."""
        from disclosure.supervision.report import build_report

        return build_report(self.corpus)

    # -------------------------------------------------------------- place in the site
    def parent(self, src: str) -> str | None:
        if src in self.nav:
            return self.nav[src][1] or (HOME if src != HOME else None)
        if src in self.where:
            return self.where[src][1]
        return HOME if src != HOME else None

    def title_of(self, src: str, fallback: str = "") -> str:
        if src == HOME:
            return "首页"
        if src in self.nav and self.nav[src][0]:
            return self.nav[src][0]
        if src in self.where:
            return self.where[src][0]
        return fallback

    def crumbs(self, src: str, title: str, current: bool = True) -> list:
        """当前位置: the links from 首页 down to the page (the page itself last, unlinked, if `current`)."""
        chain, p, seen = [], self.parent(src), {src}
        while p is not None and p not in seen:
            seen.add(p)
            chain.append(Link(self.title_of(p), url_of(p)))
            p = self.parent(p)
        chain.reverse()
        if current and src != HOME:
            chain.append(Link(self.title_of(src, title) if src in self.nav else title))
        elif src == HOME:
            chain = [Link("首页")]
        return chain

    def nav_src(self, src: str) -> str | None:
        """The nearest page in the nav at or above `src`: its tab is highlighted."""
        p, seen = src, set()
        while p is not None and p not in seen:
            if p in self.nav:
                return p
            seen.add(p)
            p = self.parent(p)
        return None


STATUS_MARK = {"废止": "【已废止】", "失效": "【已失效】", "已修改": "【已修改】"}


def status_change(r: Record, c: Corpus) -> tuple[str, dt.date | None]:
    """(title mark, date of the change) for a record whose status changed since publication: 撤回, and for
    normative documents 废止 (repeal date), 失效 (the day after 有效期至), 已修改 (the newest amending act's date)."""
    if c.withdrawn(r):
        return "【已撤回】", r.withdrawn.date
    st = c.status(r)
    if st == "废止":
        return STATUS_MARK[st], r.repealed.date
    if st == "失效":
        return STATUS_MARK[st], r.expires + dt.timedelta(days=1)
    if st == "已修改":
        dates = [a.published for idx in r.amended_by if (a := c.by_index.get(idx)) and a.is_live(c.as_of)]
        return STATUS_MARK[st], max(dates) if dates else None
    return "", None


def feed_entries(records: list, c: Corpus, limit: int) -> list:
    """A feed's entries: the `limit` records (0: all) published or changed in status (撤回, 废止, 失效,
    已修改) most recently, so a subscriber hears of an old document's repeal as of a new one; listed
    newest first by publication, as the catalogue pages list them (`records` come in that order)."""
    if not limit or len(records) <= limit:
        return list(records)

    def latest(r):
        changed = status_change(r, c)[1]
        return max(r.published, changed) if changed else r.published

    keep = {id(r) for r in sorted(records, key=lambda r: (latest(r), r.published, r.index_no), reverse=True)[:limit]}
    return [r for r in records if id(r) in keep]


def topic_ids(taxonomy: dict) -> dict:
    """Top-level topic → URL id (t01 …), in the taxonomy file's order."""
    return {top: f"t{i:02d}" for i, top in enumerate(taxonomy, 1)}


def top_topic(topic: str) -> str:
    return topic.split("\\", 1)[0] if topic else ""


class Planner:
    def __init__(self, corpus: Corpus, nav=None):
        self.c = corpus
        self.cfg = corpus.cfg
        self.plan = SitePlan(corpus, nav=nav_index(nav))
        self.topic_id = topic_ids(self.cfg.taxonomy)
        self.feed_by_key: dict = {}
        self._rows: dict = {}  # id(record) → Row (the corpus keeps every record alive meanwhile)

    # ---------------------------------------------------------------- helpers
    def unit_name(self, r: Record) -> str:
        return self.cfg.unit(r.issuer).name

    def status(self, r: Record) -> str:
        if self.c.withdrawn(r):
            return "已撤回"
        return self.c.status(r)

    def page_meta(self, column: str, **extra) -> dict:
        return {"column": column, **extra}

    def page(self, src_uri: str, title: str, template: str, data: dict, meta: dict, parent: str | None = None,
             markdown: str = "") -> PageData:
        """Register a generated page: its template and data, its place (parent) for the breadcrumbs."""
        if parent is not None or src_uri not in self.plan.nav:
            self.plan.where[src_uri] = (title, parent if parent is not None else HOME)
        page = PageData(src_uri, url_of(src_uri), title, f"partials/portal/{template}", data, markdown, meta)
        self.plan.pages.append(page)
        return page

    def finish(self, page: PageData, current: bool = True):
        """Breadcrumbs and the tab to highlight, once every page has its place."""
        page.meta["crumbs"] = self.plan.crumbs(page.src_uri, page.title, current)
        page.meta["nav_src"] = self.plan.nav_src(page.src_uri)

    def feed_links(self, *keys) -> list:
        out = []
        for k in keys:
            f = self.feed_by_key.get(k)
            if f:
                out.append({"title": f.title, "rss": f.rss, "atom": f.atom})
        return out

    # ---------------------------------------------------------------- lists
    def row(self, r: Record) -> Row:
        """A record's list row (frozen: one object serves every list it is in, ~5 per record)."""
        row = self._rows.get(id(r))
        if row is None:
            row = self._rows[id(r)] = self._row(r)
        return row

    def _row(self, r: Record) -> Row:
        st = self.status(r)
        withdrawn = st == "已撤回"
        return Row(title=r.title, url=record_url(r), index_no=r.index_no, doc_no="" if withdrawn else r.doc_no,
                   published=str(r.published), unit=self.unit_name(r), type_label=r.type_label, status=st,
                   status_class=STATUS_CLASS.get(st, ""), summary="" if withdrawn else r.summary)

    def rows(self, records: list, caption: str = "") -> Listing:
        rows = tuple(self.row(r) for r in records)
        return Listing(rows, show_doc_no=any(x.doc_no for x in rows), show_status=any(x.status for x in rows),
                       caption=caption)

    def listing(self, base: str, title: str, records: list, column: str, intro: str = "", feed_keys=(),
                parent: str = HOME, see: Link | None = None, unit: dict | None = None):
        """Paginated list pages: base/index.md, base/page-2.md, …; newest first (records come sorted)."""
        chunks = [records[i : i + PER_PAGE] for i in range(0, len(records), PER_PAGE)] or [[]]
        n = len(chunks)
        feeds = self.feed_links(*feed_keys)
        first_src = f"{base}index.md"
        for i, chunk in enumerate(chunks, 1):
            src = first_src if i == 1 else f"{base}page-{i}.md"
            first = (i - 1) * PER_PAGE + 1 if records else 0
            last = (i - 1) * PER_PAGE + len(chunk)
            pager = Pager(len(records), first, last, i, n, self.pager_items(base, i, n) if n > 1 else ())
            data = {"listing": self.rows(chunk), "pager": pager, "feeds": feeds if i == 1 else [],
                    "intro": intro if i == 1 else "", "see": see if i == 1 else None,
                    "unit": unit if i == 1 else None}
            page_title = title + (f"（第 {i} 页）" if i > 1 else "")
            self.page(src, page_title, "list-page.html", data, self.page_meta(column, feeds=feeds, list_page=i),
                      parent=parent if i == 1 else first_src)
            if i > 1:
                self.plan.where[src] = (page_title, first_src)

    def pager_items(self, base: str, i: int, n: int) -> tuple:
        def href(k):
            return url_of(f"{base}index.md" if k == 1 else f"{base}page-{k}.md")

        items = []
        if i > 1:
            items.append(PagerItem("上一页", href(i - 1), rel="prev"))
        # only the pages that can show (1, n, and those within 3 of i): a list of 25,000 pages has
        # 25,000 pagers, and visiting every page number in each was 15 s of a 100,000-record plan
        for k in sorted({1, n, *range(max(1, i - 3), min(n, i + 3) + 1)}):
            if k == i:
                items.append(PagerItem(str(k), None, current=True))
            elif k in (1, n) or abs(k - i) <= 2:
                items.append(PagerItem(str(k), href(k)))
            elif abs(k - i) == 3:
                items.append(PagerItem("…", None))
        if i < n:
            items.append(PagerItem("下一页", href(i + 1), rel="next"))
        return tuple(items)

    def index_page(self, src: str, title: str, rows: list, meta: dict, intro: str = "", see: Link | None = None,
                   heading: str = "类别", parent: str | None = None):
        """rows: (label, url, count, note)."""
        data = {"rows": tuple(IndexRow(*r) for r in rows), "intro": intro, "see": see, "heading": heading}
        self.page(src, title, "index-page.html", data, meta, parent=parent)

    # ---------------------------------------------------------------- plan
    def build(self) -> SitePlan:
        live = self.c.live
        self.plan_feeds(live)
        for r in live:
            self.record_page(r)
        self.catalogues(live)
        self.columns(live)
        self.annual_reports(live)
        self.service_pages()
        self.sitemap_page()
        if self.cfg.compliance_page:
            self.compliance_page()
        self.plan.page_meta[HOME] = self.page_meta("首页", feeds=self.feed_links("all"))
        self.plan.home = PageData(HOME, "", "首页", "partials/portal/home.html", self.home_data(live))
        for page in self.plan.pages:
            self.finish(page, current=not page.src_uri.startswith("records/"))
        return self.plan

    def compliance_page(self):
        """公开时效: the supervisor's report, published only when `extra.portal.compliance_page` is true."""
        from disclosure.supervision.render import report_view

        report = report_view(self.plan.compliance_report, public=True)  # no unpublished drafts on the public site
        self.page("compliance/index.md", "公开时效", "compliance-page.html", {"report": report}, self.page_meta("公开时效"))

    def service_pages(self):
        """The search page (partials/portal/search-page.html, data from search_page.py) and the list of feeds."""
        from disclosure.site import search_page

        self.page("search.md", "站内搜索", "search-page.html", search_page.search_page_data(self.c),
                  self.page_meta("站内搜索", search_page=True))
        self.feeds_page()

    def feeds_page(self):
        rows = tuple({"title": f.title, "url": f.page_url, "count": len(f.records), "total": f.total, "id": f.id,
                      "rss": f.rss, "atom": f.atom} for f in self.plan.feeds)
        self.page("feeds.md", "信息订阅", "feeds-page.html", {"feeds": rows, "limit": self.cfg.feed_entries},
                  self.page_meta("信息订阅", feeds=self.feed_links("all")))

    def sitemap_page(self):
        """网站地图: the nav, with every catalogue view and column under its place."""
        children: dict = {}
        for src, (_, parent) in self.plan.nav.items():
            children.setdefault(parent, []).append(src)
        for page in self.plan.pages:
            src = page.src_uri
            if src.startswith("records/") or "/page-" in src or src in self.plan.nav or src == "sitemap.md":
                continue
            children.setdefault(self.plan.parent(src), []).append(src)

        def tree(src):
            kids = [k for k in children.get(src, []) if k != HOME]
            return {"link": Link(self.plan.title_of(src, src), url_of(src)), "children": tuple(tree(k) for k in kids)}

        roots = [tree(HOME)] + [tree(s) for s in children.get(None, []) if s != HOME]
        self.page("sitemap.md", "网站地图", "sitemap-page.html", {"tree": tuple(roots)}, self.page_meta("网站地图"))

    def plan_feeds(self, live):
        site = self.cfg.site_name or self.cfg.office  # the all, type and topic feeds cover every unit

        def spec(feed_id, title, records, page_url):
            return FeedSpec(feed_id, title, feed_entries(records, self.c, self.cfg.feed_entries), page_url,
                            total=len(records))

        by_type = self.c.group_live(lambda r: r.type)  # one pass each, in `live` order
        by_unit = self.c.group_live(lambda r: r.issuer)
        by_topic = self.c.group_live(lambda r: top_topic(r.topic))
        feeds = [spec("all", f"{site}：全部信息", live, "catalogue/")]
        for t, label in RECORD_TYPES.items():
            feeds.append(spec(f"type-{t}", f"{site}：{label}", by_type.get(t, []), f"catalogue/type/{t}/"))
        for u in self.cfg.units:
            feeds.append(spec(f"unit-{u.id}", f"{u.name}：政府信息公开", by_unit.get(u.id, []),
                              f"catalogue/unit/{u.id}/"))
        for top, tid in self.topic_id.items():
            recs = by_topic.get(top, [])
            if recs:
                feeds.append(spec(f"topic-{tid}", f"{site}：{top}", recs, f"catalogue/topic/{tid}/"))
        self.plan.feeds = feeds
        self.feed_by_key = {f.id: f for f in feeds}

    def catalogues(self, live):
        by_type = self.c.group_live(lambda r: r.type)
        by_unit = self.c.group_live(lambda r: r.issuer)
        by_topic = self.c.group_live(lambda r: top_topic(r.topic))
        by_year = self.c.group_live(lambda r: str(r.published.year))
        normative = by_type.get("normative", [])
        current = [r for r in normative if self.c.status(r) in ("有效", "已修改")]
        invalid = [r for r in normative if self.c.status(r) in ("失效", "废止")]

        views = [("按信息类型", "catalogue/type/", len(RECORD_TYPES), "主动公开信息、行政规范性文件、年度报告、政策解读"),
                 ("按主题分类", "catalogue/topic/", len(by_topic), "国务院公文主题分类"),
                 ("按发布机构", "catalogue/unit/", len(self.cfg.units), "各单位的信息公开子栏目"),
                 ("按年份", "catalogue/year/", len(by_year), "按发布年份"),
                 ("规范性文件", "catalogue/normative/", len(normative), "现行有效与废止、失效文件")]
        intro = (f"本目录收录{self.cfg.office}及所属单位主动公开的政府信息，共 {len(live)} 条。"
                 "可按类型、主题、发布机构和年份浏览，也可使用站内搜索。")
        self.index_page("catalogue/index.md", "信息目录", views, self.page_meta("信息目录", feeds=self.feed_links("all")),
                        intro=intro, see=Link("机器可读的目录数据 catalogue.json", "catalogue.json"))

        # by type
        rows = [(TYPE_PLURAL[t], f"catalogue/type/{t}/", len(by_type.get(t, [])), label) for t, label in RECORD_TYPES.items()]
        self.index_page("catalogue/type/index.md", "按信息类型", rows, self.page_meta("按信息类型"))
        for t in RECORD_TYPES:
            self.listing(f"catalogue/type/{t}/", TYPE_PLURAL[t], by_type.get(t, []), TYPE_PLURAL[t],
                         feed_keys=(f"type-{t}",), parent="catalogue/type/index.md")

        # by topic
        rows = [(top, f"catalogue/topic/{tid}/", len(by_topic[top]),
                 "、".join(sorted({r.topic.split("\\", 1)[-1] for r in by_topic[top]})))
                for top, tid in self.topic_id.items() if top in by_topic]
        self.index_page("catalogue/topic/index.md", "按主题分类", rows, self.page_meta("按主题分类"),
                        intro="主题分类采用国务院公文主题分类。")
        for top, tid in self.topic_id.items():
            if top in by_topic:
                self.listing(f"catalogue/topic/{tid}/", top, by_topic[top], top, feed_keys=(f"topic-{tid}",),
                             parent="catalogue/topic/index.md")

        # by unit: each unit's sub-portal
        rows = [(u.name, f"catalogue/unit/{u.id}/", len(by_unit.get(u.id, [])), u.level_label) for u in self.cfg.units]
        self.index_page("catalogue/unit/index.md", "按发布机构", rows, self.page_meta("按发布机构"))
        for u in self.cfg.units:
            recs = by_unit.get(u.id, [])
            unit = {"name": u.name, "code": u.code, "level": u.level_label,
                    "reports": tuple((Link(r.title, record_url(r)), str(r.published)) for r in recs if r.type == "annual-report"),
                    "normative": tuple((Link(r.title, record_url(r)), r.doc_no, self.status(r))
                                       for r in recs if r.type == "normative")}
            self.listing(f"catalogue/unit/{u.id}/", u.name, recs, u.name, feed_keys=(f"unit-{u.id}",),
                         parent="catalogue/unit/index.md", unit=unit)

        # by year
        years = sorted(by_year, reverse=True)
        rows = [(f"{y} 年", f"catalogue/year/{y}/", len(by_year[y]), "") for y in years]
        self.index_page("catalogue/year/index.md", "按年份", rows, self.page_meta("按年份"))
        for y in years:
            self.listing(f"catalogue/year/{y}/", f"{y} 年发布的信息", by_year[y], "按年份", parent="catalogue/year/index.md")

        # normative documents: current, and the separate list of repealed and expired ones
        self.listing("catalogue/normative/", "行政规范性文件", current, "行政规范性文件",
                     intro="现行有效的行政规范性文件（含已部分修改的文件）。",
                     see=Link("废止和失效的规范性文件", "catalogue/normative/invalid/"), feed_keys=("type-normative",))
        self.listing("catalogue/normative/invalid/", "废止和失效的规范性文件", invalid, "行政规范性文件",
                     intro="以下文件已废止或已失效，不再作为行政管理的依据，保留原文供查阅。",
                     parent="catalogue/normative/index.md")

    def columns(self, live):
        by_col = self.c.group_live(lambda r: r.column)
        rows = [(c.name, f"xxgk/fdzdgknr/{c.id}/", len(by_col.get(c.id, [])), c.item) for c in self.cfg.columns]
        self.index_page("xxgk/fdzdgknr/index.md", "法定主动公开内容", rows, self.page_meta("法定主动公开内容"),
                        intro="依据《中华人民共和国政府信息公开条例》第二十条、第二十一条，按下列栏目主动公开政府信息。",
                        heading="栏目")
        for c in self.cfg.columns:
            self.listing(f"xxgk/fdzdgknr/{c.id}/", c.name, by_col.get(c.id, []), c.name, intro=c.item,
                         parent="xxgk/fdzdgknr/index.md")
        sub = [("政府信息公开指南", "xxgk/guide/", "", "信息分类、获取方式、工作机构及联系方式"),
               ("政府信息公开制度", "xxgk/system/", "", "主动公开、依申请公开、保密审查等工作制度"),
               ("法定主动公开内容", "xxgk/fdzdgknr/", len([r for r in live if r.column]), "《条例》第二十条规定的主动公开内容"),
               ("政府信息公开年报", "xxgk/annual-reports/", len([r for r in live if r.type == "annual-report"]), "各单位年度报告"),
               ("依申请公开", "xxgk/apply/", "", "申请方式、申请表和办理时限")]
        intro = (f"{self.cfg.office}政府信息公开专栏，按照国务院办公厅统一要求设置政府信息公开指南、"
                 "政府信息公开制度、法定主动公开内容、政府信息公开年报四个子栏目，并提供依申请公开渠道。")
        self.index_page("xxgk/index.md", "政府信息公开", sub, self.page_meta("政府信息公开", feeds=self.feed_links("all")),
                        intro=intro, heading="子栏目")

    def annual_reports(self, live):
        reports = [r for r in live if r.type == "annual-report"]
        years = sorted({r.year for r in reports}, reverse=True)
        groups = tuple((y, self.rows([r for r in reports if r.year == y], caption=f"{y} 年度")) for y in years)
        self.page("xxgk/annual-reports/index.md", "政府信息公开年报", "annual-index.html", {"years": groups},
                  self.page_meta("政府信息公开年报", feeds=self.feed_links("type-annual-report")))

    # ---------------------------------------------------------------- record pages
    def list_page_of(self, r: Record) -> str:
        """The list a record belongs to: its 公开目录 column, else the annual reports or its type's list."""
        if r.column and self.cfg.column(r.column):
            return f"xxgk/fdzdgknr/{self.cfg.column(r.column).id}/index.md"
        if r.type == "annual-report":
            return "xxgk/annual-reports/index.md"
        return f"catalogue/type/{r.type}/index.md"

    def record_page(self, r: Record):
        here = record_url(r)
        unit = self.cfg.unit(r.issuer)
        status = self.status(r)
        withdrawn = self.c.withdrawn(r)
        list_src = self.list_page_of(r)
        column_name = self.cfg.column(r.column).name if r.column else TYPE_PLURAL[r.type]
        list_title = column_name if r.column else ("政府信息公开年报" if r.type == "annual-report" else TYPE_PLURAL[r.type])
        common = dict(title=r.title, index_no=r.index_no, type=r.type, type_label=r.type_label, unit=unit.name,
                      written=str(r.written), published=str(r.published), column=Link(list_title, url_of(list_src)),
                      status=status, status_class=STATUS_CLASS.get(status, ""), related=self.related(r))
        if withdrawn:
            # 行政处罚法 第四十八条: title, 索引号, dates and the reason only, everywhere
            view = RecordView(**common, withdrawn_date=str(r.withdrawn.date), withdrawn_reason=r.withdrawn.reason,
                              banner=Banner("withdrawn", str(r.withdrawn.date)))
            body, record_meta = "", {"title": r.title, "pubdate": r.published.isoformat(), "source": unit.name,
                                     "index_no": r.index_no}
        else:
            view = RecordView(
                **common, topic=r.topic, doc_no=r.doc_no, reg_no=r.reg_no,
                effective=str(r.effective) if r.effective else "", expires=str(r.expires) if r.expires else "",
                year=r.year, keywords=tuple(r.keywords), genre=r.genre, summary=r.summary,
                banner=self.banner(r, status), attachments=self.attachments(r),
                interpretations=tuple(Link(x.title, record_url(x)) for x in self.c.inverse("interprets", r)),
                annual=annual_view(r.tables) if r.type == "annual-report" and r.tables else None)
            body = r.body.strip()
            record_meta = {"title": r.title, "pubdate": r.published.isoformat(), "source": unit.name,
                           "index_no": r.index_no, "doc_no": r.doc_no, "keywords": "，".join(r.keywords),
                           "description": r.summary}
            for a in r.attachments:
                self.plan.attachments.append((f"records/{r.slug}/{a.name}", a.path))  # unique, URL-safe (records.py)
        data = {"record": view}
        self.page(f"records/{r.slug}.md", r.title, "record.html", data,
                  self.page_meta(column_name, record=record_meta, searchable=True),
                  parent=list_src, markdown=body)

    def banner(self, r: Record, status: str) -> Banner | None:
        if status == "废止":
            by = self.c.by_index.get(r.repealed.by)
            if by and by.is_live(self.c.as_of):
                link = Link(by.title, record_url(by))
            elif by:  # a record not published yet: never print its 索引号 on a public page
                link = Link("另行发布的文件")
            else:  # the 文号 of an act outside this site, as written
                link = Link(r.repealed.by)
            return Banner("repealed", str(r.repealed.date), by=link)
        if status == "失效":
            return Banner("expired", str(r.expires))
        if status == "已修改":
            links = tuple(Link(a.title, record_url(a)) for idx in r.amended_by
                          if (a := self.c.by_index.get(idx)) and a.is_live(self.c.as_of))
            return Banner("amended", links=links)
        return None

    def attachments(self, r: Record) -> tuple:
        return tuple(AttachmentView(a.title, a.name, FILE_TYPES.get(a.suffix, a.suffix.upper() or "文件"),
                                    human_size(a.size), _mime(a.suffix)) for a in r.attachments)

    def related(self, r: Record) -> tuple:
        live = lambda idx: (x := self.c.by_index.get(idx)) is not None and x.is_live(self.c.as_of) and x
        links = []
        if r.interprets and (doc := live(r.interprets)):
            links.append(("解读的文件", doc))
        for x in self.c.inverse("interprets", r):
            links.append(("政策解读", x))
        for idx in r.amends:
            if doc := live(idx):
                links.append(("本文件修改了", doc))
        for idx in r.amended_by:
            if doc := live(idx):
                links.append(("修改本文件的文件", doc))
        if r.repealed and (doc := live(r.repealed.by)):
            links.append(("废止本文件的文件", doc))
        for x in self.c.inverse("repealed_by", r):
            links.append(("本文件废止了", x))
        for idx in r.related:
            if doc := live(idx):
                links.append(("相关信息", doc))
        for x in self.c.inverse("related", r):
            links.append(("相关信息", x))
        return tuple((label, Link(doc.title, record_url(doc))) for label, doc in links)

    def home_data(self, live, per_type: int = 6) -> dict:
        """The column entries and the latest of each type, appended to the hand-written home page."""
        entries = (("政府信息公开指南", "xxgk/guide/"), ("政府信息公开制度", "xxgk/system/"),
                   ("法定主动公开内容", "xxgk/fdzdgknr/"), ("政府信息公开年报", "xxgk/annual-reports/"),
                   ("依申请公开", "xxgk/apply/"), ("行政规范性文件", "catalogue/normative/"), ("站内搜索", "search/"))
        latest = []
        for t, label in TYPE_PLURAL.items():
            recs = [r for r in live if r.type == t][:per_type]
            if recs:
                latest.append({"type": t, "label": label, "more": f"catalogue/type/{t}/",
                               "records": tuple((Link(r.title, record_url(r)), str(r.published)) for r in recs)})
        return {"entries": tuple(Link(*e) for e in entries), "latest": tuple(latest)}


def _mime(suffix: str) -> str | None:
    return {"pdf": "application/pdf", "csv": "text/csv", "txt": "text/plain"}.get(suffix)


def annual_view(tables: dict) -> dict:
    """Tables 2–4 of an annual report as plain data for partials/portal/annual-table.html."""
    out = {}
    get = annual_tables._get
    t2 = tables.get("table2") or {}
    if t2:
        out["table2"] = {"rules": [get(t2, f"rules.{k}") for k in ("issued", "repealed", "in_force")],
                         "normative": [get(t2, f"normative.{k}") for k in ("issued", "repealed", "in_force")],
                         **{k: t2.get(k, "") for k in ("licensing", "punishment", "enforcement", "fees")}}
    t3 = tables.get("table3") or {}
    if t3:
        groups = []
        for group, (glabel, leaves) in annual_tables.T3_GROUPS.items():
            for i, (key, label) in enumerate(leaves):
                groups.append((f"{glabel} {label}" if i == 0 else label, list(get(t3, f"{group}.{key}") or [])))
        out["table3"] = {"columns": annual_tables.T3_COLUMNS,
                         "new": list(get(t3, "new") or []), "carried_over": list(get(t3, "carried_over") or []),
                         "granted": list(get(t3, "granted") or []), "partly": list(get(t3, "partly") or []),
                         "groups": groups, "total": list(get(t3, "total") or []),
                         "carried_forward": list(get(t3, "carried_forward") or []),
                         "result_rows": 2 + len(groups) + 1}
    t4 = tables.get("table4") or {}
    if t4:
        out["table4"] = {"parts": annual_tables.T4_PARTS,
                         "cells": [v for key, _ in annual_tables.T4_GROUPS for v in (t4.get(key) or [""] * 5)]}
    return out


def plan_site(corpus: Corpus, nav=None) -> SitePlan:
    return Planner(corpus, nav).build()


# what decides which lists show a record, where, and with which status (its own or another's)
PLACE_FIELDS = ("published", "type", "issuer", "topic", "column", "withdrawn", "repealed", "expires",
                "effective", "amends", "amended_by", "interprets", "related", "index_no")


def same_place(old: Record, new: Record, old_corpus: Corpus, new_corpus: Corpus) -> bool:
    """An edit that leaves every list as it was but for this record's own row (a title, a summary, a
    文号 corrected): the same lists, the same order, the same status here and elsewhere."""
    return (all(getattr(old, f) == getattr(new, f) for f in PLACE_FIELDS)
            and old_corpus.status(old) == new_corpus.status(new)
            and old_corpus.withdrawn(old) == new_corpus.withdrawn(new))


def relisted_pages(corpus: Corpus, records: list, previous: SitePlan) -> list:
    """The list pages of `previous` that show `records`, with those rows as `corpus` has them now
    (for records whose edit kept their place: `same_place`). The preview's lists ahead of the
    whole build; equal to the whole plan's list pages when nothing else changed."""
    import dataclasses

    planner = Planner(corpus)
    rows = {record_url(r): planner.row(r) for r in records}
    out = []
    for page in previous.pages:
        listing = page.data.get("listing") if isinstance(page.data, dict) else None
        if not isinstance(listing, Listing) or not any(x.url in rows for x in listing.rows):
            continue
        new_rows = tuple(rows.get(x.url, x) for x in listing.rows)
        new_listing = dataclasses.replace(listing, rows=new_rows, show_doc_no=any(x.doc_no for x in new_rows),
                                          show_status=any(x.status for x in new_rows))
        out.append(dataclasses.replace(page, data={**page.data, "listing": new_listing}))
    return out


def record_pages(corpus: Corpus, records: list, previous: SitePlan) -> list:
    """The page data of `records` alone (live records of `corpus`), placed where `previous` put
    them: its lists, its nav, so the breadcrumbs are those of a whole plan. What the preview
    server renders first after an edit, ahead of the whole (incremental) build, which then
    re-plans everything; equal to that plan's pages when the edit moved nothing else."""
    planner = Planner(corpus)
    planner.plan.nav = previous.nav
    planner.plan.where = dict(previous.where)
    out = []
    for r in records:
        planner.record_page(r)
        page = planner.plan.pages[-1]
        planner.finish(page, current=False)
        out.append(page)
    return out
