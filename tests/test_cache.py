"""The validation cache (disclosure/model/cache.py): used, keyed on bytes, invalidated, date-safe, robust.

Ground truth for every warm result is a cold run with the cache off (DISCLOSURE_CACHE=0) on the same
files and date; the counters in `cache.last_run` say whether the cache was read, never timing.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from conftest import AS_OF, copy_site_source
from disclosure import cli
from disclosure.model import cache, corpus

A = dt.date.fromisoformat(AS_OF)
LATER = dt.date(2031, 6, 30)  # statuses, annual reports and scheduled records all change by then


@pytest.fixture
def site(tmp_path, monkeypatch):
    monkeypatch.delenv("DISCLOSURE_CACHE", raising=False)
    monkeypatch.delenv("DISCLOSURE_CACHE_DIR", raising=False)
    monkeypatch.setattr(cache, "_clean", False)
    return copy_site_source(tmp_path)


def load(config: Path, as_of=A, **kw):
    c = corpus.load(config, as_of, keep_bodies=False, **kw)
    return c, cache.last_run


def view(c) -> list:
    """What validate reports: every finding, plus the records' identity and key fields."""
    return ([f.as_dict() for f in c.findings],
            sorted((r.path, r.index_no, r.title, r.published, r.issuer, r.topic, r.column, r.doc_no, r.expires)
                   for r in c.records))


def cold(config: Path, monkeypatch, as_of=A, **kw):
    with monkeypatch.context() as m:
        m.setenv("DISCLOSURE_CACHE", "0")
        c, stats = load(config, as_of, **kw)
    assert stats.mode == "off" and stats.hits == 0
    return c


def record_files(config: Path) -> list[Path]:
    return sorted((config.parent / "content" / "records").rglob("*.md"))


def test_second_validate_reads_the_cache(site):
    n = len(record_files(site))
    first, s1 = load(site)
    assert (s1.hits, s1.misses) == (0, n) and s1.shards_written > 0
    assert list((site.parent / ".cache" / "records").glob("*/*.pkl")), "no shard written"
    second, s2 = load(site)
    assert (s2.hits, s2.misses, s2.shards_written) == (n, 0, 0)
    assert s2.shards_loaded == s1.shards_written
    assert view(second) == view(first)


def test_keyed_on_bytes_not_path(site, monkeypatch):
    load(site)
    files = [p for p in record_files(site) if "attachments:" not in p.read_text(encoding="utf-8")]
    n = len(record_files(site))
    moved = files[0].with_name("renamed-" + files[0].name)  # (a record with attachments is bound to its place)
    files[0].rename(moved)
    c, s = load(site)
    assert (s.misses, s.hits) == (0, n)
    assert view(c) == view(cold(site, monkeypatch))  # the moved record carries its new path
    assert any(r.path.endswith("renamed-" + files[0].name) for r in c.records)

    text = files[1].read_text(encoding="utf-8")
    title = next(line for line in text.splitlines() if line.startswith("title:"))
    files[1].write_text(text.replace(title, "title: 关于缓存测试的通知"), encoding="utf-8")
    c, s = load(site)
    assert (s.misses, s.hits) == (1, n - 1)
    assert "关于缓存测试的通知" in {r.title for r in c.records}
    assert view(c) == view(cold(site, monkeypatch))


def test_settings_and_code_invalidate(site, monkeypatch, tmp_path):
    n = len(record_files(site))
    load(site)
    text = site.read_text(encoding="utf-8")
    assert "      expiry_warning_months: 6\n" in text
    site.write_text(text.replace("      expiry_warning_months: 6\n", "      expiry_warning_months: 60\n"), encoding="utf-8")
    c, s = load(site)
    assert (s.hits, s.misses) == (0, n), "a changed setting must invalidate every entry"
    assert view(c) == view(cold(site, monkeypatch))
    _, s = load(site)
    assert s.misses == 0

    # the parser's or a rule's source changing gives another key
    pkg = tmp_path / "pkg"
    shutil.copytree(cache._PACKAGE, pkg, ignore=shutil.ignore_patterns("__pycache__", "theme"))
    monkeypatch.setattr(cache, "_PACKAGE", pkg)
    cache.code_digest.cache_clear()
    before = cache.code_digest()
    rule = pkg / "rules" / "timeliness.py"
    rule.write_text(rule.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    cache.code_digest.cache_clear()
    assert cache.code_digest() != before
    _, s = load(site)
    assert (s.hits, s.misses) == (0, n)
    monkeypatch.undo()
    cache.code_digest.cache_clear()


def test_date_dependent_findings_are_recomputed(site, monkeypatch):
    cold_a, cold_later = cold(site, monkeypatch, A), cold(site, monkeypatch, LATER)
    assert view(cold_a)[0] != view(cold_later)[0], "the two dates must give different findings"
    load(site, A)  # warm the cache on one date
    warm_later, s = load(site, LATER)
    assert s.misses == 0 and s.reruns > 0
    assert view(warm_later) == view(cold_later)
    warm_a, s = load(site, A)
    assert s.misses == 0
    assert view(warm_a) == view(cold_a)
    # statuses and what is live are computed from the cached records, per date
    assert [warm_later.status(r) for r in warm_later.records] == [cold_later.status(r) for r in cold_later.records]
    assert len(warm_later.live) == len(cold_later.live) != len(warm_a.live)


def test_corrupt_cache_is_ignored_and_rewritten(site, monkeypatch):
    n = len(record_files(site))
    truth = view(cold(site, monkeypatch))
    load(site)
    shards = sorted((site.parent / ".cache" / "records").glob("*/*.pkl"))
    shards[0].write_bytes(b"not a pickle")
    shards[1].write_bytes(shards[1].read_bytes()[:20])  # truncated
    c, s = load(site)
    assert s.shards_bad == 2 and s.misses > 0 and view(c) == truth
    c, s = load(site)
    assert (s.shards_bad, s.misses, s.hits) == (0, 0, n) and view(c) == truth
    assert not list((site.parent / ".cache").rglob("*.tmp")), "temporary files left behind"


def test_clean_and_off_bypass_the_cache(site, monkeypatch, capsys):
    n = len(record_files(site))
    load(site)
    assert cli.main(["--config", str(site), "validate", "--as-of", AS_OF, "--clean"]) == 0
    assert (cache.last_run.mode, cache.last_run.hits, cache.last_run.misses) == ("clean", 0, n)
    monkeypatch.setattr(cache, "_clean", False)

    shutil.rmtree(site.parent / ".cache")
    monkeypatch.setenv("DISCLOSURE_CACHE", "0")
    c, s = load(site)
    assert (s.mode, s.hits, s.misses, s.shards_written) == ("off", 0, n, 0)
    assert not (site.parent / ".cache").exists()
    assert cli.build_parser().parse_args(["build", "--clean"]).clean


def test_validate_output_warm_equals_cold_on_the_demo(site, monkeypatch, capsys):
    def run(*extra):
        assert cli.main(["--config", str(site), "validate", "--as-of", AS_OF, *extra]) == 0
        return capsys.readouterr().out

    monkeypatch.setenv("DISCLOSURE_CACHE", "0")
    text_cold, json_cold = run(), run("--format", "json")
    monkeypatch.delenv("DISCLOSURE_CACHE")
    run()
    text_warm, json_warm = run(), run("--format", "json")
    assert cache.last_run.misses == 0 and cache.last_run.hits > 0
    assert text_warm == text_cold
    assert json_warm == json_cold and json.loads(json_warm)["records"] > 0


def test_attachments_are_checked_on_every_hit(site, monkeypatch):
    with_attachment = next(p for p in record_files(site) if "attachments:" in p.read_text(encoding="utf-8"))
    c, _ = load(site)
    rec = next(r for r in c.records if r.src_path == str(with_attachment))
    target = rec.attachments[0].path
    target.write_bytes(target.read_bytes() + b"more bytes")
    c, s = load(site)
    assert s.misses == 1
    assert next(r for r in c.records if r.src_path == str(with_attachment)).attachments[0].size == target.stat().st_size
    target.unlink()
    c, s = load(site)
    assert any(f.code == "E109" for f in c.findings)
    assert view(c) == view(cold(site, monkeypatch))
    _, s = load(site)
    assert s.misses == 1, "a result with a missing attachment is never stored"


def test_worker_processes_fill_the_same_cache(site, monkeypatch):
    """The parallel path (forked workers, one task per shard) gives what the serial path gives."""
    truth = view(cold(site, monkeypatch))
    monkeypatch.setattr(corpus, "PARALLEL_FROM", 2)
    c, s = load(site, jobs=2)
    assert s.misses == len(record_files(site)) and view(c) == truth
    monkeypatch.setattr(corpus, "PARALLEL_FROM", 10**9)
    c, s = load(site)
    assert s.misses == 0 and view(c) == truth
    c, s = load(site, LATER)
    assert view(c) == view(cold(site, monkeypatch, LATER))


def test_bodies_come_back_and_reruns_see_them(site, monkeypatch):
    """A build (keep_bodies) gets every body from the cache; a date-dependent rule that also reads the
    body sees the full body when it runs again on another date, as in a cold run."""
    full = {r.path: r.body for r in corpus.load(site, A).records}
    warm = corpus.load(site, A)
    assert cache.last_run.misses == 0 and {r.path: r.body for r in warm.records} == full
    assert all(full.values())

    from disclosure.model.findings import Finding

    original = corpus.RECORD_RULES[3]

    def body_and_date(record, ctx):  # stands in for a rule that reads both
        yield from original(record, ctx)
        if ctx.as_of > dt.date(2030, 1, 1) and "的" in record.body:
            yield Finding("I404", record.path, record.body_line, "body-dependent", "", "body")

    rules = list(corpus.RECORD_RULES)
    rules[3] = body_and_date
    monkeypatch.setattr(corpus, "RECORD_RULES", tuple(rules))
    shutil.rmtree(site.parent / ".cache")
    load(site, A)  # entries written on one date, without this finding
    warm_later, s = load(site, LATER)
    assert s.misses == 0 and s.reruns > 0
    assert view(warm_later) == view(cold(site, monkeypatch, LATER))
    assert any(f.message == "body-dependent" for f in warm_later.findings)


def _validate(site, capsys, *extra, as_of=AS_OF):
    code = cli.main(["--config", str(site), "validate", "--as-of", as_of, "--format", "json", *extra])
    return code, capsys.readouterr().out


def test_a_whole_validation_is_reused_until_a_file_changes(site, monkeypatch, capsys):
    """`validate` of the whole corpus keeps its result; any change below content/ (a record, a page
    the layout rule reads, an attachment) or another date validates again, and every output equals a
    cold run's."""
    monkeypatch.setattr(cache, "RACY_NS", 0)  # the copied files are seconds old: trust their stat now

    def cold_output(as_of=AS_OF):
        with monkeypatch.context() as m:
            m.setenv("DISCLOSURE_CACHE", "0")
            return _validate(site, capsys, as_of=as_of)

    def warm(expect_verdict, as_of=AS_OF):
        got, stats = _validate(site, capsys, as_of=as_of), cache.last_run
        assert stats.verdict is expect_verdict
        assert got == cold_output(as_of)
        return got + (stats,)

    n = len(record_files(site))
    warm(False)
    assert list((site.parent / ".cache" / "records").glob(f"*/{cache.VERDICT}"))
    code, out, stats = warm(True)
    assert code == 0 and stats.hits == n and json.loads(out)["records"] > 0
    assert "校验结果整体取自缓存" in stats.line()
    warm(False, as_of="2031-06-30")  # another date: the rules run again (and keep that date)
    warm(True, as_of="2031-06-30")

    record = next(p for p in record_files(site) if "attachments:" not in p.read_text(encoding="utf-8"))
    text = record.read_text(encoding="utf-8")
    title = next(line for line in text.splitlines() if line.startswith("title:"))
    record.write_text(text.replace(title, "title: 关于整体校验缓存的测试通知"), encoding="utf-8")
    _, out, _ = warm(False)
    assert "关于整体校验缓存的测试通知" not in out  # (a title is no finding; the record count stays)
    warm(True)

    # a record saved outside the records folder: only the layout rule (a corpus rule) sees it
    stray = site.parent / "content" / "stray.md"
    stray.write_text(text, encoding="utf-8")
    _, out, _ = warm(False)
    assert any(f["code"] == "E113" and f["file"] == "content/stray.md" for f in json.loads(out)["findings"])
    warm(True)
    stray.unlink()
    warm(False)

    # an attachment rewritten in place as a web page: its record's check reads its bytes (E309)
    with_attachment = next(p for p in record_files(site) if "attachments:" in p.read_text(encoding="utf-8"))
    c, _ = load(site)
    target = next(r for r in c.records if r.src_path == str(with_attachment)).attachments[0].path
    target.write_bytes(b"<html><script>alert(1)</script></html>")
    code, out, _ = warm(False)
    assert code != 0 and any(f["code"] == "E309" for f in json.loads(out)["findings"])
    code, _, _ = warm(True)
    assert code != 0


def test_no_whole_validation_is_kept_for_fresh_files_or_a_missing_attachment(site, monkeypatch, capsys):
    _validate(site, capsys)  # the copy is seconds old: its stat cannot be trusted yet
    _validate(site, capsys)
    assert cache.last_run.verdict is False and not list((site.parent / ".cache").rglob(cache.VERDICT))

    monkeypatch.setattr(cache, "RACY_NS", 0)
    with_attachment = next(p for p in record_files(site) if "attachments:" in p.read_text(encoding="utf-8"))
    c, _ = load(site)
    next(r for r in c.records if r.src_path == str(with_attachment)).attachments[0].path.unlink()
    for _ in range(2):
        code, out = _validate(site, capsys)
        assert code != 0 and any(f["code"] == "E109" for f in json.loads(out)["findings"])
        assert cache.last_run.verdict is False
    assert not list((site.parent / ".cache").rglob(cache.VERDICT))
