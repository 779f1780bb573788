"""Publishing to a real nginx on loopback: atomic switch, rollback, a killed copy, headers and MIME types."""

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import feedparser
import pytest

from conftest import AS_OF, ROOT

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
RSYNC = shutil.which("rsync")
pytestmark = pytest.mark.skipif(not (Path(NGINX).exists() and RSYNC), reason="needs Debian's nginx and rsync")
ENV = dict(os.environ, NO_MKDOCS_2_WARNING="1", DISCLOSURE_AS_OF=AS_OF, SOURCE_DATE_EPOCH="1763596800")


def publish(dest, *extra, env=None, **kw):
    return subprocess.run([sys.executable, "-m", "disclosure.cli", "publish", "--target", str(dest), *extra],
                          cwd=ROOT, env=env or ENV, capture_output=True, text=True, **kw)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("nginx")
    dest = base / "srv"
    proc = publish(dest)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    port = free_port()
    site_conf = (ROOT / "deploy/nginx/disclosure.conf").read_text(encoding="utf-8")
    site_conf = site_conf.replace("listen 80;", f"listen 127.0.0.1:{port};").replace(
        "root /srv/disclosure/current;", f"root {dest}/current;")
    (base / "site.conf").write_text(site_conf, encoding="utf-8")
    # `include snippets/…` is relative to the main configuration file's folder (here: base)
    shutil.copytree(ROOT / "deploy/nginx/snippets", base / "snippets")
    for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (base / d).mkdir()
    # pytest's temporary folders are private to their owner: run the workers as that user
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    (base / "nginx.conf").write_text(f"""
{user}
worker_processes 1;
daemon off;
pid {base}/nginx.pid;
error_log {base}/error.log warn;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path {base}/body; proxy_temp_path {base}/proxy; fastcgi_temp_path {base}/fastcgi;
    uwsgi_temp_path {base}/uwsgi; scgi_temp_path {base}/scgi;
    include {base}/site.conf;
}}
""", encoding="utf-8")
    check = subprocess.run([NGINX, "-t", "-c", str(base / "nginx.conf"), "-p", str(base)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    nginx = subprocess.Popen([NGINX, "-c", str(base / "nginx.conf"), "-p", str(base)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/"
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1)
            break
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.05)
    yield {"url": url, "dest": dest}
    nginx.terminate()
    nginx.wait(timeout=10)


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def current_release(dest: Path) -> Path:
    return (dest / os.readlink(dest / "current")).resolve()


def test_headers_and_mime_types(server):
    url = server["url"]
    status, headers, body = get(url)
    assert status == 200 and b'lang="zh-CN"' in body
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "'wasm-unsafe-eval'" in csp and "https:" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    release = current_release(server["dest"])
    wasm = next((release / "pagefind").glob("wasm.*"))
    assert get(url + f"pagefind/{wasm.name}")[1]["Content-Type"] == "application/wasm"
    fragment = next((release / "pagefind" / "fragment").glob("*.pf_fragment"))
    status, headers, _ = get(url + f"pagefind/fragment/{fragment.name}")
    assert headers["Content-Type"] == "application/octet-stream" and "immutable" in headers["Cache-Control"]
    meta = next((release / "pagefind").glob("*.pf_meta"))
    assert get(url + f"pagefind/{meta.name}")[1]["Content-Type"] == "application/octet-stream"
    assert get(url + "pagefind/pagefind.js")[1]["Content-Type"].startswith("application/javascript")
    css = next((release / "assets" / "stylesheets").glob("main.*.min.css"))
    assert "immutable" in get(url + f"assets/stylesheets/{css.name}")[1]["Cache-Control"]
    assert get(url + "records/MB0000017-2024-00002/")[1]["Cache-Control"] == "no-cache"
    # office formats Debian's mime.types lacks get their own types, with the security headers
    probes = {"ofd": "application/ofd", "wps": "application/wps-office.wps", "et": "application/wps-office.et"}
    for ext in probes:
        (release / f"probe.{ext}").write_bytes(b"x")
    try:
        for ext, mime in probes.items():
            status, headers, _ = get(url + f"probe.{ext}")
            assert status == 200 and headers["Content-Type"] == mime and headers["X-Content-Type-Options"] == "nosniff"
    finally:
        for ext in probes:
            (release / f"probe.{ext}").unlink()


def test_feeds_served_and_parse(server):
    status, headers, body = get(server["url"] + "feeds/all.xml")
    assert status == 200 and headers["Content-Type"].startswith("application/rss+xml")
    feed = feedparser.parse(body)
    assert not feed.bozo and len(feed.entries) == 50  # extra.portal.feed_entries' default; the demo has more
    status, headers, _ = get(server["url"] + "feeds/all.atom.xml")
    assert headers["Content-Type"].startswith("application/atom+xml")


def test_custom_404_in_chinese(server):
    status, headers, body = get(server["url"] + "records/no-such-record/")
    assert status == 404 and "页面不存在".encode() in body and b'lang="zh-CN"' in body
    assert "Content-Security-Policy" in headers


SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options",
                    "Permissions-Policy")


def test_security_headers_on_every_location(server):
    url, release = server["url"], current_release(server["dest"])
    paths = {
        "": 200, "records/MB0000017-2024-00002/": 200, "catalogue.json": 200, "sitemap.xml": 200,
        "feeds/all.xml": 200, "feeds/all.atom.xml": 200,
        "pagefind/pagefind.js": 200, "pagefind/pagefind-entry.json": 200,
        "pagefind/" + next((release / "pagefind").glob("*.pf_meta")).name: 200,
        "pagefind/fragment/" + next((release / "pagefind" / "fragment").glob("*.pf_fragment")).name: 200,
        "assets/stylesheets/" + next((release / "assets" / "stylesheets").glob("main.*.min.css")).name: 200,
        "assets/javascripts/md-base.js": 200,
        "records/MB0000017-2024-00002/rushi-banfa.pdf": 200,
        "no-such-page/": 404, "records/": 404, "assets/": 404, ".manifest.sha256": 404,
    }
    csps = set()
    for path, expected in paths.items():
        status, headers, _ = get(url + path)
        assert status == expected, (path, status)
        missing = [h for h in SECURITY_HEADERS if h not in headers]
        assert not missing, (path, missing)
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "SAMEORIGIN"
        csps.add(headers["Content-Security-Policy"])
    assert len(csps) == 1  # one policy, from the one snippet
    directives = dict(d.strip().split(" ", 1) for d in csps.pop().split(";") if d.strip())
    assert "'unsafe-inline'" not in directives["script-src"] and "'unsafe-eval'" not in directives["script-src"]
    assert "'unsafe-inline'" not in directives["style-src"]
    assert directives["frame-ancestors"] == "'self'" and directives["object-src"] == "'none'"


def test_folders_give_the_chinese_404(server):
    url = server["url"]
    for path in ("records/", "records/MB0000017-2024-00002/no-such-folder/", "pagefind/", "assets/javascripts/"):
        status, headers, body = get(url + path)
        assert status == 404, path
        assert "页面不存在".encode() in body and b'lang="zh-CN"' in body and b"nginx" not in body, path
    # a folder without its slash is redirected (relative, proxy-safe) to the slash form
    conn = __import__("http.client").client.HTTPConnection(url.split("/")[2])
    conn.request("GET", "/xxgk")
    r = conn.getresponse()
    assert r.status == 301 and r.getheader("Location") == "/xxgk/"
    conn.close()


def test_no_inline_styles_or_scripts_beyond_the_policy(demo_site):
    """What the shipped CSP refuses must not be in the pages: inline scripts (other than JSON data),
    on* handlers, <style> elements, style attributes other than the hashed table alignments."""
    import lxml.html

    allowed_styles = {"text-align: left;", "text-align: center;", "text-align: right;"}
    problems = []
    for page in demo_site.rglob("*.html"):
        root = lxml.html.parse(str(page)).getroot()
        rel = page.relative_to(demo_site).as_posix()
        for el in root.iter():
            if not isinstance(el.tag, str):
                continue
            if el.tag == "script" and not el.get("src") and el.get("type") != "application/json":
                problems.append((rel, "inline script", (el.text or "")[:60]))
            if el.tag == "style":
                problems.append((rel, "<style>", (el.text or "")[:60]))
            if el.get("style") is not None and el.get("style") not in allowed_styles:
                problems.append((rel, "style=", el.get("style")))
            problems += [(rel, "handler", a) for a in el.attrib if a.lower().startswith("on")]
    assert problems == []


def test_pages_run_under_the_shipped_csp_in_chromium(server):
    from test_browser import CHROMIUM

    if not Path(CHROMIUM).exists():
        pytest.skip("chromium not installed")
    from playwright.sync_api import sync_playwright

    url = server["url"]
    violations, messages = [], []
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless", "--disable-gpu"])
        page = b.new_page()
        page.on("console", lambda m: messages.append(m.text))
        page.on("pageerror", lambda e: messages.append(str(e)))
        page.add_init_script("document.addEventListener('securitypolicyviolation', e => "
                             "(window.__csp = window.__csp || []).push(e.violatedDirective + ' ' + e.blockedURI))")

        def visit(path):
            page.goto(url + path)
            page.wait_for_load_state("load")
            page.mouse.wheel(0, 2000)  # Material's header / back-to-top handlers
            page.wait_for_timeout(200)
            violations.extend(f"{path}: {v}" for v in page.evaluate("window.__csp || []"))
            # Material's storage helpers, now from assets/javascripts/md-base.js, scoped to the site root
            assert page.evaluate("typeof __md_get === 'function' && __md_scope.pathname") == "/", path

        visit("")
        visit("records/MB0000017-2024-00002/")
        page.goto(url + "search/?q=" + urllib.request.quote("食品安全"))
        page.wait_for_function("() => /找到/.test(document.getElementById('search-status').textContent)", timeout=20000)
        titles = page.locator(".portal-result__title a").all_inner_texts()
        violations.extend(f"search: {v}" for v in page.evaluate("window.__csp || []"))
        page.goto(url)
        page.click("nav.portal-entries >> text=政府信息公开年报")
        assert page.url.endswith("/xxgk/annual-reports/")
        violations.extend(f"annual-reports: {v}" for v in page.evaluate("window.__csp || []"))
        b.close()
    assert "青岚县2024年食品安全监督抽检计划" in titles
    assert violations == []
    assert not [m for m in messages if "Content Security Policy" in m or "Refused" in m], messages


def test_second_release_rollback_and_killed_copy(server, tmp_path):
    dest, url = server["dest"], server["url"]
    first = current_release(dest)
    # a second release with different content: one more record is due on 2026-12-10
    proc = publish(dest, env={**ENV, "DISCLOSURE_AS_OF": "2026-12-10"})
    assert proc.returncode == 0, proc.stderr
    second = current_release(dest)
    assert second != first and "已发布" in proc.stdout
    assert get(url + "catalogue/type/disclosure/")[2] == (second / "catalogue/type/disclosure/index.html").read_bytes()
    assert (second / "catalogue/type/disclosure/index.html").read_bytes() != (first / "catalogue/type/disclosure/index.html").read_bytes()

    rb = subprocess.run([sys.executable, "-m", "disclosure.cli", "rollback", "--target", str(dest)],
                        cwd=ROOT, env=ENV, capture_output=True, text=True)
    assert rb.returncode == 0, rb.stderr
    assert current_release(dest) == first
    assert get(url + "catalogue/type/disclosure/")[2] == (first / "catalogue/type/disclosure/index.html").read_bytes()

    # kill a publish while rsync copies (slowed down): the live site stays the rolled-back release
    before = {p: get(url + p)[2] for p in ("", "catalogue/type/disclosure/", "feeds/all.xml", "search/")}
    slow = subprocess.Popen([sys.executable, "-m", "disclosure.cli", "publish", "--target", str(dest)], cwd=ROOT,
                            env={**ENV, "DISCLOSURE_AS_OF": "2026-12-10", "DISCLOSURE_RSYNC_OPTS": "--bwlimit=5"},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 120
    partial = None
    while time.time() < deadline and partial is None:
        found = [p for p in (dest / "releases").glob("*.partial") if any(p.rglob("*.html"))]
        partial = found[0] if found else None
        time.sleep(0.1)
    assert partial is not None, "the copy never started"
    os.killpg(slow.pid, signal.SIGKILL)
    slow.wait()
    assert current_release(dest) == first
    for path, body in before.items():
        assert get(url + path)[2] == body
    assert get(url + "catalogue/type/disclosure/")[2] == (first / "catalogue/type/disclosure/index.html").read_bytes()
    # the next publish removes the unfinished copy
    again = publish(dest, env={**ENV, "DISCLOSURE_AS_OF": "2026-12-10"})
    assert again.returncode == 0, again.stderr
    assert not list((dest / "releases").glob("*.partial"))


def test_failed_step_is_named_and_site_untouched(server, tmp_path):
    dest = server["dest"]
    live = os.readlink(dest / "current")
    bad = subprocess.run([sys.executable, "-m", "disclosure.cli", "--config", str(ROOT / "tests/bad/mkdocs.yml"),
                          "publish", "--target", str(dest)], cwd=ROOT, env=ENV, capture_output=True, text=True)
    assert bad.returncode == 1 and "步骤：validate" in bad.stderr
    assert os.readlink(dest / "current") == live
    rb = subprocess.run([sys.executable, "-m", "disclosure.cli", "rollback", "--target", str(dest), "--to", "nope"],
                        cwd=ROOT, env=ENV, capture_output=True, text=True)
    assert rb.returncode == 1 and "没有版本 nope" in rb.stderr


def test_keeps_last_n_releases(tmp_path):
    dest = tmp_path / "srv"
    for _ in range(3):
        assert publish(dest, "--keep", "2", env={**ENV, "DISCLOSURE_SEARCH": "1"}).returncode == 0
    releases = sorted(p.name for p in (dest / "releases").iterdir())
    assert len(releases) == 2 and os.readlink(dest / "current").endswith(releases[-1])


# --- `disclosure build` builds aside and swaps: a failed build never touches the last good site ---

def tree_hashes(root: Path) -> dict[str, str]:
    import hashlib

    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_failed_build_leaves_site_byte_identical(tmp_path):
    from conftest import build, copy_site_source

    config = copy_site_source(tmp_path)
    site = tmp_path / "site"
    report = tmp_path / "site-compliance-report.html"
    first = build(site, config=config, search=False, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    before, report_before = tree_hashes(site), report.read_bytes()
    assert len(before) > 100 and "index.html" in before

    # 1) a validation error: MkDocs would already have emptied site_dir when our on_files runs
    record = next((tmp_path / "content/records/2025").rglob("*.md"))
    text = record.read_text(encoding="utf-8")
    written = next(line for line in text.splitlines() if line.startswith("written:"))
    record.write_text(text.replace(written, "written: 2025-02-30"), encoding="utf-8")
    bad = build(site, config=config, search=False, cwd=tmp_path)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert "生成失败" in bad.stderr and "原有网站" in bad.stderr and "保持不变" in bad.stderr
    assert tree_hashes(site) == before and report.read_bytes() == report_before
    record.write_text(text, encoding="utf-8")

    # 2) a failure after MkDocs has written every page: a hand-written page embeds a third-party image
    page = tmp_path / "content/xxgk/guide.md"
    guide = page.read_text(encoding="utf-8")
    page.write_text(guide + '\n\n<img src="https://tracker.example.net/p.png" alt="">\n',
                    encoding="utf-8")
    late = build(site, config=config, search=False, cwd=tmp_path)
    assert late.returncode == 1 and "tracker.example.net" in late.stderr and "Traceback" not in late.stderr
    assert tree_hashes(site) == before and report.read_bytes() == report_before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != ".cache") == ["content", "hooks", "mkdocs.yml", "site",
                                                          "site-compliance-report.html"]

    # 3) a good build replaces the site (and only then)
    page.write_text(guide + "\n\n新增的一段。\n", encoding="utf-8")
    good = build(site, config=config, search=False, cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    after = tree_hashes(site)
    assert after.keys() == before.keys() and after["xxgk/guide/index.html"] != before["xxgk/guide/index.html"]
    assert "新增的一段" in (site / "xxgk/guide/index.html").read_text(encoding="utf-8")
    assert not list(tmp_path.glob(".site.building-*"))
    # the replaced site is kept beside it, whole, until the next build deletes it
    assert tree_hashes(tmp_path / ".site.previous") == before

    # 4) the next good build deletes that one (in the background, awaited) and keeps the one it replaced
    page.write_text(guide + "\n\n又一段。\n", encoding="utf-8")
    again = build(site, config=config, search=False, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert tree_hashes(tmp_path / ".site.previous") == after
    assert "又一段" in (site / "xxgk/guide/index.html").read_text(encoding="utf-8")
    assert not list(tmp_path.glob(".site.building-*"))


def test_build_into_symlinked_site_keeps_the_link(tmp_path):
    from conftest import build, copy_site_source

    config = copy_site_source(tmp_path)
    real = tmp_path / "www" / "portal"
    real.mkdir(parents=True)
    (real / "old.txt").write_text("old", encoding="utf-8")
    (tmp_path / "site").symlink_to(real)
    proc = build(tmp_path / "site", config=config, search=False, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "site").is_symlink() and (real / "index.html").is_file() and not (real / "old.txt").exists()
    assert sorted(p.name for p in real.parent.iterdir()) == [".portal.previous", "portal", "portal-compliance-report.html"]
    assert (real.parent / ".portal.previous" / "old.txt").read_text(encoding="utf-8") == "old"


# --- third-party requests: what the browser would load, never text, data or ordinary links ---

LOADS = [
    '<img src="https://t.example.net/a.png" alt="">',
    '<img src="/x.png" srcset="/x2.png 2x, https://t.example.net/b.png 3x" alt="">',
    '<link rel="stylesheet" href="https://t.example.net/c.css">',
    '<link rel="icon" href="//t.example.net/d.ico">',
    '<link rel="preconnect" href="https://t.example.net">',
    '<script src="https://t.example.net/e.js"></script>',
    '<script>fetch("https://t.example.net/f")</script>',
    '<iframe src="https://t.example.net/g"></iframe>',
    '<p style="background:url(\'https://t.example.net/h.png\')">x</p>',
    '<style>@import "https://t.example.net/i.css";</style>',
    '<video poster="https://t.example.net/j.jpg"></video>',
    '<svg><image href="https://t.example.net/k.svg"/></svg>',
    '<img src="\\\\t.example.net\\l.png" alt="">',
    '<img src="ht\ttps://t.example.net/m.png" alt="">',
    '<object data="https://t.example.net/n.swf"></object>',
    '<meta http-equiv="refresh" content="0; url=https://t.example.net/o">',
]
NOT_LOADS = [
    '<a href="https://www.gov.cn/">中国政府网</a>',
    '<p>见 https://www.gov.cn/zhengce/ 和 http://t.example.net/</p>',
    '<link rel="canonical" href="https://elsewhere.example.org/page/">',
    '<link rel="alternate" type="application/rss+xml" href="https://feeds.example.org/all.xml">',
    '<meta name="Description" content="详见 https://www.gov.cn/ 的通知">',
    '<form action="https://www.gov.cn/search"><input name="q"></form>',
    '<script type="application/json" id="__config">{"u": "https://t.example.net/x"}</script>',
    '<img src="https://www.qinglan.gov.cn/logo.png" alt="">',
    '<img src="data:image/png;base64,AAAA" alt="">',
]


def test_external_references_are_what_the_browser_loads(tmp_path):
    from disclosure.site.selfhost import external_references

    own = {"www.qinglan.gov.cn"}
    for i, snippet in enumerate(LOADS + NOT_LOADS):
        (tmp_path / f"p{i:02d}.html").write_text(f"<!doctype html><html><body>{snippet}</body></html>", encoding="utf-8")
    (tmp_path / "s.css").write_text("/* https://licence.example.org */ a{background:url(https://t.example.net/css.png)}",
                                    encoding="utf-8")
    (tmp_path / "data.json").write_text('{"summary": "https://www.gov.cn/"}', encoding="utf-8")
    (tmp_path / "feed.xml").write_text('<rss><link>https://t.example.net/</link></rss>', encoding="utf-8")
    (tmp_path / "i.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
                                    '<use xlink:href="https://t.example.net/u.svg#a"/></svg>', encoding="utf-8")
    found = external_references(tmp_path, own)
    flagged = {f for f, _ in found}
    assert flagged == {f"p{i:02d}.html" for i in range(len(LOADS))} | {"s.css", "i.svg"}, found
    assert all("t.example.net" in url for _, url in found)


def test_external_link_and_url_in_summary_pass_validate_build_and_publish(tmp_path):
    from conftest import copy_site_source

    config = copy_site_source(tmp_path / "src")
    record = next((tmp_path / "src/content/records/2025").rglob("*.md"))
    text = record.read_text(encoding="utf-8")
    head, body = text.split("\n---\n", 1)
    head = "\n".join(line for line in head.splitlines() if not line.startswith("summary:"))
    head += "\nsummary: 依据 https://www.gov.cn/zhengce/ 公布的文件制定。"
    body += '\n\n详见<a href="https://www.gov.cn/">中国政府网</a>和 [国家政务服务平台](https://gjzwfw.www.gov.cn/)。\n'
    record.write_text(head + "\n---\n" + body, encoding="utf-8")
    env = {**ENV, "DISCLOSURE_AS_OF": AS_OF}
    val = subprocess.run([sys.executable, "-m", "disclosure.cli", "--config", str(config), "validate"],
                         cwd=tmp_path / "src", env=env, capture_output=True, text=True)
    assert val.returncode == 0, val.stdout + val.stderr
    pub = subprocess.run([sys.executable, "-m", "disclosure.cli", "--config", str(config), "publish",
                          "--target", str(tmp_path / "srv")], cwd=tmp_path / "src", env=env, capture_output=True, text=True)
    assert pub.returncode == 0, pub.stdout + pub.stderr
    live = current_release(tmp_path / "srv")
    catalogue = (live / "catalogue.json").read_text(encoding="utf-8")
    assert "https://www.gov.cn/zhengce/" in catalogue
    pages = [p for p in (live / "records").rglob("index.html") if 'href="https://www.gov.cn/"' in p.read_text(encoding="utf-8")]
    assert len(pages) == 1


# --- publish: manifest, hard links, lock, rollback rules, cleanup ---

def sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def releases_of(dest: Path) -> list[Path]:
    return sorted(p for p in (dest / "releases").iterdir())


def read_manifest(release: Path) -> dict[str, str]:
    entries = {}
    for line in (release / ".manifest.sha256").read_text(encoding="utf-8").splitlines():
        digest, name = line.split("  ", 1)
        entries[name] = digest
    return entries


def rollback(dest, *extra, env=None):
    return subprocess.run([sys.executable, "-m", "disclosure.cli", "rollback", "--target", str(dest), *extra],
                          cwd=ROOT, env=env or ENV, capture_output=True, text=True)


def test_unchanged_republish_shares_inodes_and_rollback_checks_the_manifest(tmp_path):
    dest = tmp_path / "srv"
    env = {**ENV}
    assert publish(dest, env=env).returncode == 0
    second = publish(dest, env=env)
    assert second.returncode == 0, second.stderr
    first, newer = releases_of(dest)
    assert current_release(dest) == newer

    # the manifest lists exactly the release's files, with their real hashes
    files = {p.relative_to(first).as_posix() for p in first.rglob("*") if p.is_file()} - {".manifest.sha256"}
    manifest = read_manifest(first)
    assert set(manifest) == files and len(files) > 200
    assert all(manifest[f] == sha256(first / f) for f in files)

    # unchanged content: every file whose bytes equal the earlier release's is the same inode
    same = [f for f in files if (newer / f).is_file() and sha256(newer / f) == manifest[f]]
    assert len(same) > 0.95 * len(files)
    unlinked = [f for f in same if os.stat(first / f).st_ino != os.stat(newer / f).st_ino]
    assert unlinked == []

    # a release with files missing (as a killed prune would leave it) is never a rollback target
    victims = sorted(f for f in files if f.startswith("records/"))[:40]
    for f in victims:
        (first / f).unlink()
    for args in (("--to", first.name), ()):
        rb = rollback(dest, *args)
        assert rb.returncode == 1 and "不能回退" in rb.stderr and "缺少文件" in rb.stderr, rb.stderr
        assert victims[0] in rb.stderr
        assert current_release(dest) == newer
    # a release without a manifest is refused too; a folder being pruned is not a release at all
    (newer.parent / "20200101T000000Z-nomanif").mkdir()
    (newer.parent / "20200101T000000Z-nomanif/index.html").write_text("x", encoding="utf-8")
    rb = rollback(dest, "--to", "20200101T000000Z-nomanif")
    assert rb.returncode == 1 and "没有清单文件" in rb.stderr
    os.rename(first, str(first) + ".pruning")
    rb = rollback(dest, "--to", first.name + ".pruning")
    assert rb.returncode == 1 and "没有版本" in rb.stderr
    assert current_release(dest) == newer
    # a changed file in an intact-looking release is caught as well
    os.rename(str(first) + ".pruning", first)
    shutil.rmtree(first)
    page = newer / "index.html"
    page.write_bytes(page.read_bytes() + b"<!-- edited on the server -->")
    third = publish(dest, env=env)
    assert third.returncode == 0, third.stderr
    assert not list((dest / "releases").glob("*.pruning"))
    rb = rollback(dest, "--to", newer.name)
    assert rb.returncode == 1 and "内容被改动 index.html" in rb.stderr


def start_publishes(target, env, n=2):
    """Start n publishes at once; returns (processes, their stdout lines as they arrive)."""
    import threading

    procs = [subprocess.Popen([sys.executable, "-m", "disclosure.cli", "publish", "--target", str(target)], cwd=ROOT,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(n)]
    lines = [[] for _ in procs]
    for proc, out in zip(procs, lines):
        threading.Thread(target=lambda p=proc, o=out: o.extend(iter(p.stdout.readline, "")), daemon=True).start()
    return procs, lines


@contextlib.contextmanager
def holding_lock(dest: Path):
    import fcntl

    dest.mkdir(parents=True, exist_ok=True)
    with open(dest / ".publish.lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def wait_until(predicate, timeout=240):
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, "timed out"
        time.sleep(0.1)


def test_two_publishes_at_once_both_succeed(tmp_path):
    dest = tmp_path / "srv"
    # the lock is held (as by a publish in progress) until both have built and are waiting for it;
    # then they compete for it: one copies, the other waits again, both must end well
    with holding_lock(dest):
        procs, lines = start_publishes(dest, {**ENV, "DISCLOSURE_RSYNC_OPTS": "--bwlimit=3000"})
        wait_until(lambda: all(any("等待" in line for line in out) for out in lines) or
                   any(p.poll() is not None for p in procs))
    for p in procs:
        p.wait(timeout=300)
    outs = ["".join(out) for out in lines]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert all("等待" in out and "已发布" in out for out in outs), outs
    releases = releases_of(dest)
    assert len(releases) == 2 and not list((dest / "releases").glob("*.partial"))
    assert current_release(dest) in releases
    for release in releases:
        files = {p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file()} - {".manifest.sha256"}
        manifest = read_manifest(release)
        assert set(manifest) == files and all(manifest[f] == sha256(release / f) for f in files)
    assert rollback(dest).returncode == 0


def test_failed_publish_leaves_no_temporary_build(tmp_path):
    from conftest import copy_site_source

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    dest = tmp_path / "srv"
    env = {**ENV, "TMPDIR": str(tmp)}

    def run(config, **extra):
        return subprocess.run([sys.executable, "-m", "disclosure.cli", "--config", str(config), "publish",
                               "--target", str(dest)], cwd=config.parent, env={**env, **extra},
                              capture_output=True, text=True)

    config = copy_site_source(tmp_path / "src")
    guide = tmp_path / "src/content/xxgk/guide.md"
    original = guide.read_text(encoding="utf-8")
    # copy fails (rsync refuses an option)
    proc = run(config, DISCLOSURE_RSYNC_OPTS="--no-such-rsync-option")
    assert proc.returncode == 1 and "步骤：copy" in proc.stderr, proc.stderr
    assert list(tmp.iterdir()) == []
    # the copy on the server does not match the manifest (rsync told to leave files out): no switch
    proc = run(config, DISCLOSURE_RSYNC_OPTS="--exclude=feeds/")
    assert proc.returncode == 1 and "步骤：check" in proc.stderr and "缺少文件 feeds/all.xml" in proc.stderr, proc.stderr
    assert list(tmp.iterdir()) == [] and not list((dest / "releases").iterdir())
    # verify fails: a hand-written page links to a file that does not exist
    guide.write_text(original + '\n\n<a href="missing-form.pdf">申请表</a>\n', encoding="utf-8")
    proc = run(config)
    assert proc.returncode == 1 and "步骤：verify" in proc.stderr and "missing-form.pdf" in proc.stderr, proc.stderr
    assert list(tmp.iterdir()) == []
    # build fails after every page was written: a hand-written page embeds a third-party image
    guide.write_text(original + '\n\n<img src="https://tracker.example.net/p.png" alt="">\n', encoding="utf-8")
    proc = run(config)
    assert proc.returncode == 1 and "步骤：build" in proc.stderr, proc.stderr
    assert list(tmp.iterdir()) == []
    # the lock stays taken longer than the publish will wait
    guide.write_text(original, encoding="utf-8")
    with holding_lock(dest):
        proc = run(config, DISCLOSURE_LOCK_TIMEOUT="1")
    assert proc.returncode == 1 and "步骤：lock" in proc.stderr and "锁仍被占用" in proc.stderr, proc.stderr
    assert list(tmp.iterdir()) == []
    assert not (dest / "current").exists() and not list((dest / "releases").iterdir())


SSH_SHIM = """#!/bin/sh
# stands in for ssh in the tests: drops the options and the host, runs the command with the local shell
while [ $# -gt 0 ]; do case "$1" in -o|-p|-i|-l) shift 2;; -*) shift;; *) break;; esac; done
shift
exec sh -c "$*"
"""


def test_publish_and_rollback_over_ssh(tmp_path):
    """The remote code path (ssh + rsync -e ssh + flock in the remote shell), with ssh replaced by a
    shim that runs the remote command locally."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ssh").write_text(SSH_SHIM, encoding="utf-8")
    (bin_dir / "ssh").chmod(0o755)
    dest = tmp_path / "srv"
    target = f"deploy@web1:{dest}"
    env = {**ENV, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    with holding_lock(dest):  # flock(1) on the "server" and our flock(2) exclude each other
        procs, lines = start_publishes(target, env)
        wait_until(lambda: all(any("等待" in line for line in out) for out in lines) or
                   any(p.poll() is not None for p in procs))
    for p in procs:
        p.wait(timeout=300)
    outs = ["".join(out) for out in lines]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert all("等待" in out for out in outs), outs
    first, newer = releases_of(dest)
    assert current_release(dest) == newer
    index = "catalogue/type/disclosure/index.html"
    assert os.stat(first / index).st_ino == os.stat(newer / index).st_ino
    assert set(read_manifest(newer)) == {p.relative_to(newer).as_posix() for p in newer.rglob("*")
                                         if p.is_file()} - {".manifest.sha256"}
    (first / index).unlink()
    rb = rollback(target, env=env)
    assert rb.returncode == 1 and f"缺少文件 {index}" in rb.stderr, rb.stderr
    os.link(newer / index, first / index)  # same bytes (unchanged content): the release is whole again
    rb = rollback(target, env=env)
    assert rb.returncode == 0 and current_release(dest) == first, rb.stderr
