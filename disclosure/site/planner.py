"""The site plan: every generated page (records, catalogues, columns, home sections) as Markdown + meta.

Pure: Corpus in, `SitePlan` out. The MkDocs glue turns the plan into `File.generated` pages; the
feeds and the search index read the same plan, so one pass over the records feeds every output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from disclosure.model import annual_tables
from disclosure.model.corpus import Corpus
from disclosure.site.html import attrs, escape, human_size, rel
from disclosure.model.records import Record
from disclosure.model.schema import RECORD_TYPES

PER_PAGE = 20
TYPE_PLURAL = {"disclosure": "主动公开信息", "normative": "行政规范性文件", "annual-report": "政府信息公开年报",
               "interpretation": "政策解读"}
STATUS_CLASS = {"失效": "expired", "废止": "repealed", "已修改": "amended", "已撤回": "withdrawn"}
FILE_TYPES = {"pdf": "PDF", "doc": "Word", "docx": "Word", "xls": "Excel", "xlsx": "Excel", "wps": "WPS",
              "ofd": "OFD", "zip": "ZIP", "csv": "CSV", "txt": "文本", "jpg": "图片", "png": "图片"}


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


@dataclass
class GenPage:
    """A generated page. Only `markdown` (staff-written body text) goes through Markdown; the HTML we
    generate ourselves is placed around the converted body, which keeps Python-Markdown's raw-HTML
    parser (the dominant cost at scale) out of the way."""
    src_uri: str
    title: str
    markdown: str
    meta: dict = field(default_factory=dict)
    html_before: str = ""
    html_after: str = ""

    def wrap(self, body_html: str) -> str:
        return f"<h1>{escape(self.title)}</h1>\n{self.html_before}\n{body_html}\n{self.html_after}"


@dataclass
class FeedSpec:
    id: str  # file stem under feeds/: all, type-normative, unit-jyj, topic-t05
    title: str
    records: list
    page_url: str  # the catalogue page that shows the same records

    @property
    def rss(self) -> str:
        return f"feeds/{self.id}.xml"

    @property
    def atom(self) -> str:
        return f"feeds/{self.id}.atom.xml"


@dataclass
class SitePlan:
    corpus: Corpus
    pages: list = field(default_factory=list)
    attachments: list = field(default_factory=list)  # (src_uri, Path)
    feeds: list = field(default_factory=list)
    page_meta: dict = field(default_factory=dict)  # src_uri of hand-written pages → meta

    def by_src(self) -> dict:
        return {p.src_uri: p for p in self.pages}

    @cached_property
    def compliance_report(self):
        """Computed once a build: the site's 公开时效 page and the staff report beside the site share it."""
        from disclosure.supervision.report import build_report

        return build_report(self.corpus)


def topic_ids(taxonomy: dict) -> dict:
    """Top-level topic → URL id (t01 …), in the taxonomy file's order."""
    return {top: f"t{i:02d}" for i, top in enumerate(taxonomy, 1)}


def top_topic(topic: str) -> str:
    return topic.split("\\", 1)[0] if topic else ""


class Planner:
    def __init__(self, corpus: Corpus):
        self.c = corpus
        self.cfg = corpus.cfg
        self.plan = SitePlan(corpus)
        self.topic_id = topic_ids(self.cfg.taxonomy)
        self.feed_by_key: dict = {}

    # ---------------------------------------------------------------- helpers
    def unit_name(self, r: Record) -> str:
        return self.cfg.unit(r.issuer).name

    def status(self, r: Record) -> str:
        if self.c.withdrawn(r):
            return "已撤回"
        return self.c.status(r)

    def page_meta(self, column: str, **extra) -> dict:
        return {"column": column, **extra}

    def add(self, src_uri: str, title: str, html: str, meta: dict):
        """A page made only of generated HTML (lists, indexes); its Markdown source stays empty."""
        self.plan.pages.append(GenPage(src_uri, title, "", meta, html_after=html))

    def feed_links(self, *keys) -> list:
        out = []
        for k in keys:
            f = self.feed_by_key.get(k)
            if f:
                out.append({"title": f.title, "rss": f.rss, "atom": f.atom})
        return out

    # ---------------------------------------------------------------- lists
    def rows(self, records: list, here: str) -> str:
        if not records:
            return '<p class="portal-empty">暂无信息。</p>'
        head = ('<table class="portal-list"><thead><tr><th scope="col">标题</th><th scope="col">发文字号</th>'
                '<th scope="col">发布日期</th><th scope="col">状态</th></tr></thead><tbody>')
        body = []
        for r in records:
            st = self.status(r)
            badge = f'<span class="portal-status portal-status--{STATUS_CLASS.get(st, "valid")}">{st}</span>' if st else "—"
            body.append(
                f'<tr><td><a href="{rel(here, record_url(r))}">{escape(r.title)}</a>'
                f'<br><small>{escape(self.unit_name(r))} · {r.type_label}</small></td>'
                f'<td>{escape(r.doc_no) or "—"}</td><td><time datetime="{r.published}">{r.published}</time></td>'
                f"<td>{badge}</td></tr>")
        return head + "".join(body) + "</tbody></table>"

    def listing(self, base: str, title: str, records: list, column: str, intro: str = "", feed_keys=()):
        """Paginated list pages: base/index.md, base/page-2.md, …; newest first (records come sorted)."""
        chunks = [records[i : i + PER_PAGE] for i in range(0, len(records), PER_PAGE)] or [[]]
        n = len(chunks)
        feeds = self.feed_links(*feed_keys)
        for i, chunk in enumerate(chunks, 1):
            src = f"{base}index.md" if i == 1 else f"{base}page-{i}.md"
            here = url_of(src)
            parts = []
            if intro and i == 1:
                parts.append(intro if intro.lstrip().startswith("<") else f"<p>{intro}</p>")
            first = (i - 1) * PER_PAGE + 1 if records else 0
            last = (i - 1) * PER_PAGE + len(chunk)
            parts.append(f'<p class="portal-count">共 <strong data-count="{len(records)}">{len(records)}</strong> 条'
                         f"，第 {first}–{last} 条，第 {i}/{n} 页</p>")
            parts.append("")
            parts.append(self.rows(chunk, here))
            parts.append("")
            if n > 1:
                parts.append(self.pager(base, i, n, here))
                parts.append("")
            if feeds and i == 1:
                links = "".join(f'<a href="{rel(here, f["rss"])}">RSS</a> · <a href="{rel(here, f["atom"])}">Atom</a>' for f in feeds)
                parts.append(f'<p class="portal-feed">订阅本栏目：{links}</p>')
            self.add(src, title + (f"（第 {i} 页）" if i > 1 else ""), "\n".join(parts),
                     self.page_meta(column, feeds=feeds, list_page=i))

    def pager(self, base: str, i: int, n: int, here: str) -> str:
        def href(k):
            return rel(here, url_of(f"{base}index.md" if k == 1 else f"{base}page-{k}.md"))

        items = []
        if i > 1:
            items.append(f'<a href="{href(i - 1)}" rel="prev">上一页</a>')
        for k in range(1, n + 1):
            if k == i:
                items.append(f'<span aria-current="page">{k}</span>')
            elif k in (1, n) or abs(k - i) <= 2:
                items.append(f'<a href="{href(k)}">{k}</a>')
            elif abs(k - i) == 3:
                items.append("<span>…</span>")
        if i < n:
            items.append(f'<a href="{href(i + 1)}" rel="next">下一页</a>')
        return f'<nav class="portal-pager" aria-label="分页">{" ".join(items)}</nav>'

    def index_table(self, here: str, rows: list) -> str:
        """rows: (label, url, count, note)."""
        out = ['<table class="portal-index"><thead><tr><th scope="col">类别</th><th scope="col">信息数</th>'
               '<th scope="col">说明</th></tr></thead><tbody>']
        for label, url, count, note in rows:
            out.append(f'<tr><td><a href="{rel(here, url)}">{escape(label)}</a></td><td>{count}</td><td>{escape(note)}</td></tr>')
        out.append("</tbody></table>")
        return "".join(out)

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
        if self.cfg.compliance_page:
            self.compliance_page()
        self.plan.page_meta["index.md"] = self.page_meta("首页", feeds=self.feed_links("all"))
        return self.plan

    def compliance_page(self):
        """公开时效: the supervisor's report, published only when `extra.portal.compliance_page` is true."""
        from disclosure.supervision.render import report_body

        intro = ("<p>本页根据各单位发布的信息自动统计，判断依据为《中华人民共和国政府信息公开条例》第二十六条"
                 "（自信息形成或者变更之日起20个工作日内公开）和第四十九条（年度报告公布时限）。</p>")
        body = report_body(self.plan.compliance_report, public=True)  # no unpublished drafts on the public site
        self.add("compliance/index.md", "公开时效", intro + body, self.page_meta("公开时效"))

    def service_pages(self):
        """The search page (template partials/portal/search-page.html, data from search_page.py) and the list of feeds."""
        from disclosure.site import search_page

        self.add("search.md", "站内搜索", search_page.render(search_page.search_page_data(self.c)),
                 self.page_meta("站内搜索", search_page=True))

        here = "feeds/"
        rows = ['<table class="portal-index"><thead><tr><th scope="col">订阅内容</th><th scope="col">条数</th>'
                '<th scope="col">RSS 2.0</th><th scope="col">Atom</th></tr></thead><tbody>']
        for f in self.plan.feeds:
            rows.append(f'<tr><td><a href="{rel(here, f.page_url)}">{escape(f.title)}</a></td><td>{len(f.records)}</td>'
                        f'<td><a href="{rel(here, f.rss)}">{f.id}.xml</a></td><td><a href="{rel(here, f.atom)}">{f.id}.atom.xml</a></td></tr>')
        rows.append("</tbody></table>")
        md = ["<p>使用 RSS 阅读器订阅下列地址，即可在新信息发布后及时获知。每个订阅源包含该栏目的全部信息，按发布日期由新到旧排列。</p>",
              "".join(rows)]
        self.add("feeds.md", "信息订阅", "\n".join(md), self.page_meta("信息订阅", feeds=self.feed_links("all")))

    def plan_feeds(self, live):
        feeds = [FeedSpec("all", f"{self.cfg.office} 政府信息公开：全部信息", live, "catalogue/")]
        for t, label in RECORD_TYPES.items():
            feeds.append(FeedSpec(f"type-{t}", f"{self.cfg.office}：{label}", [r for r in live if r.type == t],
                                  f"catalogue/type/{t}/"))
        for u in self.cfg.units:
            feeds.append(FeedSpec(f"unit-{u.id}", f"{u.name}：政府信息公开", [r for r in live if r.issuer == u.id],
                                  f"catalogue/unit/{u.id}/"))
        for top, tid in self.topic_id.items():
            recs = [r for r in live if top_topic(r.topic) == top]
            if recs:
                feeds.append(FeedSpec(f"topic-{tid}", f"{self.cfg.office}：{top}", recs, f"catalogue/topic/{tid}/"))
        self.plan.feeds = feeds
        self.feed_by_key = {f.id: f for f in feeds}

    def catalogues(self, live):
        here = "catalogue/"
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
        md = [f"<p>本目录收录{escape(self.cfg.office)}及所属单位主动公开的政府信息，共 {len(live)} 条。"
              "可按类型、主题、发布机构和年份浏览，也可使用站内搜索。机器可读的目录数据见 "
              f'<a href="{rel(here, "catalogue.json")}">catalogue.json</a>。</p>',
              self.index_table(here, views)]
        self.add("catalogue/index.md", "信息目录", "\n".join(md), self.page_meta("信息目录", feeds=self.feed_links("all")))

        # by type
        here = "catalogue/type/"
        rows = [(TYPE_PLURAL[t], f"catalogue/type/{t}/", len(by_type.get(t, [])), label) for t, label in RECORD_TYPES.items()]
        self.add("catalogue/type/index.md", "按信息类型", self.index_table(here, rows),
                 self.page_meta("按信息类型"))
        for t in RECORD_TYPES:
            self.listing(f"catalogue/type/{t}/", TYPE_PLURAL[t], by_type.get(t, []), TYPE_PLURAL[t], feed_keys=(f"type-{t}",))

        # by topic
        here = "catalogue/topic/"
        rows = [(top, f"catalogue/topic/{tid}/", len(by_topic[top]),
                 "、".join(sorted({r.topic.split("\\", 1)[-1] for r in by_topic[top]})))
                for top, tid in self.topic_id.items() if top in by_topic]
        self.add("catalogue/topic/index.md", "按主题分类",
                 "<p>主题分类采用国务院公文主题分类。</p>" + self.index_table(here, rows), self.page_meta("按主题分类"))
        for top, tid in self.topic_id.items():
            if top in by_topic:
                self.listing(f"catalogue/topic/{tid}/", top, by_topic[top], top, feed_keys=(f"topic-{tid}",))

        # by unit: each unit's sub-portal
        here = "catalogue/unit/"
        rows = [(u.name, f"catalogue/unit/{u.id}/", len(by_unit.get(u.id, [])), u.level_label) for u in self.cfg.units]
        self.add("catalogue/unit/index.md", "按发布机构", self.index_table(here, rows), self.page_meta("按发布机构"))
        for u in self.cfg.units:
            recs = by_unit.get(u.id, [])
            base = f"catalogue/unit/{u.id}/"
            reports = [r for r in recs if r.type == "annual-report"]
            norm = [r for r in recs if r.type == "normative"]
            intro = [f'<dl class="portal-unit"><dt>统一社会信用代码</dt><dd>{u.code}</dd><dt>机构类别</dt><dd>{u.level_label}</dd></dl>']
            if reports:
                intro.append('<h2 id="reports">政府信息公开年报</h2><ul>' + "".join(
                    f'<li><a href="{rel(base, record_url(r))}">{escape(r.title)}</a>（{r.published}）</li>' for r in reports) + "</ul>")
            if norm:
                intro.append('<h2 id="normative">规范性文件</h2><ul>' + "".join(
                    f'<li><a href="{rel(base, record_url(r))}">{escape(r.title)}</a> {escape(r.doc_no)}（{self.status(r)}）</li>'
                    for r in norm) + "</ul>")
            intro.append('<h2 id="all">全部信息</h2>')
            self.listing(base, u.name, recs, u.name, intro="\n\n".join(intro), feed_keys=(f"unit-{u.id}",))

        # by year
        here = "catalogue/year/"
        years = sorted(by_year, reverse=True)
        rows = [(f"{y} 年", f"catalogue/year/{y}/", len(by_year[y]), "") for y in years]
        self.add("catalogue/year/index.md", "按年份", self.index_table(here, rows), self.page_meta("按年份"))
        for y in years:
            self.listing(f"catalogue/year/{y}/", f"{y} 年发布的信息", by_year[y], "按年份")

        # normative documents: current, and the separate list of repealed and expired ones
        intro = ('现行有效的行政规范性文件（含已部分修改的文件）。已废止和已失效的文件见'
                 f'<a href="{rel("catalogue/normative/", "catalogue/normative/invalid/")}">废止和失效的规范性文件</a>。')
        self.listing("catalogue/normative/", "行政规范性文件", current, "行政规范性文件", intro=intro, feed_keys=("type-normative",))
        self.listing("catalogue/normative/invalid/", "废止和失效的规范性文件", invalid, "行政规范性文件",
                     intro="以下文件已废止或已失效，不再作为行政管理的依据，保留原文供查阅。")

    def columns(self, live):
        by_col = self.c.group_live(lambda r: r.column)
        here = "xxgk/fdzdgknr/"
        rows = [(c.name, f"xxgk/fdzdgknr/{c.id}/", len(by_col.get(c.id, [])), c.item) for c in self.cfg.columns]
        md = ["<p>依据《中华人民共和国政府信息公开条例》第二十条、第二十一条，按下列栏目主动公开政府信息。</p>",
              self.index_table(here, rows)]
        self.add("xxgk/fdzdgknr/index.md", "法定主动公开内容", "\n".join(md), self.page_meta("法定主动公开内容"))
        for c in self.cfg.columns:
            self.listing(f"xxgk/fdzdgknr/{c.id}/", c.name, by_col.get(c.id, []), c.name, intro=f"{c.item}" if c.item else "")
        sub = [("政府信息公开指南", "xxgk/guide/", "", "信息分类、获取方式、工作机构及联系方式"),
               ("政府信息公开制度", "xxgk/system/", "", "主动公开、依申请公开、保密审查等工作制度"),
               ("法定主动公开内容", "xxgk/fdzdgknr/", len([r for r in live if r.column]), "《条例》第二十条规定的主动公开内容"),
               ("政府信息公开年报", "xxgk/annual-reports/", len([r for r in live if r.type == "annual-report"]), "各单位年度报告"),
               ("依申请公开", "xxgk/apply/", "", "申请方式、申请表和办理时限")]
        md = [f"<p>{escape(self.cfg.office)}政府信息公开专栏，按照国务院办公厅统一要求设置政府信息公开指南、"
              "政府信息公开制度、法定主动公开内容、政府信息公开年报四个子栏目，并提供依申请公开渠道。</p>",
              self.index_table("xxgk/", sub)]
        self.add("xxgk/index.md", "政府信息公开", "\n".join(md), self.page_meta("政府信息公开", feeds=self.feed_links("all")))

    def annual_reports(self, live):
        reports = [r for r in live if r.type == "annual-report"]
        here = "xxgk/annual-reports/"
        years = sorted({r.year for r in reports}, reverse=True)
        md = ["<p>各单位按照《中华人民共和国政府信息公开条例》第四十九条、第五十条，于每年1月31日前（政府部门）"
              "或3月31日前（县级人民政府）公布上一年度政府信息公开工作年度报告。</p>"]
        for y in years:
            md.append(f'<h2 id="y{y}">{y} 年度</h2>')
            md.append(self.rows([r for r in reports if r.year == y], here))
        self.add("xxgk/annual-reports/index.md", "政府信息公开年报", "\n".join(md),
                 self.page_meta("政府信息公开年报", feeds=self.feed_links("type-annual-report")))

    # ---------------------------------------------------------------- record pages
    def record_page(self, r: Record):
        here = record_url(r)
        unit = self.cfg.unit(r.issuer)
        status = self.status(r)
        withdrawn = self.c.withdrawn(r)
        before = [self.banner(r, status, here), self.meta_block(r, unit, status), self.search_data(r, unit, status)]
        after = []
        if withdrawn:
            body = ""
            before.append(f'<div class="portal-withdrawn" role="note"><p><strong>本信息已于 {r.withdrawn.date} 撤回。</strong></p>'
                          f"<p>撤回理由：{escape(r.withdrawn.reason)}</p></div>")
        else:
            body = r.body.strip()
            if r.type == "annual-report" and r.tables:
                after.append(annual_tables.render(r.tables))
            if r.attachments:
                after.append(self.attachments(r))
        after.append(self.related(r, here))
        self.plan.pages.append(GenPage(
            f"records/{r.slug}.md", r.title, body,
            self.page_meta(
                self.cfg.column(r.column).name if r.column else TYPE_PLURAL[r.type],
                record={"title": r.title, "pubdate": r.published.isoformat(), "source": unit.name,
                        "index_no": r.index_no, "doc_no": r.doc_no, "keywords": "，".join(r.keywords),
                        "description": r.summary},
                searchable=True,
            ),
            html_before="\n".join(x for x in before if x), html_after="\n".join(x for x in after if x)))
        if not withdrawn:
            for a in r.attachments:
                self.plan.attachments.append((f"records/{r.slug}/{Path(a.file).name}", a.path))

    def banner(self, r: Record, status: str, here: str) -> str:
        if status == "已撤回":
            return f'<div class="portal-banner portal-banner--withdrawn" role="note"><strong>已撤回</strong>：本信息已于 {r.withdrawn.date} 撤回。</div>'
        if status == "废止":
            by = self.c.by_index.get(r.repealed.by)
            what = f'<a href="{rel(here, record_url(by))}">{escape(by.title)}</a>' if by and by.is_live(self.c.as_of) else escape(r.repealed.by)
            return (f'<div class="portal-banner portal-banner--repealed" role="note"><strong>已废止</strong>：'
                    f"本文件已于 {r.repealed.date} 废止（废止依据：{what}），不再作为行政管理的依据。</div>")
        if status == "失效":
            return (f'<div class="portal-banner portal-banner--expired" role="note"><strong>已失效</strong>：'
                    f"本文件有效期至 {r.expires}，已到期失效，不再作为行政管理的依据。</div>")
        if status == "已修改":
            links = "、".join(f'<a href="{rel(here, record_url(a))}">{escape(a.title)}</a>'
                             for idx in r.amended_by if (a := self.c.by_index.get(idx)) and a.is_live(self.c.as_of))
            return (f'<div class="portal-banner portal-banner--amended" role="note"><strong>已修改</strong>：'
                    f"本文件已被 {links} 修改，请结合修改后的规定阅读。</div>")
        return ""

    def meta_block(self, r: Record, unit, status: str) -> str:
        cells = [("索引号", r.index_no), ("主题分类", r.topic or "—"),
                 ("发布机构", unit.name), ("成文日期", str(r.written)),
                 ("发文字号", r.doc_no or "—"), ("发布日期", str(r.published))]
        if r.type == "normative":
            cells += [("有效性", status), ("登记编号", r.reg_no or "—"),
                      ("施行日期", str(r.effective) if r.effective else "—"), ("有效期至", str(r.expires) if r.expires else "—")]
        if r.type == "annual-report":
            cells += [("报告年度", f"{r.year} 年"), ("信息类型", r.type_label)]
        if r.keywords or r.genre:
            cells += [("主题词", "　".join(r.keywords) or "—"), ("体裁", r.genre or "—")]
        rows = []
        for i in range(0, len(cells), 2):
            pair = cells[i : i + 2]
            rows.append("<tr>" + "".join(f'<th scope="row">{k}</th><td>{escape(v)}</td>' for k, v in pair) + "</tr>")
        rows.append(f'<tr><th scope="row">标题</th><td colspan="3">{escape(r.title)}</td></tr>')
        if r.summary:
            rows.append(f'<tr><th scope="row">内容概述</th><td colspan="3">{escape(r.summary)}</td></tr>')
        return f'<table class="portal-meta" aria-label="信息元数据"><tbody>{"".join(rows)}</tbody></table>'

    def search_data(self, r: Record, unit, status: str) -> str:
        """Nothing on the page: the search index is built from the model (disclosure/site/search.py)."""
        return ""

    def attachments(self, r: Record) -> str:
        items = []
        for a in r.attachments:
            name = Path(a.file).name
            kind = FILE_TYPES.get(a.suffix, a.suffix.upper() or "文件")
            items.append(f'<li><a href="{escape(name)}" download{attrs(type=_mime(a.suffix))}>{escape(a.title)}</a> '
                         f'<span class="portal-file">（{kind}，{human_size(a.size)}）</span></li>')
        return '<h2 id="attachments">附件</h2><ul class="portal-attachments">' + "".join(items) + "</ul>"

    def related(self, r: Record, here: str) -> str:
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
        if not links:
            return ""
        items = "".join(f'<li>{label}：<a href="{rel(here, record_url(doc))}">{escape(doc.title)}</a></li>' for label, doc in links)
        return f'<h2 id="related">相关信息</h2><ul class="portal-related">{items}</ul>'


def _mime(suffix: str) -> str | None:
    return {"pdf": "application/pdf", "csv": "text/csv", "txt": "text/plain"}.get(suffix)


def plan_site(corpus: Corpus) -> SitePlan:
    return Planner(corpus).build()


def home_sections(plan: SitePlan, per_type: int = 6) -> str:
    """Markdown appended to the hand-written home page: the column entries and the latest of each type."""
    c = plan.corpus
    entries = [("政府信息公开指南", "xxgk/guide/"), ("政府信息公开制度", "xxgk/system/"),
               ("法定主动公开内容", "xxgk/fdzdgknr/"), ("政府信息公开年报", "xxgk/annual-reports/"),
               ("依申请公开", "xxgk/apply/"), ("行政规范性文件", "catalogue/normative/"), ("站内搜索", "search/")]
    out = ['<nav class="portal-entries" aria-label="栏目入口"><ul>' +
           "".join(f'<li><a href="{url}">{label}</a></li>' for label, url in entries) + "</ul></nav>", ""]
    for t, label in TYPE_PLURAL.items():
        recs = [r for r in c.live if r.type == t][:per_type]
        if not recs:
            continue
        out.append(f'<section class="portal-latest" aria-labelledby="latest-{t}"><h2 id="latest-{t}">最新{label}</h2><ul>')
        out.append("".join(f'<li><a href="{record_url(r)}">{escape(r.title)}</a> <time datetime="{r.published}">{r.published}</time></li>'
                           for r in recs))
        out.append(f'</ul><p><a href="catalogue/type/{t}/">更多{label}</a></p></section>')
        out.append("")
    return "\n".join(out)
