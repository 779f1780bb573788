"""RSS and Atom feeds: parse cleanly, match the records, stable GUIDs, identical across builds."""

import datetime as dt
import email.utils
import filecmp

import feedparser
import pytest
import yaml

from conftest import AS_OF, ROOT, build


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


@pytest.mark.parametrize("name", ["all.xml", "all.atom.xml"])
def test_all_feed_matches_records(demo_site, live_records, name):
    feed = parse(demo_site / "feeds" / name)
    assert len(feed.entries) == len(live_records)
    assert [e.id for e in feed.entries] == [f"urn:gov-disclosure:{r['index_no']}" for r in live_records]
    newest = live_records[0]["published"]
    assert when(feed.feed.updated) == dt.datetime(newest.year, newest.month, newest.day, tzinfo=CST)
    for entry, r in zip(feed.entries, live_records):
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
    assert len(parse(demo_site / "feeds/type-normative.xml").entries) == len(normative)
    jyj = [r for r in live_records if r["issuer"] == "青岚县教育局"]
    assert len(parse(demo_site / "feeds/unit-jyj.atom.xml").entries) == len(jyj)
    topics = list((demo_site / "feeds").glob("topic-*.xml"))
    assert len(topics) >= 10  # rss + atom per topic in use
    assert sum(len(parse(p).entries) for p in topics if not p.name.endswith(".atom.xml")) == \
        len([r for r in live_records if r.get("topic")])


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
