"""Search index figures: index time, peak memory (whole process tree), index size, and what a visitor downloads.

    .venv/bin/python benchmarks/search.py index 10000      # index only (IndexDocs from the model + Markdown bodies)
    .venv/bin/python benchmarks/search.py build 10000      # whole `disclosure build` (pages, feeds, sharded index)
    .venv/bin/python benchmarks/search.py download 10000   # cold first query and a second query, bytes in Chromium
    .venv/bin/python benchmarks/search.py download 10000 1000,2000,4000   # the same, the index re-merged at each CHUNK_LOCS

Prints figures, asserts nothing. Corpora come from benchmarks/generate.py (seed 1) into benchmarks/out/.
"""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import http.server
import json
import os
import shutil
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from run import corpus  # noqa: E402  (the same seeded corpus as the other benchmarks)
from memory import measure  # noqa: E402

PY = sys.executable
AS_OF = "2026-11-20"


def du(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files), len(files)


def index(n: int) -> None:
    import markdown

    from disclosure.model.corpus import load
    from disclosure.site.planner import plan_site
    from disclosure.site.search import docs_from_plan, html_to_text

    src = corpus(n)
    t = time.perf_counter()
    c = load(src / "mkdocs.yml", dt.date.fromisoformat(AS_OF))
    plan = plan_site(c)
    md = markdown.Markdown(extensions=["tables"])
    bodies = {f"records/{r.slug}.md": html_to_text(md.reset().convert(r.body)) for r in c.live}
    docs = docs_from_plan(plan, bodies)
    print(f"{n} records: IndexDocs in {time.perf_counter() - t:.1f} s (validation, plan and Markdown bodies)")
    work = HERE / "out" / f"search-{n}"
    shutil.rmtree(work, ignore_errors=True)
    (work / "site").mkdir(parents=True)
    docs_file = work / "docs.jsonl"
    with docs_file.open("w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps(asdict(d), ensure_ascii=False) + "\n")
    jobs = os.environ.get("JOBS", "2")
    cache = work / "cache"
    cmd = [PY, "-m", "disclosure.site.search", str(docs_file), str(work / "site"), "--jobs", jobs, "--cache-dir", str(cache)]
    run = measure(cmd, cwd=ROOT)
    if run.returncode:
        print(run.output)
        raise SystemExit(1)
    size, files = du(work / "site" / "pagefind")
    info = json.loads((work / "site" / "pagefind" / "shards.json").read_text())
    print(f"  index: {run.seconds:6.1f} s, peak {run.peak_mb:6.0f} MB (process tree, jobs={jobs}), "
          f"{size / 1e6:6.1f} MB in {files} files, {len(info['shards'])} shards of {min(info['records'])}–{max(info['records'])}")
    docs[0].body += " 编辑后的正文。"
    with docs_file.open("w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps(asdict(d), ensure_ascii=False) + "\n")
    run = measure(cmd, cwd=ROOT)
    print(f"  after editing one record, with the shard cache: {run.seconds:6.1f} s, peak {run.peak_mb:6.0f} MB "
          f"({run.output.strip().splitlines()[-1] if run.output.strip() else ''})")


def build(n: int) -> None:
    src = corpus(n)
    out = HERE / "out" / f"build-{n}"
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(HERE / "out" / f"build-{n}-cache", ignore_errors=True)
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", DISCLOSURE_AS_OF=AS_OF, SOURCE_DATE_EPOCH="1763596800",
               DISCLOSURE_CACHE_DIR=str(HERE / "out" / f"build-{n}-cache"))  # keeps the prepared shards for `download`
    run = measure([PY, "-m", "disclosure.cli", "--config", str(src / "mkdocs.yml"), "build", "--site-dir", str(out)],
                  env=env, cwd=src)
    if run.returncode:
        print(run.output[-3000:])
        raise SystemExit(1)
    size, files = du(out / "pagefind")
    print(f"{n} records: whole build {run.seconds:6.1f} s, peak {run.peak_mb:6.0f} MB (process tree); "
          f"index {size / 1e6:.1f} MB in {files} files")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".wasm": "application/wasm"}

    def log_message(self, *args):
        pass


def remerge(site: Path, chunk_locs: int) -> None:
    """Merge the build's prepared shards (kept in its cache) again, with another CHUNK_LOCS."""
    from disclosure.site import pagefind_bundle

    root = site / "pagefind"
    info = (root / "shards.json").read_bytes()
    cache = HERE / "out" / f"{site.name}-cache" / "search"
    shards = [cache / f"shard-{d}" for d in json.loads(info)["digests"]]
    shutil.rmtree(root)
    t = time.perf_counter()
    merged = pagefind_bundle.merge_bundles(shards, root, chunk_locs=chunk_locs)
    (root / "shards.json").write_bytes(info)
    print(f"CHUNK_LOCS={chunk_locs}: merged {len(shards)} shards in {time.perf_counter() - t:.1f} s, {merged['chunks']} index chunks")


def download(n: int, chunk_values=None) -> None:
    site = HERE / "out" / f"build-{n}"
    if not (site / "pagefind").is_dir():
        build(n)
    for v in chunk_values or [None]:
        if v is not None:
            remerge(site, v)
        measure_download(site)


# the second query is a full title pasted as visitors do; it is a record of the seed-1 corpus (benchmarks/generate.py)
def measure_download(site: Path, queries=("食品安全监督抽检", "青岚县教育局2024年就业创业扶持工作实施方案")) -> None:
    from playwright.sync_api import sync_playwright

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                    args=["--no-sandbox", "--headless", "--disable-gpu"])
        page = browser.new_page()
        got: list = []

        def on_response(resp):
            try:
                body = resp.body()
            except Exception:
                return
            url = resp.url
            text = url.endswith((".js", ".json", ".css", ".html", "/")) or "text" in (resp.headers.get("content-type") or "")
            got.append((url, len(body), len(gzip.compress(body, 6)) if text else len(body)))

        page.on("response", on_response)

        def wait():
            page.wait_for_function("() => /找到|没有/.test(document.getElementById('search-status').textContent)", timeout=60000)

        def report(label, rows):
            search = [r for r in rows if "/pagefind/" in r[0] or "portal-search" in r[0] or "portal-analysis" in r[0]
                      or "portal-t2s" in r[0]]
            kinds: dict = {}
            for u, raw, gz in rows:
                k = ("index chunks" if u.endswith(".pf_index") else "fragments" if u.endswith(".pf_fragment")
                     else "filters" if u.endswith(".pf_filter") else "pf_meta" if u.endswith(".pf_meta")
                     else "wasm" if ".pagefind" in u and "wasm" in u else "pagefind.js/worker" if "pagefind" in u and u.endswith(".js")
                     else "our search js/data" if "portal-" in u else "page and theme")
                n, b = kinds.get(k, (0, 0))
                kinds[k] = (n + 1, b + gz)
            detail = ", ".join(f"{k} {b / 1024:.1f} KB/{n}" for k, (n, b) in sorted(kinds.items(), key=lambda kv: -kv[1][1]))
            print(f"  {label}: {len(rows)} requests, {sum(r[1] for r in rows) / 1024:6.1f} KB as served here "
                  f"({sum(r[2] for r in rows) / 1024:6.1f} KB with gzip for text); search files alone "
                  f"{sum(r[2] for r in search) / 1024:6.1f} KB gzip in {len(search)} requests\n    ({detail})")

        page.goto(base + "search/?q=" + queries[0])
        wait()
        page.wait_for_timeout(1500)  # responses still being read
        report(f"cold first query {queries[0]!r} (page, theme and index)", got)
        status = page.inner_text("#search-status")
        got.clear()
        page.fill("#q", queries[1])
        t = time.perf_counter()
        page.press("#q", "Enter")
        page.wait_for_function(f"() => document.getElementById('search-status').textContent !== {json.dumps(status)}"
                               " && /找到|没有/.test(document.getElementById('search-status').textContent)",
                               polling=10, timeout=60000)
        took = time.perf_counter() - t
        page.wait_for_timeout(1500)
        report(f"second query {queries[1]!r} (Enter → results {took * 1000:.0f} ms, chunks served from this machine)", got)
        # both queries again, alternately: every file is in the browser's memory now, so this is the search's own time
        times = []
        for q in (queries[0], queries[1]) * 3:
            before = page.inner_text("#search-status")
            page.fill("#q", q)
            t = time.perf_counter()
            page.press("#q", "Enter")
            page.wait_for_function(f"() => document.getElementById('search-status').textContent !== {json.dumps(before)}"
                                   " && /找到|没有/.test(document.getElementById('search-status').textContent)",
                                   polling=10, timeout=60000)
            times.append(time.perf_counter() - t)
        print(f"  both queries again, files loaded: Enter → results {min(times) * 1000:.0f}–{max(times) * 1000:.0f} ms "
              f"(6 searches, on the page's thread)")
        print("  " + page.inner_text("#search-status"))
        browser.close()
    httpd.shutdown()


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "index"
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    if what == "download" and len(sys.argv) > 3:
        download(count, [int(v) for v in sys.argv[3].split(",")])
    else:
        {"index": index, "build": build, "download": download}[what](count)
