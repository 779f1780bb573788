"""Page data and the content renderer: what the planner hands to the templates, and how it is rendered.

The planner turns the corpus into `PageData`: plain, picklable values (strings, numbers, lists, the small
frozen dataclasses below), never markup and never MkDocs objects. `render_content(page, env, body_html)`
turns one page's data into its content HTML with the theme's `partials/portal/*.html` templates, in an
autoescaping Jinja environment (`make_env`) whose loader searches the site's override folder first, then
our theme, then Material. It is a pure function of (page data, settings, templates), callable without
MkDocs: a renderer outside MkDocs can compile one environment per worker and cache pages by their inputs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from markupsafe import Markup

from disclosure.site.html import rel

THEME_DIR = Path(__file__).resolve().parent.parent / "theme"


# ---------------------------------------------------------------------------------------- page data
@dataclass(frozen=True, slots=True)
class Link:
    title: str
    url: str | None = None  # site-root-relative ("records/x/", "" is home); None: not a link (current page)


@dataclass(frozen=True, slots=True)
class Row:
    """One record in a list: 索引号 · 名称 · 文号 · 日期, 内容概述 on request, 状态 where it has one."""
    title: str
    url: str
    index_no: str
    doc_no: str
    published: str
    unit: str
    type_label: str
    status: str = ""
    status_class: str = ""
    summary: str = ""


@dataclass(frozen=True, slots=True)
class Listing:
    rows: tuple
    show_doc_no: bool  # false when no row has a 文号: the column would be all 「—」
    show_status: bool
    caption: str = ""


@dataclass(frozen=True, slots=True)
class PagerItem:
    label: str
    url: str | None  # None: the current page or a gap
    rel: str = ""
    current: bool = False


@dataclass(frozen=True, slots=True)
class Pager:
    total: int
    first: int
    last: int
    page: int
    pages: int
    items: tuple = ()


@dataclass(frozen=True, slots=True)
class IndexRow:
    label: str
    url: str
    count: object  # int, or "" where counting makes no sense
    note: str = ""


@dataclass(frozen=True, slots=True)
class AttachmentView:
    title: str
    href: str  # relative to the record page (the file sits beside it)
    kind: str  # PDF, Word …
    size: str  # human readable
    mime: str | None = None


@dataclass(frozen=True, slots=True)
class Banner:
    kind: str  # repealed | expired | amended | withdrawn
    date: str = ""
    by: Link | None = None  # repealing act (a link when it is a live record, else its 文号 as text)
    links: tuple = ()  # amending acts


@dataclass(frozen=True, slots=True)
class RecordView:
    """Everything a record page may show. For a withdrawn record the planner leaves out what must not
    be public any more (summary, keywords, 文号, body, attachments): an overriding template cannot leak it."""
    title: str
    index_no: str
    type: str
    type_label: str
    unit: str
    written: str
    published: str
    topic: str = ""
    doc_no: str = ""
    column: Link | None = None
    status: str = ""
    status_class: str = ""
    reg_no: str = ""
    effective: str = ""
    expires: str = ""
    year: int | None = None
    keywords: tuple = ()
    genre: str = ""
    summary: str = ""
    withdrawn_date: str = ""
    withdrawn_reason: str = ""
    banner: Banner | None = None
    attachments: tuple = ()
    related: tuple = ()  # (label, Link)
    interpretations: tuple = ()  # Link: 相关解读, shown by the title
    annual: dict | None = None  # tables 2–4 as data (annual_view)


@dataclass
class PageData:
    """One generated page. `template` (under partials/portal/) renders `data` around the converted
    `markdown` (staff-written body, records only). `meta` is what the shell (main.html) needs."""
    src_uri: str
    url: str
    title: str
    template: str
    data: dict = field(default_factory=dict)
    markdown: str = ""
    meta: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------------------- rendering
def template_dirs(site_override: str | Path | None = None, material_dir: str | Path | None = None) -> list[str]:
    """Search order: the site's override folder, our theme, Material (a site overrides one partial)."""
    dirs = []
    if site_override and Path(site_override).resolve() != THEME_DIR:
        dirs.append(str(site_override))
    dirs.append(str(THEME_DIR))
    if material_dir is None:
        import material  # the theme package; no MkDocs import

        material_dir = Path(material.__file__).parent / "templates"
    dirs.append(str(material_dir))
    return dirs


@jinja2.pass_context
def _href(ctx, url: str | None) -> str:
    """A site-root-relative URL as seen from the page being rendered (`here`)."""
    return rel(ctx.get("here", ""), url or "")


def make_env(dirs: list[str], settings: dict | None = None) -> jinja2.Environment:
    """The autoescaping environment our partials are rendered with. `settings`: the site's
    `extra.portal` (plus site_name, site_url), available to every template as `portal`."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(dirs), autoescape=True, auto_reload=False,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)
    env.filters["href"] = _href
    env.globals["portal"] = settings or {}
    return env


_SECTION = {"table2": "二", "table3": "三", "table4": "四"}


def _section(body_html: str, key: str):
    return re.search(r"<h2\b[^>]*>\s*" + _SECTION[key] + r"、.*?</h2>", body_html, re.S)


def place_annual_tables(body_html: str, tables: dict) -> str:
    """Put each rendered table inside its section of the report (国办公开办函〔2021〕30号 layout):
    after the heading that starts 二、/三、/四、, replacing a placeholder paragraph 「（见统计表）」."""
    for key, html in tables.items():
        m = _section(body_html, key)
        if not m:
            continue
        after = body_html[m.end():]
        placeholder = re.match(r"\s*<p>\s*[（(]见统计表[）)]\s*</p>", after)
        if placeholder:
            after = after[placeholder.end():]
        body_html = body_html[: m.end()] + "\n" + html + after
    return body_html


def render_content(page: PageData, env: jinja2.Environment, body_html: str = "") -> str:
    """The page's content HTML: its template, rendered with its data. `body_html` is the converted
    (and sanitised) body of a record; it is the only markup that is not produced by our templates."""
    data = page.data
    record = data.get("record")
    extra = {"crumbs": page.meta.get("crumbs")}
    if record is not None and record.annual:
        table = env.get_template("partials/portal/annual-table.html")
        placed, rest = {}, []
        for key in ("table2", "table3", "table4"):
            if record.annual.get(key):
                in_body = _section(body_html, key) is not None
                html = table.render(key=key, table=record.annual[key], heading=not in_body, here=page.url)
                (placed.__setitem__(key, html) if in_body else rest.append(Markup(html)))
        body_html = place_annual_tables(body_html, placed)
        extra["annual_rest"] = rest
    return env.get_template(page.template).render(page=page, here=page.url, title=page.title,
                                                  body=Markup(body_html), **data, **extra)
