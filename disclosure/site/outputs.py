"""Post-build outputs beside the pages: feeds, the machine-readable catalogue, the search index."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlparse

from disclosure.site.planner import SitePlan, record_url
from disclosure.site.render import write_bytes
from disclosure.site.feeds import write_feeds
from disclosure.site.search import finish_index
from disclosure.site.selfhost import external_references, prune_and_neutralise


class OutputError(RuntimeError):
    pass


def catalogue_json(plan: SitePlan) -> dict:
    c = plan.corpus
    out = []
    for r in c.live:
        unit = c.cfg.unit(r.issuer)
        if c.withdrawn(r):
            # 行政处罚法 第四十八条: a withdrawn decision keeps only title, 索引号, dates and the reason;
            # nothing that may name the party (summary, keywords, 文号, topic …)
            out.append({
                "index_no": r.index_no, "title": r.title, "type": r.type, "type_label": r.type_label,
                "issuer": unit.name, "issuer_code": unit.code, "written": r.written.isoformat(),
                "published": r.published.isoformat(), "url": record_url(r), "withdrawn": True,
                "withdrawn_date": r.withdrawn.date.isoformat(), "withdrawn_reason": r.withdrawn.reason,
            })
            continue
        item = {
            "index_no": r.index_no, "title": r.title, "type": r.type, "type_label": r.type_label,
            "issuer": unit.name, "issuer_code": unit.code, "doc_no": r.doc_no, "topic": r.topic,
            "column": c.cfg.column(r.column).name if r.column else "", "written": r.written.isoformat(),
            "published": r.published.isoformat(), "summary": r.summary, "keywords": r.keywords,
            "url": record_url(r), "withdrawn": c.withdrawn(r),
        }
        if r.type == "normative":
            item.update(status=c.status(r), reg_no=r.reg_no, effective=str(r.effective), expires=str(r.expires))
        if r.type == "annual-report":
            item["year"] = r.year
        out.append(item)
    return {"office": c.cfg.office, "as_of": c.as_of.isoformat(), "count": len(out), "records": out}


def catalogue_text(cat: dict) -> str:
    """catalogue.json's text: one record per line (a diff shows the records that changed), keys sorted.
    json.dumps with `indent` runs the pure-Python encoder (8 s for 100,000 records); each line here
    is encoded by the C one."""
    head = json.dumps({k: v for k, v in cat.items() if k != "records"}, ensure_ascii=False, sort_keys=True)
    lines = ",\n".join(json.dumps(r, ensure_ascii=False, sort_keys=True) for r in cat["records"])
    return f'{head[:-1]}, "records": [\n{lines}\n]}}\n' if lines else f'{head[:-1]}, "records": []}}\n'


def own_hosts(cfg) -> set[str]:
    """The site's own host names (site_url, site_domain): references to them are not third-party."""
    return {h for h in (urlparse(cfg.site_url).hostname, cfg.site_domain) if h}


def write_outputs(plan: SitePlan, site_dir: Path, search: bool = True, indexing=None, feed_ids: set | None = None,
                  check: set | None = None) -> None:
    """`indexing`: the search index run the caller started (search.start_index), awaited here.
    Incremental builds: `feed_ids` the feeds to write (the others are unchanged, None: all),
    `check` the site-relative files written by this build (the third-party check reads only
    those; None: every file)."""
    prune_and_neutralise(site_dir)
    try:
        write_bytes(site_dir / "catalogue.json", catalogue_text(catalogue_json(plan)).encode("utf-8"), True)
        write_feeds(plan, site_dir, ids=feed_ids)
    finally:
        if indexing:
            finish_index(indexing, site_dir)
    external = external_references(site_dir, own_hosts(plan.corpus.cfg), only=check)
    if external:
        listing = "\n".join(f"  {f}: {u}" for f, u in external[:20])
        raise OutputError(f"生成的页面引用了外部网站（在境内可能无法访问，也不符合“无第三方请求”的要求）：\n{listing}")
