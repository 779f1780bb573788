"""`disclosure serve`: a preview server for staff that rebuilds what changed and shows errors in the browser.

    disclosure serve [--dev-addr 127.0.0.1:8000] [--as-of YYYY-MM-DD] [--no-search]

What it does:
- builds the site once into a private folder, `.cache/serve-site/` beside mkdocs.yml (never `site/`),
  through `disclosure.site.engine.SiteBuilder`, whose warm state makes the next builds incremental.
  The builder lives in a build process of its own (started with "spawn": one thread, its own process
  group, default signal handlers), because the engine forks worker pools: a fork from a process with
  running HTTP/watcher threads can copy a lock one of them holds, and a Python-level SIGTERM handler
  inherited by pool workers can make `Pool.terminate()` wait forever (see `_builder_main`);
  the builder runs without search, and the Pagefind index follows each build that wrote record pages
  in a background thread (`Indexer`), so an edit shows as soon as its pages are written;
- serves that folder over HTTP (stdlib `ThreadingHTTPServer`): folders answer with their
  `index.html`, misses with the site's `404.html` (status 404), Pagefind's index files and wasm with
  the MIME types the shipped nginx config gives them, and every response with the same security
  headers as production (read from `deploy/nginx/snippets/disclosure-headers.conf` when the
  package sits in its repository), so a page that works in the preview works when published;
- watches the records folder (`docs_dir`), mkdocs.yml, the theme and the site's override folder with
  `watchfiles`, and rebuilds after a burst of saves settles; a save during a rebuild queues exactly
  one more rebuild, with everything saved meanwhile;
- an edit of published records shows in about a second: before the whole (incremental) build, the
  build process re-reads the records (the validation cache makes that cheap) and renders the edited
  records' own pages with the last build's config, nav and templates (`SiteBuilder.render_ahead`),
  and, when the edit kept the record's place in the lists (a title, summary or 文号 corrected), the
  list pages showing its row; the browser showing one reloads then, and the nav pages, feeds and
  linking pages follow with the whole build (which writes the pages ahead again, with the same
  bytes: they are not reloaded twice).
  A new or deleted file, mkdocs.yml, a template or an error in the records skips that step;
- live reload: each served HTML response (never the file on disk, so the built folder is byte-for-byte
  a build) gets `<script src="/.portal-serve/reload.js?g=N" defer>` before `</head>`. The script
  listens to Server-Sent Events at `/.portal-serve/events` and reloads the page when a rebuild
  finished that wrote this page, wrote a stylesheet or script, or changed between failed and
  succeeded; a page older than the last build (it loaded while a build was finishing) reloads on
  connect. An external script because the site's CSP allows no inline script;
- errors in the browser: while the last rebuild failed (a YAML error, a blocking finding, a broken
  mkdocs.yml) every HTML page answers with a Chinese error page (status 500; the autoescaped Jinja
  template `serve_files/error.html`: record text is untrusted) listing each error with file, line,
  field, problem, fix and the lines around it. It clears by itself once the file is fixed, since the
  next build sends the event that reloads it. Before the first build finishes, the pages of the
  previous session are served (those the build rewrites reload when it is done), or, in a new
  folder, each page as soon as the first build has written it (every page is written beside and
  renamed over, so none is seen half-written; the navigation pages come first, before the record
  pages and lists): until then it answers 503 「正在生成预览」 and asks again every 3 seconds. The
  browser never waits on a build;
- terminal: each rebuild prints the findings that are new since the previous build in full, a one-line
  count of the rest, the time taken and the number of pages written; MkDocs' own log lines are not
  shown (Material's MkDocs-2 banner is silenced by NO_MKDOCS_2_WARNING).

Why a small server of our own rather than `mkdocs serve`: MkDocs' livereload server rebuilds every
page on each save in one process (14–40 s at 3,000 records), injects an inline script (refused by our
CSP) and leaves the browser waiting while a build fails. The HTTP part is the standard library's;
watching is `watchfiles`; rendering is the site engine's.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import mimetypes
import os
import re
import secrets
import signal
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jinja2

SERVE_FILES = Path(__file__).resolve().parent / "serve_files"
HEADERS_SNIPPET = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "snippets" / "disclosure-headers.conf"
INTERNAL = "/.portal-serve/"
SITE_FOLDER = Path(".cache") / "serve-site"

# MIME types the shipped nginx config gives (deploy/nginx/disclosure.conf); others from `mimetypes`.
MIME = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".wasm": "application/wasm",
    ".pagefind": "application/wasm",
    ".pf_meta": "application/octet-stream",
    ".pf_index": "application/octet-stream",
    ".pf_fragment": "application/octet-stream",
    ".pf_filter": "application/octet-stream",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".gz": "application/gzip",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".pdf": "application/pdf",
}
_HEAD_END = re.compile(rb"</head\s*>", re.I)


def parse_addr(value: str) -> tuple[str, int]:
    """`HOST:PORT` as `mkdocs serve --dev-addr` takes it (`[::1]:8000` for IPv6)."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"「{value}」不是 主机:端口 格式，例如 127.0.0.1:8000")
    return (host.strip("[]") or "127.0.0.1"), int(port)


def security_headers() -> list[tuple[str, str]]:
    """The production headers (CSP included) from the nginx snippet, when it is there.

    The snippet is the single source of truth for the published site's headers; reading its
    `add_header NAME "VALUE" always;` lines keeps the preview under the same CSP."""
    try:
        text = HEADERS_SNIPPET.read_text(encoding="utf-8")
    except OSError:
        return [("X-Content-Type-Options", "nosniff")]
    out = []
    for m in re.finditer(r'^\s*add_header\s+([A-Za-z-]+)\s+("([^"]*)"|(\S+))\s+always\s*;', text, re.M):
        out.append((m.group(1), m.group(3) if m.group(3) is not None else m.group(4)))
    return out


# ------------------------------------------------------------------------------------------ building
def make_builder(config_file: Path, site_dir: Path, as_of, search: bool, bodies: bool = False, wanted=None):
    from disclosure.site.engine import SiteBuilder

    return SiteBuilder(str(config_file), str(site_dir), as_of=as_of, search=search, atomic=True, bodies=bodies,
                       wanted=wanted)


def _drain(wants) -> list[str]:
    """The page URLs the server has asked for since the last look (never blocks)."""
    urls = []
    try:
        while wants is not None and wants.poll():
            urls.append(wants.recv())
    except (EOFError, OSError):
        pass
    return urls


def _builder_main(conn, config_file: str, site_dir: str, as_of, search: bool = False, wants=None) -> None:
    """The build process: owns the SiteBuilder (warm between builds), answers one message per build.
    `wants` (a one-way pipe) brings the pages a browser is waiting for during a build (the first
    one, in a new folder): the engine renders them before their turn (mkdocs_glue.Portal._render_wanted).

    It has a single thread, so the engine's forked workers never inherit a lock held by another
    thread (the preview's HTTP and watcher threads live in the parent)."""
    # Its own process group: Ctrl+C (sent to the terminal's group) reaches only the parent, which
    # stops this process and the engine's workers together with os.killpg. SIGTERM keeps its default
    # action here ON PURPOSE: a Python-level handler is inherited by the worker pools' forked
    # processes, and multiprocessing.Pool.terminate() then hangs when the signal lands between the
    # handler check and a worker's blocking sem_wait (seen: a cold 3,000-record build stuck in
    # feeds.write_feeds, Pool.__exit__ joining a worker that never died).
    if hasattr(os, "setpgrp"):
        os.setpgrp()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.environ["NO_MKDOCS_2_WARNING"] = "1"
    if as_of:
        os.environ["DISCLOSURE_AS_OF"] = as_of.isoformat()
    _quiet_mkdocs()
    builder = None
    bodies: dict = {}  # record page → body text, kept between builds (only written pages are read again)
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message[0] == "stop":
            return
        _, changed, fresh = message
        started = time.perf_counter()
        ahead: dict = {}
        try:
            if fresh or builder is None:
                builder = make_builder(Path(config_file), Path(site_dir), as_of, search=False, bodies=search,
                                       wanted=lambda: _drain(wants))
                changed = None
            elif changed:
                # an edited record's own page first (about a second), then the whole build
                ahead = builder.render_ahead(changed)
                if ahead:
                    conn.send({"ahead": True, "written": list(ahead), "seconds": time.perf_counter() - started})
            result = builder.build(changed)
            reply = {"ok": bool(result.ok), "errors": [_portable(e) for e in result.errors],
                     "findings": [_portable(f) for f in result.findings],
                     "written": [str(w) for w in result.written if not _same(Path(site_dir), str(w), ahead)],
                     "message": getattr(result, "message", "") or ""}
            if search and result.ok and builder.plan is not None:
                written = result.written
                if result.bodies is not None:  # a builder's first build: every record's body, captured or kept
                    bodies.clear()
                    bodies.update(result.bodies)
                    written = ()
                builder.bodies = False  # later builds: only the pages they write are read back (below)
                reply["index_docs"] = str(_write_index_docs(builder.plan, Path(site_dir), bodies, written))
        except Exception as e:  # a broken mkdocs.yml, a template error: reported, never fatal
            builder = None
            reply = {"ok": False, "errors": [str(e) or type(e).__name__], "findings": [], "written": [], "message": ""}
        reply["seconds"] = time.perf_counter() - started
        reply["mkdocs"] = list(dict.fromkeys(CAPTURED.records))
        CAPTURED.records.clear()
        conn.send(reply)


def _same(site_dir: Path, url: str, ahead: dict) -> bool:
    """A page the whole build rewrote with the bytes render_ahead had already written (the browser
    showing it need not reload again)."""
    data = ahead.get(url)
    if data is None:
        return False
    try:
        return (site_dir / url / "index.html").read_bytes() == data
    except OSError:
        return False


def _write_index_docs(plan, site_dir: Path, bodies: dict, written) -> Path:
    """The search index's input for this build (search.docs_from_plan), beside the preview folder.
    A record page's body text is read back from the page only when this build wrote it (or it is
    not known yet), so an edit costs one page, not all of them."""
    from disclosure.site.search import body_from_page, docs_from_plan, write_docs

    for url in written:
        url = str(url)
        if url.startswith("records/"):
            bodies.pop(url.rstrip("/") + ".md", None)
    live = {f"records/{r.slug}.md": r for r in plan.corpus.live}
    for src in list(bodies):
        if src not in live:
            del bodies[src]
    for src, r in live.items():
        if src not in bodies:
            bodies[src] = body_from_page(site_dir / "records" / r.slug / "index.html")
    path = site_dir.parent / f"{site_dir.name}-index-docs.jsonl"
    write_docs(docs_from_plan(plan, bodies, site_dir), path)
    return path


def _portable(item):
    """A Finding as it is (picklable), anything else as its text."""
    from disclosure.model.findings import Finding

    return item if isinstance(item, Finding) else str(item)


class BuildProcess:
    """The parent's handle on `_builder_main`, started with "spawn" (a fresh interpreter, no threads)."""

    def __init__(self, config_file: Path, site_dir: Path, as_of, search: bool = False):
        self.args = (str(config_file), str(site_dir), as_of, search)
        self.proc = self.conn = self.wants = None
        self._want_lock = threading.Lock()  # HTTP threads send on the wants pipe

    def _start(self) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        with self._want_lock:
            if self.wants is not None:  # the previous build process's (it exited)
                self.wants.close()
            wants_in, self.wants = ctx.Pipe(duplex=False)
            self._wanted: set = set()
        self.proc = ctx.Process(target=_builder_main, args=(child, *self.args, wants_in), name="portal-build")
        self.proc.start()
        child.close()
        wants_in.close()

    def want(self, url: str) -> None:
        """A browser waits for this page (site-relative URL) of the build running now: render it first."""
        with self._want_lock:
            if self.wants is None or url in self._wanted:  # once each: a full pipe would block the sender
                return
            self._wanted.add(url)
            try:
                self.wants.send(url)
            except OSError:
                pass

    def build(self, changed, fresh: bool, on_ahead=None) -> dict:
        """One build; `on_ahead(reply)` is called with the pages written ahead of it (an edited
        record's own page, `SiteBuilder.render_ahead`) when the build process sends them."""
        if self.proc is None or not self.proc.is_alive():
            self._start()
            fresh = True
        self.conn.send(("build", changed, fresh))
        while True:
            while not self.conn.poll(0.25):  # short waits: the main thread stays responsive to Ctrl+C
                if not self.proc.is_alive():
                    code = self.proc.exitcode
                    self.proc = None
                    return {"ok": False, "errors": [f"生成进程意外退出（退出码 {code}），保存任一文件可重试"],
                            "findings": [], "written": [], "message": "", "seconds": 0.0, "mkdocs": []}
            try:
                reply = self.conn.recv()
            except EOFError:
                self.proc = None
                return {"ok": False, "errors": ["生成进程意外退出，保存任一文件可重试"], "findings": [], "written": [],
                        "message": "", "seconds": 0.0, "mkdocs": []}
            if not reply.get("ahead"):
                return reply
            if on_ahead is not None:
                on_ahead(reply)

    def close(self) -> None:
        if self.proc is None:
            return
        if self.proc.is_alive():
            try:
                self.conn.send(("stop",))
            except OSError:
                pass
            self.proc.join(timeout=2)
        for sig in (signal.SIGTERM, signal.SIGKILL):  # in the middle of a build: it and its workers
            if not self.proc.is_alive():
                break
            try:
                os.killpg(self.proc.pid, sig)
            except (AttributeError, ProcessLookupError, PermissionError):
                self.proc.terminate() if sig == signal.SIGTERM else self.proc.kill()
            self.proc.join(timeout=20)
        self.proc = None


def problem(item, root: Path) -> dict:
    """One error as the error page shows it: a Finding's fields, or an exception's text."""
    if hasattr(item, "as_dict"):
        d = item.as_dict()
    else:
        text = str(item)
        # "path:line: message" (ConfigError and friends name the place first)
        m = re.match(r"^(?:配置错误：)?(?P<file>[^\s:：]+\.(?:ya?ml|md|html|py))(?::(?P<line>\d+))?:\s*(?P<msg>.*)$", text, re.S)
        d = {"code": "", "level": "error", "title": "", "file": m["file"] if m else "", "field": "", "hint": "",
             "line": int(m["line"]) if m and m["line"] else 0, "message": m["msg"] if m else text}
        if d["file"]:
            d["file"] = _relative(Path(d["file"]), root)
        fix = re.match(r"^(?P<msg>.*)（修改方法：(?P<hint>.*)）$", d["message"], re.S)
        if fix:
            d["message"], d["hint"] = fix["msg"], fix["hint"]
    d["excerpt"] = excerpt(root, d.get("file") or "", d.get("line") or 0)
    return d


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except (ValueError, OSError):
        return str(path)


def excerpt(root: Path, rel: str, line: int, around: int = 2) -> list[dict]:
    """The lines around `line` of a file inside the site folder, for the error page (escaped there)."""
    if not rel or line <= 0:
        return []
    path = (root / rel).resolve()
    try:
        path.relative_to(root)
        if path.stat().st_size > 2_000_000:
            return []
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except (ValueError, OSError):
        return []
    lo, hi = max(1, line - around), min(len(lines), line + around)
    return [{"no": n, "text": lines[n - 1], "here": n == line} for n in range(lo, hi + 1)]


def finding_key(f) -> tuple:
    d = f.as_dict() if hasattr(f, "as_dict") else {"message": str(f)}
    return (d.get("code"), d.get("file"), d.get("field"), d.get("message"), d.get("hint"))


def render_finding(f) -> str:
    return f.render() if hasattr(f, "render") else str(f)


# ------------------------------------------------------------------------------------------ state
@dataclass
class State:
    """What the HTTP threads read and the build loop writes, under `cond`."""
    server_id: str = field(default_factory=lambda: secrets.token_hex(6))
    generation: int = 0  # finished builds
    ok: bool | None = None  # None: the first build has not finished
    stale: bool = False  # until then, the pages of the previous preview session are served
    building: bool = False
    problems: list = field(default_factory=list)
    written_urls: list = field(default_factory=list)
    assets_changed: bool = False
    stopping: bool = False
    cond: threading.Condition = field(default_factory=threading.Condition)
    # (generation, URLs written, a stylesheet or script changed) of the last builds: a listener
    # that slept through two of them (an edited record's page ahead, then the whole build) gets both
    history: list = field(default_factory=list)
    KEEP = 20

    def finished(self, urls: list[str], assets: bool) -> None:
        """A build (or the pages written ahead of one) finished; the caller holds `cond`."""
        self.generation += 1
        self.written_urls, self.assets_changed = urls, assets
        self.history = (self.history + [(self.generation, urls, assets)])[-self.KEEP:]

    def event(self, since: int | None = None) -> dict:
        """What a listener needs: the state and what was written after generation `since`
        (default: by the last build alone)."""
        if since is None or since >= self.generation - 1:
            urls, assets = self.written_urls, self.assets_changed
        else:
            kept = [h for h in self.history if h[0] > since]
            if not kept or kept[0][0] != since + 1:  # older than the history: everything may have changed
                urls, assets = ["*"] * 2001, True
            else:
                urls = list(dict.fromkeys(u for h in kept for u in h[1]))
                assets = any(h[2] for h in kept)
        return {"server": self.server_id, "generation": self.generation, "ok": self.ok,
                "all": len(urls) > 2000, "written": [] if len(urls) > 2000 else urls, "assets": assets}


def written_urls(written, site_dir: Path, mount: str) -> tuple[list[str], bool]:
    """What a build wrote → the URL paths a browser has open, and whether a stylesheet or script changed.

    Takes the engine's site-relative page URLs ("records/x/", "" for home) as well as file paths
    ("records/x/index.html", absolute or relative to the site folder)."""
    urls, assets = [], False
    for item in written:
        text = str(item)
        p = Path(text)
        rel = _relative(p, site_dir) if p.is_absolute() else text.lstrip("/")
        if rel == "" or rel.endswith("/"):
            urls.append(mount + rel)
        elif rel.endswith(".html"):
            urls.append(mount + (rel[: -len("index.html")] if rel == "index.html" or rel.endswith("/index.html") else rel))
        elif rel.endswith((".css", ".js")):
            assets = True
    return urls, assets


# ------------------------------------------------------------------------------------------ HTTP
class _Handler(SimpleHTTPRequestHandler):
    server: "_Server"
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # no request log in the staff's terminal
        pass

    def end_headers(self):
        for name, value in self.server.preview.headers:
            self.send_header(name, value)
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def do_HEAD(self):
        self._serve(head=True)

    def do_GET(self):
        self._serve(head=False)

    # ---- routing
    def _serve(self, head: bool):
        preview = self.server.preview
        parts = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(parts.path)
        try:
            if path.startswith(INTERNAL):
                return self._internal(path[len(INTERNAL):], head)
            mount = preview.mount
            if not path.startswith(mount):
                if path + "/" == mount or path == "/":
                    return self._redirect(mount)
                return self._not_found(head)
            rel = path[len(mount):]
            target = self._file(rel)
            if target is None:
                return self._not_found(head)
            if target.is_dir():
                if not path.endswith("/"):
                    return self._redirect(parts.path + "/" + (f"?{parts.query}" if parts.query else ""))
                target = target / "index.html"
                if not target.is_file():
                    return self._not_found(head)
            if target.suffix == ".html":
                return self._html(target, HTTPStatus.OK, head)
            return self._static(target, head)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _file(self, rel: str) -> Path | None:
        root = self.server.preview.site_dir
        if "\x00" in rel:
            return None
        candidate = (root / rel).resolve() if rel else root
        try:
            candidate.relative_to(root.resolve())
        except ValueError:
            return None  # outside the site folder
        return candidate if candidate.exists() else None

    # ---- responses
    def _send(self, status, body: bytes, ctype: str, head: bool, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _redirect(self, location: str):
        self._send(HTTPStatus.MOVED_PERMANENTLY, b"", "text/plain", True, [("Location", location)])

    def _static(self, target: Path, head: bool):
        try:
            body = target.read_bytes()
        except OSError:
            return self._not_found(head)
        self._send(HTTPStatus.OK, body, content_type(target), head)

    def _html(self, target: Path | None, status, head: bool):
        preview = self.server.preview
        with preview.state.cond:
            ok, generation, problems = preview.state.ok, preview.state.generation, preview.state.problems
            stale = preview.state.stale
        if ok is None and not stale and (target is None or status != HTTPStatus.OK):
            return self._building(head)
        if ok is False:
            body = preview.page("error.html", generation=generation, problems=problems)
            return self._send(HTTPStatus.INTERNAL_SERVER_ERROR, body, MIME[".html"], head)
        try:
            body = target.read_bytes() if target is not None else None
        except OSError:
            body = None
        if body is None:
            return self._not_found(head)
        self._send(status, inject(body, preview.script_tag(generation)), MIME[".html"], head)

    def _building(self, head: bool):
        """The first build of a new preview folder has not written this page yet: 503, and the
        page asks again every few seconds (pages appear as the build writes them); the build is
        told, so it renders this page before its turn."""
        preview = self.server.preview
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        if path.startswith(preview.mount) and path.endswith("/") and preview.builder is not None:
            preview.builder.want(path[len(preview.mount):])
        body = preview.page("building.html", generation=preview.state.generation)
        return self._send(HTTPStatus.SERVICE_UNAVAILABLE, body, MIME[".html"], head, [("Retry-After", "3")])

    def _not_found(self, head: bool):
        preview = self.server.preview
        if preview.state.ok is None and not preview.state.stale:
            return self._building(head)  # not a miss yet: the first build may still write it
        page = preview.site_dir / "404.html"
        if page.is_file() or preview.state.ok is not True and not preview.state.stale:
            return self._html(page if page.is_file() else None, HTTPStatus.NOT_FOUND, head)
        self._send(HTTPStatus.NOT_FOUND, "找不到这个页面。".encode(), "text/plain; charset=utf-8", head)

    def _internal(self, name: str, head: bool):
        if name == "events":
            return self._events()
        if name == "state.json":
            with self.server.preview.state.cond:
                data = self.server.preview.state.event()
            return self._send(HTTPStatus.OK, json.dumps(data, ensure_ascii=False).encode(), "application/json", head)
        path = SERVE_FILES / name
        if name in ("reload.js", "serve.css") and path.is_file():
            return self._send(HTTPStatus.OK, path.read_bytes(), content_type(path), head)
        self._send(HTTPStatus.NOT_FOUND, b"", "text/plain", head)

    def _events(self):
        """Server-Sent Events: `hello` on connect, `build` after each finished build."""
        state = self.server.preview.state
        self.close_connection = True
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.end_headers()

        def send(kind: str, data: dict | None):
            chunk = f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n" if data else ": ping\n\n"
            self.wfile.write(chunk.encode("utf-8"))
            self.wfile.flush()

        try:
            with state.cond:
                seen, data = state.generation, state.event()
            send("hello", data)
            while True:
                with state.cond:
                    state.cond.wait_for(lambda: state.stopping or state.generation != seen, timeout=15)
                    if state.stopping:
                        return
                    changed, data = state.generation != seen, state.event(since=seen)
                    seen = state.generation
                send("build", data) if changed else send("ping", None)
        except (BrokenPipeError, ConnectionResetError, OSError):
            return


def content_type(path: Path) -> str:
    name = path.name
    if path.parent.name == "feeds" and name.endswith(".atom.xml"):
        return "application/atom+xml; charset=utf-8"
    if path.parent.name == "feeds" and name.endswith(".xml"):
        return "application/rss+xml; charset=utf-8"
    return MIME.get(path.suffix.lower()) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def inject(html: bytes, tag: bytes) -> bytes:
    """The reload script before `</head>` (or at the end when there is none): in the response only."""
    m = _HEAD_END.search(html)
    return html[: m.start()] + tag + html[m.start():] if m else html + tag


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    preview: "Preview"


# ------------------------------------------------------------------------------------------ watching
class _Filter:
    """watchfiles' default filter (editor swap files, .git, __pycache__), minus our own output."""

    def __init__(self, skip: list[Path]):
        from watchfiles import DefaultFilter

        self.default = DefaultFilter()
        self.skip = [str(p) for p in skip]

    def __call__(self, change, path: str) -> bool:
        return self.default(change, path) and not any(path == s or path.startswith(s + os.sep) for s in self.skip)


# ------------------------------------------------------------------------------------------ search
class Indexer:
    """The Pagefind index of the preview, rebuilt in the background after builds that wrote record pages.

    The builder runs with search off so that an edit is visible as soon as its pages are written;
    Pagefind (which always reads every record page) follows in a thread of its own, at the lowest CPU
    priority, once builds have been quiet for a moment. One run at a time: a build finishing during
    a run asks for exactly one more run after it."""

    def __init__(self, site_dir: Path, say):
        self.site_dir, self.say = site_dir, say
        self.lock = threading.Lock()
        self.proc = None
        self.thread: threading.Thread | None = None
        self.again = self.stopped = False
        self.runs = 0
        self.last_request = 0.0
        self.docs: Path | None = None

    QUIET = 1.5  # seconds without a new request before a run starts (a burst of saves indexes once)

    def request(self, docs: Path) -> None:
        """`docs`: the IndexDocs of the build just finished (search.write_docs)."""
        with self.lock:
            self.last_request = time.monotonic()
            self.docs = docs
            if self.stopped:
                return
            if self.thread is not None:
                self.again = True
                return
            self.thread = threading.Thread(target=self._run, name="portal-search-index", daemon=True)
            self.thread.start()

    def cache_dir(self) -> Path | None:
        """Unchanged shards are reused between runs (an edit re-indexes its shard only), in a folder
        of their own beside the preview site, not shared with `disclosure build`'s `.cache/search/`."""
        from disclosure.site import pagecache

        return self.site_dir.parent / f"{self.site_dir.name}-search" if pagecache.mode() != "off" else None

    def _run(self) -> None:
        from disclosure.site.search import SearchIndexError, finish_index, start_index_from

        try:  # Linux: this thread (and Pagefind, which inherits it) yields the CPU to the next rebuild
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        except (AttributeError, OSError):
            pass
        while True:
            while not self.stopped and time.monotonic() - self.last_request < self.QUIET:
                time.sleep(0.2)
            started = time.perf_counter()
            try:
                with self.lock:
                    if self.stopped:
                        return
                    self.proc = proc = start_index_from(self.docs, self.site_dir, self.cache_dir())
                finish_index(proc, self.site_dir)
                self.runs += 1
                if self.runs == 1:
                    self.say(f"[{time.strftime('%H:%M:%S')}] 搜索索引已生成，用时 {time.perf_counter() - started:.1f} 秒"
                             "（之后每次修改记录都在后台更新）。")
            except SearchIndexError as e:
                if not self.stopped:
                    self.say(f"[{time.strftime('%H:%M:%S')}] 搜索索引未能更新（预览页面不受影响）：{e}")
            except OSError as e:
                self.say(f"[{time.strftime('%H:%M:%S')}] 搜索索引未能更新：{e}")
            with self.lock:
                self.proc = None
                if self.stopped or not self.again:
                    self.thread = None
                    return
                self.again = False

    def stop(self) -> None:
        with self.lock:
            self.stopped = True
            proc, thread = self.proc, self.thread
        if proc is not None and proc.poll() is None:
            proc.kill()
        if thread is not None:
            thread.join(timeout=10)


# ------------------------------------------------------------------------------------------ the preview
class Preview:
    def __init__(self, config_file: str | Path = "mkdocs.yml", addr: str = "127.0.0.1:8000",
                 as_of: dt.date | None = None, search: bool = True, out=None):
        self.config_file = Path(config_file).resolve()
        self.root = self.config_file.parent
        self.site_dir = self.root / SITE_FOLDER
        self.host, self.port = parse_addr(addr)
        self.as_of, self.search = as_of, search
        self.out = out or sys.stdout
        self.state = State()
        self.headers = security_headers()
        self.mount = "/"
        self.pending: set[Path] = set()
        self.builder = None
        self.previous_findings: set | None = None
        self._mkdocs_seen: set[str] = set()
        self._since_ok: set[Path] = set()
        self._theme_dirs: list[Path] = []
        self.indexer = Indexer(self.site_dir, self.say) if search else None
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(SERVE_FILES)), autoescape=True,
                                      trim_blocks=True, lstrip_blocks=True)
        self._watch_stop = threading.Event()
        self._watchers: list[threading.Thread] = []
        self._watched: tuple = ()

    # ---- output
    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def page(self, template: str, **context) -> bytes:
        context.setdefault("reload_src", f"{INTERNAL}reload.js?g={context.get('generation', 0)}")
        return self.env.get_template(template).render(root=str(self.root), **context).encode("utf-8")

    def script_tag(self, generation: int) -> bytes:
        return f'<script src="{INTERNAL}reload.js?g={generation}" defer></script>'.encode()

    # ---- config-derived settings
    def _settings(self) -> tuple[list[Path], list[Path], str]:
        """(folders watched recursively, single files watched, URL mount) from mkdocs.yml."""
        from disclosure.model.config import ConfigError, load_mkdocs_yml
        from disclosure.site.views import THEME_DIR

        folders, files, mount = [THEME_DIR], [self.config_file], "/"
        try:
            raw = load_mkdocs_yml(self.config_file)
        except ConfigError:
            raw = {}
        docs = self.root / str(raw.get("docs_dir") or "docs")
        folders.append(docs if docs.exists() else self.root / "content")
        theme = raw.get("theme") if isinstance(raw.get("theme"), dict) else {}
        self._theme_dirs = [THEME_DIR]
        if theme.get("custom_dir"):
            folders.append(self.root / str(theme["custom_dir"]))
            self._theme_dirs.append((self.root / str(theme["custom_dir"])).resolve())
        for extra in raw.get("watch") or []:
            folders.append(self.root / str(extra))
        site_url = str(raw.get("site_url") or "")
        mount = urllib.parse.urlsplit(site_url).path or "/"
        if not mount.endswith("/"):
            mount += "/"
        folders = sorted({p.resolve() for p in folders if p.exists()}, key=str)
        # a folder inside another watched one is covered already
        folders = [p for p in folders if not any(q != p and p.is_relative_to(q) for q in folders)]
        return folders, files, mount

    def _start_watching(self) -> None:
        folders, files, mount = self._settings()
        self.mount = mount
        if (folders, files) == self._watched:
            return
        self._stop_watching()
        self._watched = (folders, files)
        self._watch_stop = threading.Event()
        skip = [self.site_dir, self.root / ".cache"]
        targets = [(folders, True), ([f.parent for f in files], False)]
        for paths, recursive in targets:
            if not paths:
                continue
            only = {str(f) for f in files} if not recursive else None
            t = threading.Thread(target=self._watch, args=(paths, recursive, only, skip, self._watch_stop),
                                 name="portal-watch", daemon=True)
            t.start()
            self._watchers.append(t)

    def _stop_watching(self) -> None:
        self._watch_stop.set()
        for t in self._watchers:
            t.join(timeout=5)
        self._watchers = []

    def _watch(self, paths, recursive, only, skip, stop):
        import watchfiles

        filt = _Filter(skip)
        if only is not None:
            filt = (lambda base: (lambda change, path: path in only and base(change, path)))(filt)
        for changes in watchfiles.watch(*paths, watch_filter=filt, debounce=1600, step=60, stop_event=stop,
                                        recursive=recursive, raise_interrupt=False, ignore_permission_denied=True):
            with self.state.cond:
                self.pending |= {Path(p) for _, p in changes}
                self.state.cond.notify_all()

    # ---- building
    def build(self, changed: set[Path] | None) -> None:
        config_changed = changed is None or self.config_file in changed
        if config_changed:
            self._start_watching()  # settings, units, nav: a fresh builder (and maybe other folders)
        with self.state.cond:
            self.state.building = True
        started = time.perf_counter()
        saved = set(changed or ())
        reply = self.builder.build(changed, fresh=config_changed, on_ahead=self._ahead)
        ok, errors, findings = reply["ok"], reply["errors"], reply["findings"]
        written, message = reply["written"], reply["message"]
        seconds = time.perf_counter() - started
        if ok:
            self._since_ok = set()
        else:
            self._since_ok |= saved
        if not ok and not errors:
            errors = self._template_problems() or [self._config_problem() or message or "生成失败（原因见终端）"]
            message = ""
        problems = [problem(e, self.root) for e in errors]
        urls, assets = written_urls(written, self.site_dir, self.mount)
        with self.state.cond:
            self.state.ok, self.state.problems, self.state.stale = ok, problems, False
            self.state.finished(urls, assets)
            self.state.building = False
            self.state.cond.notify_all()
        self.report(ok, errors, findings, written, seconds, message)
        if ok and self.indexer is not None and reply.get("index_docs") and (
                self.indexer.runs == 0 or any(str(u).startswith("records/") for u in written)):
            self.indexer.request(Path(reply["index_docs"]))
        fresh = [m for m in reply.get("mkdocs", []) if m not in self._mkdocs_seen]
        for m in fresh:
            self.say("  MkDocs：" + m)
        self._mkdocs_seen |= set(fresh)

    def _ahead(self, reply: dict) -> None:
        """The edited records' own pages are written (the rest of the build is still running):
        the browser showing one of them reloads now."""
        urls, _ = written_urls(reply["written"], self.site_dir, self.mount)
        with self.state.cond:
            self.state.finished(urls, False)
            self.state.cond.notify_all()
        self.say(f"[{time.strftime('%H:%M:%S')}] 已先更新修改的记录及列出它的页面 {len(urls)} 个，用时 {reply['seconds']:.1f} 秒；"
                 "其余页面（导航页、订阅、相关链接）正在更新……")

    def _template_problems(self) -> list[str]:
        """Templates saved since the last good build that do not parse: named with file and line.

        (The engine reports a template error by its message only; parsing the saved files again
        finds the file and the line, as Jinja itself reports them.)"""
        env = jinja2.Environment()
        out = []
        saved = {p for p in self._since_ok if p.suffix == ".html"}
        themes = {p for d in self._theme_dirs if d.is_dir() for p in d.rglob("*.html")}
        for path in sorted(saved | themes):
            if not path.is_file():
                continue
            try:
                env.parse(path.read_text(encoding="utf-8"))
            except jinja2.TemplateSyntaxError as e:
                out.append(f"{path}:{e.lineno}: 模板语法错误：{e.message}（修改方法：检查这一行附近的 {{% %}} 和 {{{{ }}}} 是否成对、"
                           "if/for/block 是否都有对应的 endif/endfor/endblock）")
            except (OSError, UnicodeDecodeError):
                continue
        return out

    def _config_problem(self) -> str | None:
        """A build refused with no record finding: mkdocs.yml itself, in the portal's Chinese words."""
        from disclosure.model.config import ConfigError, load_config

        try:
            load_config(self.config_file)
        except ConfigError as e:
            return str(e)
        except Exception:
            return None
        return None

    def report(self, ok, errors, findings, written, seconds, message) -> None:
        stamp = time.strftime("%H:%M:%S")
        first = self.previous_findings is None
        keys = {finding_key(f) for f in findings}
        if not ok:
            self.say(f"[{stamp}] 生成失败，用时 {seconds:.1f} 秒；浏览器中的每个页面显示以下 {len(errors)} 个错误，修改后自动恢复：")
            for e in errors:
                self.say("  " + render_finding(e).replace("\n", "\n  "))
            if message and not any(hasattr(e, "render") for e in errors) and message not in errors:
                self.say("  " + message)
        else:
            self.say(f"[{stamp}] {'已生成' if first else '已更新'} {len(written)} 个页面，用时 {seconds:.1f} 秒。")
        if findings:
            if first:
                shown = [f for f in findings if getattr(f, "level", "") == "error" and f not in errors]
            else:
                shown = [f for f in findings if finding_key(f) not in self.previous_findings and f not in errors]
            for f in shown:
                self.say("  新问题：" + render_finding(f))
            rest = len(findings) - len(shown) - sum(1 for f in findings if f in errors)
            if rest > 0:
                levels = _count_levels([f for f in findings if f not in shown and f not in errors])
                same = "记录检查共有" if first else "另有"
                tail = "" if first else "与上次相同"
                self.say(f"  {same} {rest} 条警告或提示{tail}（{levels}；disclosure validate 查看全部）")
        if not first and findings:
            gone = len(self.previous_findings - keys)
            if gone:
                self.say(f"  已消除 {gone} 条上次的问题。")
        self.previous_findings = keys if (ok or findings) else self.previous_findings

    # ---- running
    def serve(self) -> int:
        os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
        if self.as_of:
            os.environ["DISCLOSURE_AS_OF"] = self.as_of.isoformat()
        self.builder = BuildProcess(self.config_file, self.site_dir, self.as_of, self.search)
        try:
            httpd = _Server((self.host, self.port), _Handler)
        except OSError as e:
            self.say(f"无法在 {self.host}:{self.port} 启动预览：{e.strerror or e}（端口可能已被占用，"
                     f"可用 --dev-addr 127.0.0.1:8001 换一个端口）")
            return 2
        httpd.preview = self
        web = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2}, name="portal-http", daemon=True)
        web.start()
        previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

        def stop(signum, frame):  # (this process never forks: builds run in BuildProcess)
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.site_dir.mkdir(parents=True, exist_ok=True)
        # An earlier session's pages are shown while the first build runs: a page that build rewrites
        # reloads when it is done; one it leaves alone was already current.
        self.state.stale = (self.site_dir / "index.html").is_file() or (self.site_dir / "404.html").is_file()
        self._settings_mount()
        shown_host = f"[{self.host}]" if ":" in self.host else self.host
        self.say(f"预览地址：http://{shown_host}:{httpd.server_address[1]}{self.mount} （正在生成，按 Ctrl+C 停止）")
        self.say(f"预览网站生成在 {_relative(self.site_dir, Path.cwd())}（不是 site/；发布请用 disclosure build / publish）")
        if self.state.stale:
            self.say("生成完成前先显示上次预览的页面，完成后自动刷新。")
        try:
            self.build(None)
            while True:
                with self.state.cond:
                    while not self.pending:
                        self.state.cond.wait(timeout=0.5)
                    changed, self.pending = self.pending, set()
                self.build(changed)
        except KeyboardInterrupt:
            pass
        finally:
            with self.state.cond:
                self.state.stopping = True
                self.state.cond.notify_all()
            self._stop_watching()
            if self.indexer is not None:
                self.indexer.stop()
            httpd.shutdown()
            httpd.server_close()
            self.builder.close()
            for s, h in previous.items():
                signal.signal(s, h)
            self.say("预览已停止。")
        return 0

    def _settings_mount(self) -> None:
        try:
            self.mount = self._settings()[2]
        except Exception:
            self.mount = "/"


def _count_levels(findings) -> str:
    from disclosure.model.findings import LEVEL_LABELS

    counts: dict[str, int] = {}
    for f in findings:
        label = LEVEL_LABELS.get(getattr(f, "level", ""), "其他")
        counts[label] = counts.get(label, 0) + 1
    return "，".join(f"{k} {v} 条" for k, v in counts.items())


def _exception_text(e: BaseException) -> str:
    text = str(e) or type(e).__name__
    return text


class _Captured(logging.Handler):
    """Collects MkDocs' own warnings during a build (not the portal's, whose findings we print)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[str] = []

    def emit(self, record):
        if not record.name.startswith("mkdocs.plugins.disclosure"):
            self.records.append(record.getMessage())


CAPTURED = _Captured()


def _quiet_mkdocs() -> None:
    """MkDocs logs every finding as a warning and each build's English summary; we print our own.

    A NullHandler on the root stops `build_site` and MkDocs from installing their console handlers
    (and Python's last-resort handler from printing); MkDocs' warnings are kept for the report."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.NullHandler())
    mk = logging.getLogger("mkdocs")
    mk.addHandler(CAPTURED)
    mk.propagate = False


def main(config: str | Path, addr: str, as_of: dt.date | None, search: bool) -> int:
    try:
        preview = Preview(config, addr, as_of=as_of, search=search)
    except ValueError as e:
        print(f"disclosure serve: 用法错误：{e}", file=sys.stderr)
        return 2
    return preview.serve()
