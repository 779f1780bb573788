"""Incremental builds (disclosure.site.engine.SiteBuilder + the page cache) equal clean builds, byte for byte.

One warm builder follows a private copy of the demo site through every kind of change, in file
order (each test starts from the state the previous one left); after each change its output
folder must equal a clean build of the same sources and date, file for file (the search index is
disabled: it is not what is tested). Counts of rendered pages prove the cache is used.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import shutil
from pathlib import Path

import pytest

from conftest import AS_OF, ROOT, copy_site_source

DAY = dt.date.fromisoformat(AS_OF)


def tree(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def assert_same(a: Path, b: Path, skip=()):
    ta, tb = tree(a), tree(b)
    for name in skip:
        ta.pop(name, None), tb.pop(name, None)
    assert sorted(ta) == sorted(tb), (sorted(set(ta) - set(tb))[:10], sorted(set(tb) - set(ta))[:10])
    differ = [k for k in ta if ta[k] != tb[k]]
    assert not differ, f"{len(differ)} files differ, e.g. {differ[:8]}"


class World:
    def __init__(self, base: Path):
        from disclosure.site.engine import SiteBuilder

        self.base = base
        self.src = base / "src"
        self.src.mkdir()
        self.config = copy_site_source(self.src)
        # a site override folder with one partial of ours, so a template override can change
        self.overrides = self.src / "overrides"
        (self.overrides / "partials" / "portal").mkdir(parents=True)
        shutil.copy(ROOT / "disclosure" / "theme" / "partials" / "portal" / "footer.html",
                    self.overrides / "partials" / "portal" / "footer.html")
        text = self.config.read_text(encoding="utf-8")
        text = re.sub(r"custom_dir: .*", f"custom_dir: {self.overrides}", text)
        self.config.write_text(text, encoding="utf-8")
        self.site = base / "site"
        self.as_of = DAY
        self.builder = SiteBuilder(self.config, self.site, as_of=DAY, search=False)
        self.n = 0

    def records(self) -> Path:
        return self.src / "content" / "records"

    def clean_build(self) -> Path:
        from disclosure.site.engine import SiteBuilder

        self.n += 1
        out = self.base / f"clean-{self.n}"
        result = SiteBuilder(self.config, out, as_of=self.as_of, search=False, clean=True).build()
        assert result.ok, result.message
        return out

    def rebuild_and_compare(self):
        self.builder.as_of = self.as_of
        result = self.builder.build()
        assert result.ok, result.message
        assert_same(self.site, self.clean_build())
        return result


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    logging.getLogger("mkdocs").setLevel(logging.ERROR)
    old = {k: os.environ.get(k) for k in ("SOURCE_DATE_EPOCH", "DISCLOSURE_CACHE", "DISCLOSURE_CACHE_DIR")}
    os.environ["SOURCE_DATE_EPOCH"] = "1763596800"
    os.environ.pop("DISCLOSURE_CACHE", None)
    base = tmp_path_factory.mktemp("incremental")
    os.environ["DISCLOSURE_CACHE_DIR"] = str(base / ".cache")
    w = World(base)
    first = w.builder.build()
    assert first.ok, first.message
    w.first = first
    yield w
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def test_first_build_renders_everything_and_equals_a_clean_build(world):
    assert world.first.rendered > 100 and world.first.reused == 0
    assert_same(world.site, world.clean_build())


def test_nothing_changed_renders_nothing(world):
    result = world.rebuild_and_compare()
    assert result.rendered == 0 and result.reused == world.first.rendered


def test_edit_a_record(world):
    path = world.records() / "2024" / "czj" / "2024-00001.md"
    text = path.read_text(encoding="utf-8")
    title = re.search(r"^title: (.*)$", text, re.M).group(1)
    path.write_text(text.replace(f"title: {title}", f"title: {title}（修订）", 1), encoding="utf-8")
    result = world.rebuild_and_compare()
    # its page and the lists that show its title; far from every page
    assert 1 < result.rendered < world.first.rendered // 2
    slug_pages = [u for u in result.written if u.startswith("records/")]
    assert slug_pages, result.written
    page = (world.site / slug_pages[0] / "index.html").read_text(encoding="utf-8")
    assert any(f"{title}（修订）" in (world.site / u / "index.html").read_text(encoding="utf-8")
               for u in slug_pages) or f"{title}（修订）" in page


def test_body_only_edit_renders_one_page(world):
    path = world.records() / "2024" / "czj" / "2024-00002.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n补充说明：本段为测试追加的正文。\n", encoding="utf-8")
    result = world.rebuild_and_compare()
    assert result.rendered == 1, result.written


def test_render_ahead_writes_the_edited_page_as_the_whole_build_will(world):
    """The preview's first answer to an edit (SiteBuilder.render_ahead): the record's own page,
    with the new text, byte for byte what the whole build writes next."""
    from lxml import html as lxml_html

    world.builder.as_of = world.as_of
    assert world.builder.build().ok  # the last build of this process is the warm builder's
    path = world.records() / "2024" / "jyj" / "2024-00003.md"
    text = path.read_text(encoding="utf-8")
    summary = re.search(r"^summary: (.*)$", text, re.M).group(1)
    new = "预先生成的内容概述甲乙丙丁"
    path.write_text(text.replace(f"summary: {summary}", f"summary: {new}", 1), encoding="utf-8")
    index_no = re.search(r"^index_no: (.*)$", text, re.M).group(1).strip()
    from disclosure.model.records import slug_for

    url = f"records/{slug_for(index_no)}/"
    world.builder.as_of = world.as_of
    ahead = world.builder.render_ahead({path})
    # its own page first, then the off-nav list pages showing its row (the summary only changed)
    assert list(ahead)[0] == url
    lists = list(ahead)[1:]
    assert lists and all(u.startswith(("catalogue/", "xxgk/")) for u in lists), lists
    for u in lists:
        links = lxml_html.fromstring(ahead[u]).xpath("//a/@href")
        assert any(h.rstrip("/").endswith(url.rstrip("/").rpartition("/")[2]) for h in links), u
    page = world.site / url / "index.html"
    assert page.read_bytes() == ahead[url]
    visible = lxml_html.fromstring(page.read_bytes()).text_content()
    assert new in visible
    world.rebuild_and_compare()
    for u, data in ahead.items():  # what the whole build wrote, byte for byte
        assert (world.site / u / "index.html").read_bytes() == data, u


def test_render_ahead_escapes_a_hostile_title_and_summary(world):
    """Pages rendered ahead go through the same escaping as the build. Markup the checks let through
    (tags that run nothing) is text on the record page and its list pages; a value with script is a
    records error (E304), so nothing is rendered ahead and the whole build reports it."""
    import yaml
    from lxml import html as lxml_html

    from test_site import HOSTILE_TITLE

    world.builder.as_of = world.as_of
    assert world.builder.build().ok
    path = world.records() / "2024" / "jyj" / "2024-00003.md"
    text = path.read_text(encoding="utf-8")

    def write(title, summary):
        head, body = text.split("\n---\n", 1)
        fm = yaml.safe_load(head[4:])
        fm["title"], fm["summary"] = title, summary
        path.write_text("---\n" + yaml.safe_dump(fm, allow_unicode=True, sort_keys=False) + "---\n" + body,
                        encoding="utf-8")

    title, summary = '解读<b id="t">粗</b> & "引号" </title></h1>', '概述<i id="s">斜</i> & </td></table>'
    try:
        write(title, summary)
        ahead = world.builder.render_ahead({path})
        assert len(ahead) > 1  # the record page and its lists
        for url, data in ahead.items():
            doc = lxml_html.fromstring(data)
            assert not doc.xpath('//*[@id="t"] | //*[@id="s"]'), url  # no element made from the values
            assert title in doc.text_content(), url
        assert summary in lxml_html.fromstring(next(iter(ahead.values()))).text_content()
        write(HOSTILE_TITLE, "正常的概述。")
        assert world.builder.render_ahead({path}) == {}
    finally:
        path.write_text(text, encoding="utf-8")
    world.rebuild_and_compare()


def test_render_ahead_keeps_lists_for_the_whole_build_when_a_record_moves(world):
    """A new publication date moves the record in every list: its own page ahead, the lists not."""
    world.builder.as_of = world.as_of
    assert world.builder.build().ok
    path = world.records() / "2024" / "jyj" / "2024-00003.md"
    text = path.read_text(encoding="utf-8")
    published = re.search(r"^published: (.*)$", text, re.M).group(1).strip()
    day = dt.date.fromisoformat(published) + dt.timedelta(days=1)
    path.write_text(text.replace(f"published: {published}", f"published: {day}", 1), encoding="utf-8")
    ahead = world.builder.render_ahead({path})
    assert [u for u in ahead if u.startswith("records/")] == list(ahead) and len(ahead) == 1
    path.write_text(text, encoding="utf-8")
    world.rebuild_and_compare()


def test_render_ahead_leaves_new_files_and_errors_to_the_whole_build(world):
    records = world.records() / "2024" / "jyj"
    path = records / "2024-00003.md"
    text = path.read_text(encoding="utf-8")
    world.builder.as_of = world.as_of
    assert world.builder.build().ok
    edited = text.replace("summary: ", "summary: 再次修改，", 1)
    path.write_text(edited, encoding="utf-8")
    assert world.builder.render_ahead({path})  # a plain edit: ahead
    # another builder's build came last: this builder's state is gone, nothing ahead
    world.clean_build()
    assert world.builder.render_ahead({path}) == {}
    assert world.builder.build().ok
    # a YAML error: nothing ahead (the whole build reports it)
    path.write_text(text.replace("\ntitle: ", "\ntitle：", 1), encoding="utf-8")
    assert world.builder.render_ahead({path}) == {}
    path.write_text(text, encoding="utf-8")
    # a file that was not a live record in the last build: a new page, new list entries
    extra = records / "2024-00003-copy.md"
    assert world.builder.render_ahead({extra}) == {}
    # mkdocs.yml: everything may change
    assert world.builder.render_ahead({world.config}) == {}
    world.rebuild_and_compare()


def test_add_a_record(world):
    src = world.records() / "2024" / "czj" / "2024-00001.md"
    text = src.read_text(encoding="utf-8")
    text = re.sub(r"^index_no: .*$", "index_no: MB0000058/2024-00099", text, count=1, flags=re.M)
    text = re.sub(r"^title: .*$", "title: 新增的测试记录", text, count=1, flags=re.M)
    text = re.sub(r"^doc_no: .*\n", "", text, flags=re.M)
    (src.parent / "2024-00099.md").write_text(text, encoding="utf-8")
    result = world.rebuild_and_compare()
    assert result.rendered < world.first.rendered
    assert any("新增的测试记录" in (world.site / u / "index.html").read_text(encoding="utf-8")
               for u in result.written if u.startswith("records/"))


def test_delete_a_record(world):
    before = set(tree(world.site))
    (world.records() / "2024" / "czj" / "2024-00099.md").unlink()
    world.rebuild_and_compare()
    gone = before - set(tree(world.site))
    assert any(g.startswith("records/") for g in gone), "the deleted record's page is still there"


def test_draft_becomes_published(world):
    path = world.records() / "2026" / "czj" / "2026-00003.md"
    text = path.read_text(encoding="utf-8")
    assert "\npublished:" not in text
    path.write_text(text.replace("\nwritten: 2026-10-12\n", "\nwritten: 2026-10-12\npublished: 2026-11-02\n"),
                    encoding="utf-8")
    result = world.rebuild_and_compare()
    assert "青岚县2026年第三季度政府采购执行情况" in "".join(
        (world.site / u / "index.html").read_text(encoding="utf-8") for u in result.written if u.startswith("records/"))


def test_a_date_passes_and_a_status_changes(world):
    # content/records/2024/scj/2024-00004.md: 有效期至 2026-12-19; after that day it is 失效
    world.as_of = dt.date(2026, 12, 21)
    result = world.rebuild_and_compare()
    assert 0 < result.rendered < world.first.rendered
    assert any("失效" in (world.site / u / "index.html").read_text(encoding="utf-8")
               for u in result.written if u.startswith("records/"))


def test_settings_change_touching_every_page(world):
    text = world.config.read_text(encoding="utf-8")
    world.config.write_text(text.replace("site_name: 青岚县人民政府 政府信息公开", "site_name: 青岚县人民政府 政务公开", 1),
                            encoding="utf-8")
    result = world.rebuild_and_compare()
    assert result.reused == 0 and result.rendered > 100


def test_template_override_change(world):
    footer = world.overrides / "partials" / "portal" / "footer.html"
    footer.write_text(footer.read_text(encoding="utf-8") + "\n<p class=\"test-override\">覆盖模板</p>\n", encoding="utf-8")
    result = world.rebuild_and_compare()
    assert result.reused == 0 and result.rendered > 100
    assert "覆盖模板" in (world.site / "records").rglob("index.html").__next__().read_text(encoding="utf-8")


def test_clean_renders_everything(world):
    from disclosure.site.engine import SiteBuilder

    result = SiteBuilder(world.config, world.site, as_of=world.as_of, search=False, clean=True).build()
    assert result.ok and result.reused == 0 and result.rendered > 100


def test_cache_off_renders_everything(world, monkeypatch):
    from disclosure.site.engine import SiteBuilder

    monkeypatch.setenv("DISCLOSURE_CACHE", "0")
    result = SiteBuilder(world.config, world.site, as_of=world.as_of, search=False).build()
    assert result.ok and result.reused == 0 and result.rendered > 100


def test_aside_build_links_unchanged_pages(world, tmp_path):
    """disclosure build's way: build into a new folder, reusing the last build's files by hard link."""
    from disclosure.site.engine import SiteBuilder

    SiteBuilder(world.config, world.site, as_of=world.as_of, search=False).build()  # cache for site/
    new = world.base / "aside"
    result = SiteBuilder(world.config, new, as_of=world.as_of, search=False, previous=world.site,
                         cache_site=world.site).build()
    assert result.ok and result.rendered == 0 and result.reused > 100
    assert_same(world.site, new)
    page = next((new / "records").rglob("index.html"))
    assert page.stat().st_nlink >= 2


def test_renderer_bytes_equal_mkdocs_build_page(world, tmp_path, monkeypatch):
    """The off-nav renderer (one Markdown converter, nav once per place, workers) against MkDocs'
    own _populate_page + _build_page (DISCLOSURE_JOBS=1: MkDocs renders every page itself)."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    from disclosure.site import mkdocs_glue
    from disclosure.site.engine import SiteBuilder

    monkeypatch.setenv("DISCLOSURE_AS_OF", world.as_of.isoformat())
    monkeypatch.setenv("DISCLOSURE_SEARCH", "0")
    monkeypatch.setenv("DISCLOSURE_JOBS", "1")
    ref = tmp_path / "ref"
    cfg = load_config(config_file=str(world.config), site_dir=str(ref))
    cfg.plugins.on_startup(command="build", dirty=False)
    build(cfg)
    monkeypatch.delenv("DISCLOSURE_JOBS")
    monkeypatch.setattr(mkdocs_glue, "POOL_FROM", 10)  # the forked workers, not just the parent
    ours = tmp_path / "ours"
    result = SiteBuilder(world.config, ours, as_of=world.as_of, search=False, jobs=2, clean=True).build()
    assert result.ok and result.rendered > 100
    # the sitemap lists the same pages (MkDocs' serial build orders them otherwise, and gives
    # generated list pages a <lastmod> the parallel build has only for records: not the renderer's)
    urls = lambda p: sorted(re.findall(r"<loc>.*?</loc>", (p / "sitemap.xml").read_text(encoding="utf-8")))
    assert urls(ref) == urls(ours)
    assert_same(ref, ours, skip=("sitemap.xml", "sitemap.xml.gz"))


def test_search_input_of_reused_pages_equals_a_rendered_build(tmp_path, monkeypatch):
    """The index is fed every record's body: a page the page cache reused (not rendered, so not
    captured) gives the same body text, read back from the page, as a build that rendered it."""
    import disclosure.site.search as search
    from disclosure.site.engine import SiteBuilder

    fed = []

    class Done:
        returncode = 0

        def poll(self):
            return 0

        def kill(self):
            pass

    def fake_start_index(docs, site_dir, cache_dir=None, jobs=2):
        fed.append({d.url: d.body for d in docs})
        return None  # nothing to wait for

    read_back = []
    original = search.body_from_page

    def counting_body_from_page(path):
        read_back.append(path)
        return original(path)

    monkeypatch.setattr(search, "start_index", fake_start_index)
    monkeypatch.setattr(search, "body_from_page", counting_body_from_page)
    monkeypatch.setenv("DISCLOSURE_CACHE_DIR", str(tmp_path / "cache"))
    config = copy_site_source(tmp_path / "src")
    builder = SiteBuilder(config, tmp_path / "site", as_of=DAY, search=True)
    first = builder.build()
    rec = next((tmp_path / "src" / "content" / "records").rglob("*.md"))
    rec.write_text(rec.read_text(encoding="utf-8") + "\n补充说明：本段为增量生成测试所加。\n", encoding="utf-8")
    read_back.clear()
    second = builder.build({rec})
    assert first.ok and second.ok and len(fed) == 2
    assert second.rendered < first.rendered  # the cache was used: most record pages were not rendered
    changed = [u for u in fed[0] if fed[0][u] != fed[1].get(u)]
    assert len(changed) == 1 and "增量生成测试" in fed[1][changed[0]]
    assert all(fed[1][u] for u in fed[1] if fed[0][u])  # no reused page lost its body
    # the reused pages' bodies came from the kept bodies (keyed on the page key), not from parsing them
    assert read_back == []
    # without the kept bodies they are read back from the pages, and are the same
    kept = list(tmp_path.rglob(search.BODIES_FILE))
    assert len(kept) == 1
    kept[0].unlink()
    third = builder.build()
    assert third.ok and third.rendered == 0 and len(read_back) > 10
    assert fed[2] == fed[1]


def test_search_shards_are_cached_by_default(tmp_path, monkeypatch):
    """A plain build keeps its search shards in .cache/search/ beside mkdocs.yml: a rebuild with
    nothing changed re-indexes nothing (the cached shard folder is the same one), an edit replaces
    the shard it lives in, and DISCLOSURE_CACHE=0 keeps no shard at all."""
    from disclosure.site.engine import SiteBuilder

    monkeypatch.delenv("DISCLOSURE_CACHE_DIR", raising=False)
    monkeypatch.delenv("DISCLOSURE_CACHE", raising=False)
    config = copy_site_source(tmp_path / "src")
    cache = tmp_path / "src" / ".cache" / "search"
    builder = SiteBuilder(config, tmp_path / "site", as_of=DAY, search=True)

    def shards():
        return {p.name: p.stat().st_ino for p in cache.glob("shard-*")}

    assert builder.build().ok
    first = shards()
    assert first and (tmp_path / "site" / "pagefind" / "pagefind-entry.json").is_file()
    assert builder.build().ok
    assert shards() == first  # reused, not written again
    rec = next((tmp_path / "src" / "content" / "records").rglob("*.md"))
    rec.write_text(rec.read_text(encoding="utf-8") + "\n补充说明：本段为搜索缓存测试所加。\n", encoding="utf-8")
    assert builder.build({rec}).ok
    after = shards()
    assert len(after) == len(first) and set(after) != set(first)
    assert SiteBuilder(config, tmp_path / "site", as_of=DAY, search=True, clean=True).build().ok
    assert set(shards()) == set(after) and shards() != after  # --clean: indexed anew, and stored

    monkeypatch.setenv("DISCLOSURE_CACHE", "0")
    shutil.rmtree(cache)
    assert SiteBuilder(config, tmp_path / "site2", as_of=DAY, search=True).build().ok
    assert not cache.exists()


def test_bodies_without_search_equal_the_pages(tmp_path, monkeypatch):
    """SiteBuilder(search=False, bodies=True) (the preview's first build) hands over every live record
    page's body text: what reading each written page back gives, with no index run."""
    import disclosure.site.search as search
    from disclosure.site.engine import SiteBuilder

    started = []
    monkeypatch.setattr(search, "start_index", lambda *a, **k: started.append(a))
    monkeypatch.setenv("DISCLOSURE_CACHE_DIR", str(tmp_path / "cache"))
    config = copy_site_source(tmp_path / "src")
    result = SiteBuilder(config, tmp_path / "site", as_of=DAY, search=False, bodies=True).build()
    assert result.ok and result.bodies and not started
    pages = sorted((tmp_path / "site" / "records").glob("*/index.html"))
    assert sorted(result.bodies) == sorted(f"records/{p.parent.name}.md" for p in pages)
    for p in pages:
        assert result.bodies[f"records/{p.parent.name}.md"] == search.body_from_page(p)
    assert any(result.bodies.values())
    plain = SiteBuilder(config, tmp_path / "site2", as_of=DAY, search=False).build()
    assert plain.ok and plain.bodies is None


def test_disclosure_build_recycles_the_replaced_site_and_equals_a_clean_build(tmp_path):
    """`disclosure build` takes up the site the last build replaced (.site.previous) as its new
    folder. After an edit, a deletion, an addition and a body edit, each build equals a build with
    the cache off (ground truth), search index included; the site it replaced is the one that was
    live, byte for byte (no file hard-linked into it was written through), and the recycled
    folder is the one taken up (same inode), without the deleted record's page."""
    from conftest import build

    config = copy_site_source(tmp_path)
    site = tmp_path / "site"
    previous = tmp_path / ".site.previous"
    records = sorted((tmp_path / "content" / "records").rglob("*.md"))

    def page_of(record: Path) -> str:  # its page's path: the 索引号 with / as - (records.slug_for)
        index_no = next(line for line in record.read_text(encoding="utf-8").splitlines() if line.startswith("index_no:"))
        return f"records/{index_no.split(':', 1)[1].strip().replace('/', '-')}/index.html"

    def step(n: int):
        live = tree(site) if site.is_dir() else None
        taken = previous.stat().st_ino if previous.is_dir() else None
        proc = build(site, config=config, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        clean = tmp_path / f"clean-{n}"
        proc = build(clean, config=config, cwd=tmp_path, extra_env={"DISCLOSURE_CACHE": "0"})
        assert proc.returncode == 0, proc.stderr
        assert_same(site, clean)
        assert (site / "pagefind" / "pagefind-entry.json").is_file()
        if live is not None:
            assert tree(previous) == live  # the replaced site, untouched while the new one was built
        return taken

    step(1)
    first = records[0]
    second = next(r for r in reversed(records) if (site / page_of(r)).is_file())  # a published record
    first_text = first.read_text(encoding="utf-8")
    second_text, second_page = second.read_text(encoding="utf-8"), page_of(second)
    first.write_text(first_text.replace("title: ", "title: 改过的", 1), encoding="utf-8")
    step(2)
    assert previous.is_dir()
    slug_page = next(p for p in (site / "records").rglob("index.html"))  # any record page, to follow
    second.unlink()
    taken = step(3)
    assert taken is not None and site.stat().st_ino == taken  # the folder of build 1, taken up
    assert not (site / second_page).exists() and (previous / second_page).is_file()  # the deleted record's page is gone
    (second.parent / "new-one.md").write_text(second_text.replace("title: ", "title: 新增的", 1), encoding="utf-8")
    taken = step(4)
    assert site.stat().st_ino == taken
    first.write_text(first_text.rstrip("\n") + "\n\n正文末尾新增一句。\n", encoding="utf-8")
    taken = step(5)
    assert site.stat().st_ino == taken
    assert slug_page.relative_to(site).as_posix() in tree(site)
    # a setting every page shows: that build renders every page, so the next one starts from an
    # empty folder (relinking every name of the old one costs more than new folders)
    config.write_text(config.read_text(encoding="utf-8").replace("site_name: ", "site_name: 新", 1), encoding="utf-8")
    step(6)
    taken = step(7)
    assert taken is not None and site.stat().st_ino != taken
    taken = step(8)
    assert site.stat().st_ino == taken  # and the one after recycles again
