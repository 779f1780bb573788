"""RSS 2.0 and Atom feeds with feedgen: newest first, GUIDs from the 索引号, dates in +08:00.

Reproducible: the feed's own date is its newest entry's (feedgen would use 'now'), entries are
appended in our order (feedgen prepends by default), and nothing depends on the build path.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from pathlib import Path

from feedgen.feed import FeedGenerator

from disclosure.site.planner import FeedSpec, SitePlan, record_url, status_change
from disclosure.site.render import write_bytes
from disclosure.model.corpus import SHANGHAI


def _at_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)


def site_base(plan: SitePlan) -> str:
    cfg = plan.corpus.cfg
    base = cfg.site_url or (f"https://{cfg.site_domain}/" if cfg.site_domain else "/")
    return base if base.endswith("/") else base + "/"


def guid(index_no: str) -> str:
    """A permanent, location-independent id: the 索引号 as a tag URI-like URN."""
    return f"urn:gov-disclosure:{index_no}"


def build_feed(spec: FeedSpec, plan: SitePlan, self_path: str) -> FeedGenerator:
    c = plan.corpus
    base = site_base(plan)
    fg = FeedGenerator()
    fg.id(f"urn:gov-disclosure-feed:{c.cfg.site_domain or c.cfg.office}:{spec.id}")
    fg.title(spec.title)
    shown = len(spec.records)
    fg.description(f"{spec.title}（共 {spec.total} 条" + (f"，本订阅源为最近发布或有效性变化的 {shown} 条" if shown < spec.total else "")
                   + "，按发布日期由新到旧）")
    fg.link(href=base + self_path, rel="self")
    fg.link(href=base + spec.page_url, rel="alternate")  # last: feedgen uses it as the RSS <link>
    fg.language("zh-CN")
    fg.author({"name": c.cfg.office})
    changes = {r.index_no: status_change(r, c) for r in spec.records}
    # the feed's date: its newest entry, by publication or by a later status change
    newest = max([r.published for r in spec.records] + [d for _, d in changes.values() if d], default=c.as_of)
    fg.updated(_at_midnight(newest))
    fg.lastBuildDate(_at_midnight(newest))
    fg.generator("disclosure portal generator (feedgen)")
    for r in spec.records:
        unit = c.cfg.unit(r.issuer)
        mark, changed = changes[r.index_no]
        fe = fg.add_entry(order="append")
        fe.id(guid(r.index_no))
        fe.link(href=base + record_url(r))
        when = _at_midnight(r.published)
        fe.published(when)
        fe.updated(_at_midnight(changed) if changed else when)
        fe.author({"name": unit.name})
        fe.category(term=r.type_label)
        fe.title(f"{mark}{r.title}")
        if c.withdrawn(r):
            fe.description(f"本信息已于 {r.withdrawn.date} 撤回。撤回理由：{r.withdrawn.reason}")
        else:
            facts = [f"索引号：{r.index_no}", f"发布机构：{unit.name}"]
            if r.doc_no:
                facts.append(f"发文字号：{r.doc_no}")
            if mark and changed:
                facts.append(f"有效性：{mark.strip('【】')}（{changed}）")
            fe.description("；".join(facts) + ("。" + r.summary if r.summary else "。"))
    return fg


_PLAN: dict = {}  # what forked workers write from


def _write_specs(args) -> list[str]:
    site_dir, ids = args
    plan = _PLAN["plan"]
    out = []
    for spec in plan.feeds:
        if spec.id not in ids:
            continue
        for rel_path, render in ((spec.rss, FeedGenerator.rss_str), (spec.atom, FeedGenerator.atom_str)):
            path = Path(site_dir) / rel_path
            # beside and renamed over: in a recycled folder (build.py) the old file may be a hard
            # link to the last good site's
            write_bytes(path, render(build_feed(spec, plan, rel_path), pretty=True), True)
            out.append(str(path))
    return out


def write_feeds(plan: SitePlan, site_dir: Path, jobs: int | None = None, ids: set | None = None) -> list[Path]:
    """Write every feed (or those in `ids`: an incremental build keeps the unchanged ones); large
    sites spread the feeds over worker processes (each feed is independent)."""
    (site_dir / "feeds").mkdir(parents=True, exist_ok=True)
    jobs = jobs or int(os.environ.get("DISCLOSURE_JOBS") or 0) or os.cpu_count() or 1
    specs = [f for f in plan.feeds if ids is None or f.id in ids]
    entries = sum(len(f.records) for f in specs)
    # balance by size: deal the feeds, largest first, round-robin over 4 batches per worker
    ordered = sorted(specs, key=lambda f: len(f.records), reverse=True)
    n_batches = 1 if jobs == 1 or entries < 5000 else jobs * 4
    batches = [set() for _ in range(n_batches)]
    for i, spec in enumerate(ordered):
        batches[i % n_batches].add(spec.id)
    _PLAN["plan"] = plan
    try:
        if n_batches == 1:
            written = _write_specs((str(site_dir), batches[0]))
        else:
            with multiprocessing.get_context("fork").Pool(jobs) as pool:
                written = [p for part in pool.map(_write_specs, [(str(site_dir), b) for b in batches]) for p in part]
    finally:
        _PLAN.clear()
    return [Path(p) for p in written]
