"""The search page (站内搜索): its data, from the records, and its template (partials/portal/search-page.html).

The filter options and their counts are computed here from the same values the index records carry
(search.IndexDoc), so the page shows them without downloading any part of the index, and a
filter-only search downloads only the filter it uses.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import jinja2

from disclosure.site import search

THEME_DIR = Path(__file__).resolve().parent.parent / "theme"
FILTERS = [("类型", "f-type", "type"), ("发布机构", "f-unit", "unit"), ("主题分类", "f-topic", "topic"),
           ("年份", "f-year", "year"), ("有效性", "f-status", "status")]


T2S_START, T2S_END = 0x3400, 0xA000  # CJK Extension A and Unified Ideographs: one bit each


def t2s_keys() -> dict:
    """The traditional → simplified table's keys, for portal-analysis.js `mayFold`: a bitmap (one bit
    per code point from T2S_START, base64) and the few keys outside it, so the browser fetches the
    table (portal-t2s.json) only when a query or result holds one of them."""
    import base64

    from disclosure.site import analysis

    bits = bytearray((T2S_END - T2S_START) // 8)
    extra = []
    for c in analysis.t2s_table():
        i = ord(c) - T2S_START
        if 0 <= i < T2S_END - T2S_START:
            bits[i >> 3] |= 1 << (i & 7)
        else:
            extra.append(c)
    return {"start": T2S_START, "bits": base64.b64encode(bytes(bits)).decode("ascii"), "extra": "".join(sorted(extra))}


def search_page_data(corpus, here: str = "search/") -> dict:
    from disclosure.site.planner import Planner, top_topic

    planner = Planner(corpus)
    counts = {name: Counter() for name, _, _ in FILTERS}
    for r in corpus.live:
        counts["类型"][r.type_label] += 1
        counts["发布机构"][corpus.cfg.unit(r.issuer).name] += 1
        if r.topic:
            counts["主题分类"][top_topic(r.topic)] += 1
        counts["年份"][str(r.published.year)] += 1
        st = planner.status(r)
        if st:
            counts["有效性"][st] += 1
    unit_order = {u.name: i for i, u in enumerate(corpus.cfg.units)}
    order = {
        "类型": lambda v: v,
        "发布机构": lambda v: (unit_order.get(v, 1 << 30), v),
        "主题分类": lambda v: v,
        "年份": lambda v: -int(v),
        "有效性": lambda v: ["有效", "已修改", "失效", "废止", "已撤回"].index(v) if v in ("有效", "已修改", "失效", "废止", "已撤回") else 9,
    }
    filters = []
    for name, fid, param in FILTERS:
        opts = [{"value": v, "count": n} for v, n in sorted(counts[name].items(), key=lambda kv: order[name](kv[0]))]
        filters.append({"name": name, "id": fid, "param": param, "options": opts})
    up = "../" * here.count("/")
    return {"filters": filters, "t2s_keys": t2s_keys(),
            "title_span": search.TITLE_SPAN, "bundle": up + search.BUNDLE_DIR + "/", "assets": up + "assets/", "catalogue": up + "catalogue/"}


def render(data: dict, dirs: list | None = None) -> str:
    """`dirs`: template folders searched first (a site's overrides), then our theme."""
    loader = jinja2.FileSystemLoader([*(dirs or []), str(THEME_DIR)])
    env = jinja2.Environment(loader=loader, autoescape=True, trim_blocks=True, lstrip_blocks=True)
    return env.get_template("partials/portal/search-page.html").render(**data)
