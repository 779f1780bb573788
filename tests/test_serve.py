"""`disclosure serve`: a real server process over a generated corpus and over the demo.

Each test drives the server as staff would: save a file, then poll the page until it changes (no
timing asserts; the timeouts are generous because CI is slow). Ground truth is the input: the text
written into the record, the line that was broken, the demo's own build.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import lxml.html
import pytest

from conftest import AS_OF, DISCLOSURE, ROOT, copy_site_source, run_cli

sys.path.insert(0, str(ROOT / "benchmarks"))
from generate import generate  # noqa: E402

from disclosure.model.records import slug_for  # noqa: E402

WAIT = 120  # seconds: first build on a loaded CI machine
EPOCH = "1763596800"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


class Server:
    """One `disclosure serve` process in its own session (stopped by its pid, never by name)."""

    def __init__(self, cwd: Path, *extra: str):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = cwd / "serve.log"
        self.log = open(self.log_path, "w")
        env = dict(os.environ, SOURCE_DATE_EPOCH=EPOCH, DISCLOSURE_JOBS="2")
        env.pop("NO_MKDOCS_2_WARNING", None)  # the server must silence Material's banner itself
        self.proc = subprocess.Popen([*DISCLOSURE, "serve", "--dev-addr", f"127.0.0.1:{self.port}", "--as-of", AS_OF, *extra],
                                     cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(encoding="utf-8")

    def wait(self, path: str, test, timeout: float = WAIT) -> tuple[int, dict, str]:
        """Poll `path` until `test(status, body)` holds; fails with the server's output otherwise."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"disclosure serve exited with {self.proc.returncode}:\n{self.output()}")
            try:
                status, headers, body = get(self.base + path)
                last = (status, headers, body.decode("utf-8", "replace"))
                if test(last[0], last[2]):
                    return last
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.2)
        pytest.fail(f"{path} did not become as expected in {timeout} s; last answer "
                    f"{last[0] if last else None}:\n{(last[2][:2000] if last else '')}\n--- server output:\n{self.output()}")

    def wait_built(self, timeout: float = WAIT) -> str:
        """Until the first build is done (pages are served as it writes them, before that)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.output()
            if re.search(r"已生成 \d+ 个页面|生成失败", out):
                return out
            if self.proc.poll() is not None:
                pytest.fail(f"disclosure serve exited with {self.proc.returncode}:\n{out}")
            time.sleep(0.2)
        pytest.fail(f"the first build did not finish in {timeout} s:\n{self.output()}")

    def stop(self, sig=signal.SIGINT, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                pytest.fail(f"disclosure serve did not stop on {sig!r} within {timeout} s:\n{self.output()}")
        self.log.close()
        return self.proc.returncode


def reload_scripts(html: str) -> list[str]:
    doc = lxml.html.fromstring(html)
    return [s.get("src") for s in doc.iter("script") if (s.get("src") or "").startswith("/.portal-serve/reload.js")]


def front_matter_value(text: str, key: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith(f"{key}:"))


# ------------------------------------------------------------------------------------------ generated corpus
@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """300 generated records plus the demo's hand-written pages, served with search."""
    site = tmp_path_factory.mktemp("serve-gen")
    generate(300, site, seed=3)
    for item in (ROOT / "content").iterdir():
        if item.name != "records":
            (shutil.copytree if item.is_dir() else shutil.copy2)(item, site / "content" / item.name)
    server = Server(site)
    yield site, server
    if server.proc.poll() is None:
        server.stop(signal.SIGTERM)


def sample(site: Path) -> tuple[Path, str]:
    for p in sorted((site / "content" / "records").rglob("*.md")):
        text = p.read_text(encoding="utf-8")
        if "type: disclosure" in text:
            return p, f"/records/{slug_for(front_matter_value(text, 'index_no'))}/"
    raise AssertionError("no disclosure record generated")


def test_first_page_injects_reload_script_only_in_responses(generated):
    site, server = generated
    record, url = sample(site)
    title = front_matter_value(record.read_text(encoding="utf-8"), "title")
    status, headers, html = server.wait(url, lambda s, b: s == 200)
    assert title in lxml.html.fromstring(html).findtext(".//h1")
    assert headers["Content-Type"].startswith("text/html")
    assert "Content-Security-Policy" in headers and "script-src 'self'" in headers["Content-Security-Policy"]
    assert len(reload_scripts(html)) == 1
    built = site / ".cache" / "serve-site" / url.strip("/") / "index.html"
    on_disk = built.read_text(encoding="utf-8")
    assert "/.portal-serve/" not in on_disk and title in on_disk
    assert not (site / "site").exists(), "the preview must not write the user's site/ folder"
    status, headers, js = get(server.base + reload_scripts(html)[0])
    assert status == 200 and headers["Content-Type"].startswith("text/javascript") and b"EventSource" in js
    out = server.wait_built()
    assert "end of life" not in out and "INFO" not in out and "WARNING" not in out
    assert re.search(r"已生成 \d+ 个页面", out), out


def test_misses_get_the_404_page_and_index_files_their_types(generated):
    site, server = generated
    server.wait("/", lambda s, b: s == 200)
    server.wait_built()  # until then a page not written yet answers 503, not 404
    status, headers, body = get(server.base + "/records/no-such-record/")
    assert status == 404 and headers["Content-Type"].startswith("text/html")
    assert reload_scripts(body.decode()) and "页面不存在" in lxml.html.fromstring(body).findtext(".//h1")
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/catalogue")  # a folder without its slash
    answer = conn.getresponse()
    assert answer.status == 301 and answer.getheader("Location") == "/catalogue/"
    conn.close()
    server.wait("/pagefind/pagefind-entry.json", lambda s, b: s == 200)  # indexed in the background
    built = site / ".cache" / "serve-site" / "pagefind"
    wasm = next(built.glob("wasm.*.pagefind"))
    fragment = next((built / "fragment").glob("*.pf_fragment"))
    for path, ctype in ((wasm, "application/wasm"), (fragment, "application/octet-stream"),
                        (built / "pagefind-entry.json", "application/json"), (built / "pagefind.js", "text/javascript")):
        status, headers, body = get(server.base + "/" + path.relative_to(built.parent).as_posix())
        assert status == 200 and headers["Content-Type"].startswith(ctype), (path, headers["Content-Type"])
        assert body == path.read_bytes()
    assert get(server.base + "/../mkdocs.yml")[0] == 404


def _events(server: Server, got: list, stop: threading.Event):
    req = urllib.request.urlopen(server.base + "/.portal-serve/events", timeout=WAIT)
    kind = None
    while not stop.is_set():
        line = req.readline().decode("utf-8")
        if not line:
            return
        if line.startswith("event: "):
            kind = line[7:].strip()
        elif line.startswith("data: "):
            got.append((kind, json.loads(line[6:])))


def test_edited_summary_appears_and_the_build_event_names_the_page(generated):
    site, server = generated
    record, url = sample(site)
    server.wait(url, lambda s, b: s == 200)
    got, stop = [], threading.Event()
    threading.Thread(target=_events, args=(server, got, stop), daemon=True).start()
    deadline = time.monotonic() + 30
    while not got and time.monotonic() < deadline:
        time.sleep(0.1)
    assert got and got[0][0] == "hello"
    text = record.read_text(encoding="utf-8")
    new = "预览测试新增的内容概述甲乙丙"
    old_summary = front_matter_value(text, "summary")
    record.write_text(text.replace(f"summary: {old_summary}", f"summary: {new}"), encoding="utf-8")
    server.wait(url, lambda s, b: s == 200 and new in b)
    deadline = time.monotonic() + 30
    while not any(k == "build" and url in d["written"] for k, d in got) and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    builds = [d for k, d in got if k == "build"]
    assert builds and builds[-1]["ok"] is True
    assert any(d["all"] or url in d["written"] for d in builds), builds
    deadline = time.monotonic() + 60  # the whole build follows the page written ahead
    while "已更新" not in server.output() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "已更新" in server.output()
    # the record's own page was written ahead of the whole build, and said so
    # (a summary edit keeps the record's place: the lists showing its row come ahead too)
    ahead = re.search(r"已先更新修改的记录及列出它的页面 (\d+) 个", server.output())
    assert ahead and int(ahead.group(1)) >= 2, server.output()


def test_a_listener_that_slept_through_two_builds_hears_of_both():
    """The page written ahead of a build and the build itself are two generations; a listener
    woken once after both must still be told the page was written."""
    from disclosure.site.serve import State

    state = State()
    state.ok = True
    state.finished(["/records/a/"], False)  # generation 1, the listener saw it
    state.finished(["/records/b/"], False)  # 2: b's page ahead
    state.finished(["/catalogue/"], True)  # 3: the whole build
    told = state.event(since=1)
    assert told["generation"] == 3 and told["assets"] is True
    assert set(told["written"]) == {"/records/b/", "/catalogue/"}
    assert state.event(since=2)["written"] == ["/catalogue/"]
    for _ in range(State.KEEP + 1):
        state.finished([], False)
    assert state.event(since=1)["all"] is True  # older than the history: reload whatever is open


def test_yaml_error_shows_the_chinese_error_page_then_clears(generated):
    site, server = generated
    record, url = sample(site)
    server.wait(url, lambda s, b: s == 200)
    text = record.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    broken_at = next(i for i, line in enumerate(lines) if line.startswith("title: ")) + 1  # 1-based
    title = lines[broken_at - 1][len("title: "):].strip()
    lines[broken_at - 1] = lines[broken_at - 1].replace("title: ", "title：", 1)
    record.write_text("".join(lines), encoding="utf-8")
    rel = record.relative_to(site).as_posix()
    try:
        status, _, html = server.wait(url, lambda s, b: s == 500 and "预览暂停" in b)
        doc = lxml.html.fromstring(html)
        assert doc.get("lang") == "zh-CN"
        where = [li.find(".//p[@class='ps-where']").text_content() for li in doc.iterfind(".//ol[@class='ps-problems']/li")]
        mine = [w for w in where if rel in w]
        assert mine, where
        line = int(re.search(r"第 (\d+) 行", mine[0]).group(1))
        # the same line `disclosure validate` names (the full-width colon's own line, or the next one
        # while the parser reports it there)
        report = json.loads(run_cli("validate", "--format", "json", "--as-of", AS_OF, str(record), cwd=site).stdout)
        assert line in {f["line"] for f in report["findings"] if f["file"] == rel}
        assert line in (broken_at, broken_at + 1)
        assert "修改方法" in html and "E103" in html
        assert "title：" in doc.find(".//pre[@class='ps-code']").text_content()  # the lines around it
        assert reload_scripts(html)
        # every page shows it, not only the broken record's
        status, _, home = get(server.base + "/")
        assert status == 500 and rel in home.decode()
        assert re.search(rf"{re.escape(rel)}:\d+: E103", server.output())
    finally:
        record.write_text(text, encoding="utf-8")
    server.wait(url, lambda s, b: s == 200 and title in b and "预览暂停" not in b)


def test_broken_mkdocs_yml_is_named_with_its_line_then_clears(generated):
    site, server = generated
    record, url = sample(site)
    server.wait(url, lambda s, b: s == 200)
    config = site / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("site_url: ")) + 1
    lines[at - 1] = "site_url: [https://example.gov.cn/\n"  # an unclosed flow sequence
    config.write_text("".join(lines), encoding="utf-8")
    try:
        _, _, html = server.wait(url, lambda s, b: s == 500 and "预览暂停" in b)
        where = lxml.html.fromstring(html).find(".//p[@class='ps-where']").text_content()
        assert "mkdocs.yml" in where and f"第 {at} 行" in where, where  # its own line, not the next one
        shown = lxml.html.fromstring(html).text_content()
        assert "YAML" in shown and '整段加英文双引号：site_url: "[https://example.gov.cn/"' in shown, shown
    finally:
        config.write_text(text, encoding="utf-8")
    server.wait(url, lambda s, b: s == 200 and "预览暂停" not in b)


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_browser_reloads_by_itself_under_the_sites_csp(generated):
    """A real browser on the record page: an edit, a YAML error and its fix all show without a manual reload."""
    from playwright.sync_api import sync_playwright

    site, server = generated
    record, url = sample(site)
    server.wait(url, lambda s, b: s == 200)
    text = record.read_text(encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless", "--disable-gpu"])
        try:
            pg = browser.new_page()
            refused = []
            pg.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
            pg.goto(server.base + url)
            pg.wait_for_selector("html[data-portal-serve=live]", state="attached", timeout=WAIT * 1000)
            new = "浏览器自动刷新测试的内容概述"
            summary = front_matter_value(text, "summary")
            record.write_text(text.replace(f"summary: {summary}", f"summary: {new}"), encoding="utf-8")
            pg.get_by_text(new).first.wait_for(timeout=WAIT * 1000)
            record.write_text(text.replace("title: ", "title：", 1), encoding="utf-8")
            pg.get_by_role("heading", name=re.compile("预览暂停")).wait_for(timeout=WAIT * 1000)
            assert record.relative_to(site).as_posix() in pg.locator(".ps-where").first.inner_text()
            record.write_text(text, encoding="utf-8")
            pg.get_by_text(summary).first.wait_for(timeout=WAIT * 1000)
            assert pg.get_by_role("heading", name=re.compile("预览暂停")).count() == 0
            assert refused == [], refused
        finally:
            record.write_text(text, encoding="utf-8")
            browser.close()


def test_stops_cleanly_on_sigint(generated):
    site, server = generated
    server.wait("/", lambda s, b: s == 200)
    assert server.stop(signal.SIGINT) == 0
    assert "预览已停止" in server.output()


# ------------------------------------------------------------------------------------------ the demo
def test_demo_preview_matches_a_build_and_stops_on_sigterm(tmp_path, demo_site):
    config = copy_site_source(tmp_path)
    server = Server(config.parent, "--no-search")
    try:
        record = next(p for p in sorted((tmp_path / "content" / "records").rglob("*.md"))
                      if "type: normative" in p.read_text(encoding="utf-8"))
        url = f"/records/{slug_for(front_matter_value(record.read_text(encoding='utf-8'), 'index_no'))}/"
        server.wait(url, lambda s, b: s == 200)
        server.wait_built()  # (pages are served as the first build writes them)
        status, _, html = server.wait(url, lambda s, b: s == 200)
        tag = f'<script src="{reload_scripts(html)[0]}" defer></script>'
        for page in (url, "/", "/catalogue/type/normative/"):
            status, _, served = get(server.base + page)
            built = (tmp_path / ".cache" / "serve-site" / page.strip("/") / "index.html").read_text(encoding="utf-8")
            assert status == 200 and served.decode().replace(tag, "", 1) == built
            # the preview's files are what `disclosure build` writes
            assert built == (demo_site / page.strip("/") / "index.html").read_text(encoding="utf-8"), page
    finally:
        code = server.stop(signal.SIGTERM)
    assert code == 0 and "预览已停止" in server.output()


def test_first_build_serves_each_page_once_it_is_written(tmp_path):
    """A new preview folder: while the first build runs, a page it has written is served (200),
    one it has not yet is 503 「正在生成预览」 (not the 404 page, which may exist already), asked
    again after 3 s; once the build is done a miss is a 404."""
    from disclosure.site.serve import Preview, _Handler, _Server

    (tmp_path / "mkdocs.yml").write_text("site_name: 测试\n", encoding="utf-8")
    preview = Preview(tmp_path / "mkdocs.yml", "127.0.0.1:8000", search=False)  # (the address is not bound here)
    (preview.site_dir / "catalogue").mkdir(parents=True)
    (preview.site_dir / "catalogue" / "index.html").write_text(
        "<html><head></head><body>信息目录页</body></html>", encoding="utf-8")
    (preview.site_dir / "404.html").write_text("<html><head></head><body>找不到页面</body></html>", encoding="utf-8")
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.preview = preview
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"

    def get(path):
        try:
            with urllib.request.urlopen(base + path, timeout=5) as r:
                return r.status, r.read().decode("utf-8"), r.headers
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8"), e.headers

    class Builder:  # the build process's handle: the pages asked for during the build
        wanted: list = []

        def want(self, url):
            self.wanted.append(url)

    preview.builder = Builder()
    try:
        assert preview.state.ok is None and not preview.state.stale
        status, body, _ = get("/catalogue/")
        assert status == 200 and "信息目录页" in body and "/.portal-serve/reload.js" in body
        status, body, headers = get("/records/not-yet/")
        assert status == 503 and "正在生成预览" in body and "找不到页面" not in body
        assert headers["Retry-After"] == "3"
        assert preview.builder.wanted == ["records/not-yet/"]  # the build is told to render it first
        with preview.state.cond:
            preview.state.ok = True
            preview.state.finished([], False)
        status, body, _ = get("/records/not-yet/")
        assert status == 404 and "找不到页面" in body
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_page_asked_for_during_a_build_is_rendered_at_once(tmp_path):
    """SiteBuilder(wanted=…), as the preview's build process drives it: while the workers render
    the record pages, the pages the callable names are rendered by the parent at once (out of
    turn), counted in BuildResult.first, and hold the record (its title, from the record file)."""
    from disclosure.site.engine import SiteBuilder

    site = tmp_path / "gen"
    generate(260, site, seed=5)  # over mkdocs_glue.POOL_FROM record pages: rendered by two workers
    records = sorted((site / "content" / "records").rglob("*.md"))
    text = records[-1].read_text(encoding="utf-8")
    want = f"records/{slug_for(front_matter_value(text, 'index_no'))}/"
    out = tmp_path / "out"
    calls = []

    def wanted():
        calls.append((out / want / "index.html").is_file())
        return [want, "records/no-such-page/"] if len(calls) == 1 else []

    result = SiteBuilder(site / "mkdocs.yml", out, search=False, jobs=2, wanted=wanted).build()
    assert result.ok, result.message
    assert calls and result.first == 1  # named once, rendered once; an unknown URL is ignored
    assert len(calls) == 1 or calls[1] is True  # written before the next look
    page = (out / want / "index.html").read_text(encoding="utf-8")
    assert front_matter_value(text, "title") in page
