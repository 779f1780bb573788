"""RSS and Atom feeds: parse cleanly, match the records, stable GUIDs, identical across builds."""

import datetime as dt
import email.utils
import filecmp

import feedparser
import pytest
import yaml

from conftest import AS_OF, ROOT, build, copy_site_source


@pytest.fixture(scope="module")
def live_records():
    as_of = dt.date.fromisoformat(AS_OF)
    out = []
    for p in ROOT.glob("content/records/**/*.md"):
        fm = yaml.safe_load(p.read_text(encoding="utf-8").split("\n---\n", 1)[0][4:])
        if fm.get("published") and fm["published"] <= as_of:
            out.append(fm)
    return sorted(out, key=lambda r: (r["published"], r["index_no"]), reverse=True)


def parse(path):
    feed = feedparser.parse(path.read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    return feed


LIMIT = 50  # extra.portal.feed_entries, default (the demo does not set it)


def change_day(r, by_index):
    """The day a live record's status changed (撤回; 废止, 失效, 已修改 for normative documents), from its sources."""
    as_of = dt.date.fromisoformat(AS_OF)
    if r.get("withdrawn") and r["withdrawn"]["date"] <= as_of:
        return r["withdrawn"]["date"]
    if r["type"] != "normative":
        return None
    if r.get("repealed") and r["repealed"]["date"] <= as_of:
        return r["repealed"]["date"]
    if _expiry(r) < as_of:
        return _expiry(r) + dt.timedelta(days=1)
    amending = [by_index[i]["published"] for i in r.get("amended_by", []) if i in by_index]
    return max(amending) if amending else None


def expected_entries(records, live_records):
    """A feed's entries: the LIMIT records published or changed most recently, in catalogue order."""
    if len(records) <= LIMIT:
        return records
    by_index = {r["index_no"]: r for r in live_records}

    def latest(r):
        return max(r["published"], change_day(r, by_index) or r["published"])

    keep = {r["index_no"] for r in sorted(records, key=lambda r: (latest(r), r["published"], r["index_no"]),
                                           reverse=True)[:LIMIT]}
    return [r for r in records if r["index_no"] in keep]


def ids(records):
    return [f"urn:gov-disclosure:{r['index_no']}" for r in records]


@pytest.mark.parametrize("name", ["all.xml", "all.atom.xml"])
def test_all_feed_matches_records(demo_site, live_records, name):
    feed = parse(demo_site / "feeds" / name)
    expected = expected_entries(live_records, live_records)
    assert len(live_records) > LIMIT and len(feed.entries) == LIMIT  # the limit is reached in the demo
    assert [e.id for e in feed.entries] == ids(expected)
    # an old record whose status changed lately is in, a newer unchanged one is out
    by_index = {r["index_no"]: r for r in live_records}
    newest_out = max(r["published"] for r in live_records if r not in expected)
    assert any(r["published"] < newest_out for r in expected if change_day(r, by_index)), \
        "the demo should have a status change that brings an older record into the feed"
    described = feed.feed.get("subtitle") or feed.feed.get("description") or ""
    assert f"共 {len(live_records)} 条" in described and f"最近发布或有效性变化的 {LIMIT} 条" in described
    newest = live_records[0]["published"]
    assert when(feed.feed.updated) == dt.datetime(newest.year, newest.month, newest.day, tzinfo=CST)
    for entry, r in zip(feed.entries, expected):
        assert when(entry.published) == dt.datetime(r["published"].year, r["published"].month, r["published"].day, tzinfo=CST)
    assert feed.feed.link == "https://www.qinglan.gov.cn/catalogue/"
    self_link = next(l.href for l in feed.feed.links if l.rel == "self")
    assert self_link == f"https://www.qinglan.gov.cn/feeds/{name}"


CST = dt.timezone(dt.timedelta(hours=8))


def when(text: str) -> dt.datetime:
    """Feed dates as written: RFC 822 (RSS) or RFC 3339 (Atom); both must carry +08:00."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        value = email.utils.parsedate_to_datetime(text)
    assert value.utcoffset() == dt.timedelta(hours=8), text
    return value


def test_per_type_unit_topic_feeds(demo_site, live_records):
    normative = [r for r in live_records if r["type"] == "normative"]
    assert [e.id for e in parse(demo_site / "feeds/type-normative.xml").entries] == \
        ids(expected_entries(normative, live_records))
    disclosures = [r for r in live_records if r["type"] == "disclosure"]
    assert [e.id for e in parse(demo_site / "feeds/type-disclosure.atom.xml").entries] == \
        ids(expected_entries(disclosures, live_records))
    jyj = [r for r in live_records if r["issuer"] == "青岚县教育局"]
    assert [e.id for e in parse(demo_site / "feeds/unit-jyj.atom.xml").entries] == ids(expected_entries(jyj, live_records))
    topics = list((demo_site / "feeds").glob("topic-*.xml"))
    assert len(topics) >= 10  # rss + atom per topic in use
    groups: dict = {}
    for r in live_records:
        if r.get("topic"):
            groups.setdefault(r["topic"].split("\\", 1)[0], []).append(r)
    assert sum(len(parse(p).entries) for p in topics if not p.name.endswith(".atom.xml")) == \
        sum(len(expected_entries(g, live_records)) for g in groups.values())


def test_feed_entries_pure_rule():
    """feed_entries: the latest by publication or status change; catalogue order kept; 0 keeps all."""
    from types import SimpleNamespace as NS

    from disclosure.site.planner import feed_entries

    day = dt.date.fromisoformat
    recs = [NS(index_no=f"X/{i}", published=day(f"2026-0{9 - i}-01"), type="disclosure", withdrawn=None) for i in range(5)]
    old = recs[-1]
    old.withdrawn = NS(date=day("2026-11-01"))  # the oldest, withdrawn last month

    class Corpus:
        as_of = day("2026-11-20")
        by_index: dict = {}

        def withdrawn(self, r):
            return r.withdrawn is not None and r.withdrawn.date <= self.as_of

        def status(self, r):
            return ""

    c = Corpus()
    assert feed_entries(recs, c, 3) == [recs[0], recs[1], old]
    assert feed_entries(recs, c, 0) == recs and feed_entries(recs, c, 9) == recs
    old.withdrawn = NS(date=day("2026-12-01"))  # not yet: no change as of the build date
    assert feed_entries(recs, c, 3) == recs[:3]


def test_withdrawn_entry_says_so(demo_site):
    feed = parse(demo_site / "feeds/all.xml")
    entry = next(e for e in feed.entries if "青市监罚〔2025〕12号" in e.title)
    assert entry.title.startswith("【已撤回】")
    assert "撤回理由" in entry.summary


def test_autodiscovery_links(demo_site):
    home = (demo_site / "index.html").read_text(encoding="utf-8")
    assert 'type="application/rss+xml"' in home and 'href="feeds/all.xml"' in home
    unit = (demo_site / "catalogue/unit/jyj/index.html").read_text(encoding="utf-8")
    assert 'href="../../../feeds/unit-jyj.atom.xml"' in unit


def test_feeds_identical_across_builds(demo_site, tmp_path):
    again = tmp_path / "site"
    assert build(again, search=False).returncode == 0
    names = sorted(p.name for p in (demo_site / "feeds").glob("*.xml"))
    assert names == sorted(p.name for p in (again / "feeds").glob("*.xml"))
    match, mismatch, errors = filecmp.cmpfiles(demo_site / "feeds", again / "feeds", names, shallow=False)
    assert mismatch == [] and errors == [] and len(match) == len(names)


def _expiry(fm):
    if fm.get("expires"):
        return fm["expires"]
    years = 2 if fm.get("trial", "暂行" in fm["title"] or "试行" in fm["title"]) else 5
    eff = fm["effective"]
    return eff.replace(year=eff.year + years) - dt.timedelta(days=1)


def test_status_changes_are_marked_with_their_date(demo_site, live_records):
    """废止 / 失效 / 已修改 in the entry title, Atom `updated` = the day the status changed (from the sources)."""
    as_of = dt.date.fromisoformat(AS_OF)
    by_index = {r["index_no"]: r for r in live_records}
    expected = {}
    for r in live_records:
        if r["type"] != "normative":
            continue
        if r.get("repealed") and r["repealed"]["date"] <= as_of:
            expected[r["index_no"]] = ("【已废止】", r["repealed"]["date"])
        elif _expiry(r) < as_of:
            expected[r["index_no"]] = ("【已失效】", _expiry(r) + dt.timedelta(days=1))
        elif any(i in by_index for i in r.get("amended_by", [])):
            expected[r["index_no"]] = ("【已修改】", max(by_index[i]["published"] for i in r["amended_by"] if i in by_index))
    assert {m for m, _ in expected.values()} == {"【已废止】", "【已失效】", "【已修改】"}
    feed = parse(demo_site / "feeds/type-normative.atom.xml")
    entries = {e.id.removeprefix("urn:gov-disclosure:"): e for e in feed.entries}
    for idx, (mark, day) in expected.items():
        e = entries[idx]
        assert e.title == mark + by_index[idx]["title"]
        assert when(e.updated).date() == day, (idx, e.updated)
    for idx, e in entries.items():
        if idx not in expected:
            assert not e.title.startswith("【") and e.updated == e.published
    rss = parse(demo_site / "feeds/type-normative.xml")
    assert sum(e.title.startswith(("【已废止】", "【已失效】", "【已修改】")) for e in rss.entries) == len(expected)


def test_feeds_covering_all_units_are_titled_after_the_site(demo_site):
    site = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["site_name"]
    for p in sorted((demo_site / "feeds").glob("*.xml")):
        title = parse(p).feed.title
        if p.name.startswith(("topic-", "type-", "all")):
            assert title.startswith(site + "："), (p.name, title)
        elif p.name.startswith("unit-"):
            assert "：政府信息公开" in title


def test_feed_entries_setting(tmp_path, live_records):
    """extra.portal.feed_entries: 0 puts every record in the feeds; a wrong value is named with its fix."""
    cfg = copy_site_source(tmp_path / "src")
    text = cfg.read_text(encoding="utf-8")
    cfg.write_text(text.replace("  portal:\n", "  portal:\n    feed_entries: 0\n", 1), encoding="utf-8")
    site = tmp_path / "site"
    assert build(site, config=cfg, search=False, cwd=tmp_path).returncode == 0
    assert [e.id for e in parse(site / "feeds/all.atom.xml").entries] == ids(live_records)
    cfg.write_text(text.replace("  portal:\n", "  portal:\n    feed_entries: 五十\n", 1), encoding="utf-8")
    run = build(tmp_path / "bad", config=cfg, search=False, cwd=tmp_path)
    assert run.returncode != 0
    out = run.stdout + run.stderr
    assert "feed_entries" in out and "不小于 0 的整数" in out and "feed_entries: 50" in out
