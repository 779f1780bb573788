"""Preview latency (issue 12): time to the first page, and from saving a record to seeing it in the page.

    .venv/bin/python benchmarks/serve.py                       # 3,000 and 10,000 (mkdocs serve: 3,000 only)
    .venv/bin/python benchmarks/serve.py 3000 --server mkdocs --edits 5

For each server — `mkdocs serve` (the old way) and `disclosure serve --dev-addr` — on each generated
corpus (records only: benchmarks/generate.py writes no hand-written pages, so there is no home page):
- first page: from starting the server to 信息目录 (`catalogue/`, a nav page) answering 200, and to
  one record's page (`disclosure serve` serves each page as soon as its first build wrote it, 503
  「正在生成预览」 before);
- one edit, N times (default 5): replace one record's `summary` with a unique sentence (as staff
  correct a record), then poll that record's page every 0.1 s until the sentence appears, and
  `catalogue.json` (written last, by the whole build) every 0.5 s until it holds the sentence too;
  print each latency and the medians (for `disclosure serve` also the rebuild time it printed).
The record's bytes are put back afterwards; the server is stopped by its own process group.
Targets (issue 12): first page ≤ 15 s, one edit visible ≤ 2 s at 10,000 records. Figures only.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from run import AS_OF, PY, corpus, env  # noqa: E402
from scale import load, sample_record  # noqa: E402

from disclosure.model.records import slug_for  # noqa: E402


EXTRA: list[str] = []  # more `disclosure serve` options (--no-search)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.read().decode("utf-8", "replace") if r.status == 200 else None
    except (urllib.error.URLError, OSError, TimeoutError):
        return None


def wait_for(url: str, needle: str | None, timeout: float, start: float | None = None,
             every: float = 0.1) -> float | None:
    start = time.perf_counter() if start is None else start
    while time.perf_counter() - start < timeout:
        body = fetch(url)
        if body is not None and (needle is None or needle in body):
            return time.perf_counter() - start
        time.sleep(every)
    return None


def command(server: str, addr: str) -> list[str] | None:
    if server == "mkdocs":
        return [PY, "-m", "mkdocs", "serve", "-a", addr]
    probe = subprocess.run([PY, "-m", "disclosure.cli", "serve", "--help"], capture_output=True, env=env())
    if probe.returncode != 0:
        return None
    return [PY, "-m", "disclosure.cli", "serve", "--dev-addr", addr, "--as-of", AS_OF, *EXTRA]


def list_page(site: Path, slug: str) -> str | None:
    """A page of the record's year list (catalogue/year/…) that links it, from the preview folder."""
    for page in sorted((site / "catalogue" / "year").glob("*/**/index.html")):
        if f"records/{slug}/" in page.read_text(encoding="utf-8"):
            return page.parent.relative_to(site).as_posix() + "/"
    return None


def fmt(t: float | None) -> str:
    return "timeout" if t is None else f"{t:.1f} s"


def measure_server(server: str, n: int, edits: int, timeout: float, pause: float) -> None:
    site = corpus(n)
    if command(server, "127.0.0.1:1") is None:
        print(f"  {server} serve, {n} records: not available")
        return
    if server == "disclosure":
        shutil.rmtree(site / ".cache", ignore_errors=True)  # cold: no validation cache, no page cache, no preview folder
        run_server(server, site, n, edits, timeout, pause, "cold start (no .cache/)")
        run_server(server, site, n, 0, timeout, pause, "warm restart (.cache/ from the run above)")
    else:
        run_server(server, site, n, edits, timeout, pause, "start")


def run_server(server: str, site: Path, n: int, edits: int, timeout: float, pause: float, label: str) -> None:
    addr = f"127.0.0.1:{free_port()}"
    cmd = command(server, addr)
    rec = sample_record(site)
    original = rec.read_bytes()
    text = original.decode("utf-8")
    index_no = next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("index_no:"))
    page = f"http://{addr}/records/{slug_for(index_no)}/"
    log_path = HERE / "out" / f"serve-{server}-{n}.log"
    log = open(log_path, "w")
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=site, env=env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        # the generated corpus has no hand-written pages (no home page): the first page is 信息目录
        # (catalogue/, a nav page, what staff open from the header), then one record's page
        to_catalogue = wait_for(f"http://{addr}/catalogue/", None, timeout, start, every=0.2)
        to_record = wait_for(page, None, timeout, start, every=0.2)
        # catalogue.json is written last: the whole first build is done (edits before it wait for it)
        to_all = wait_for(f"http://{addr}/catalogue.json", None, timeout, start, every=0.5) if to_record else None
        print(f"  {server} serve, {n} records, {label}: first page (信息目录) after {fmt(to_catalogue)}, "
              f"a record's page after {fmt(to_record)}, every page after {fmt(to_all)} ({load()})", flush=True)
        listing = list_page(site / ".cache" / "serve-site", slug_for(index_no)) if server == "disclosure" else None
        list_url = f"http://{addr}/{listing}" if listing else None
        latencies, whole, lists = [], [], []
        for i in range(edits if to_record is not None else 0):
            time.sleep(pause)  # staff do not save twice a second; lets the previous rebuild (and index) settle
            token = f"基准测试第{i + 1}次修改{time.time_ns() % 100000}"
            rec.write_text(re.sub(r"^summary: .*$", f"summary: {token}。", text, count=1, flags=re.M), encoding="utf-8")
            saved = time.perf_counter()
            t = wait_for(page, token, timeout, saved)
            latencies.append(t)
            t_list = wait_for(list_url, token, timeout, saved) if t and list_url else None
            lists.append(t_list)
            # catalogue.json is written at the end of the whole build: every list, feed and link is current
            t_all = wait_for(f"http://{addr}/catalogue.json", token, timeout, saved, every=0.5) if t else None
            whole.append(t_all)
            print(f"    edit {i + 1}: its page after {fmt(t)}, a list showing it ({listing}) after {fmt(t_list)}, "
                  f"every page (catalogue.json) after {fmt(t_all)} ({load()})", flush=True)
        done = [t for t in latencies if t is not None]
        if server == "disclosure":
            time.sleep(1)
            log.flush()
            own = re.findall(r"已(?:生成|更新) (\d+) 个页面，用时 ([\d.]+) 秒", log_path.read_text(encoding="utf-8"))
            if own:
                print(f"    as the server printed: first build {own[0][1]} s ({own[0][0]} pages written)"
                      + ("; rebuilds " + ", ".join(f"{s} s ({w} pages)" for w, s in own[1:]) if own[1:] else ""),
                      flush=True)
        if done:
            print(f"  {server} serve, {n} records: one edit visible, median of {len(done)}: "
                  f"{statistics.median(done):.1f} s (targets: ≤ 2 s at 10,000; first page ≤ 15 s)", flush=True)
        if [t for t in lists if t is not None]:
            print(f"  {server} serve, {n} records: a list showing the record current, median: "
                  f"{statistics.median([t for t in lists if t is not None]):.1f} s", flush=True)
        if [t for t in whole if t is not None]:
            print(f"  {server} serve, {n} records: every page current (lists, feeds), median: "
                  f"{statistics.median([t for t in whole if t is not None]):.1f} s", flush=True)
    finally:
        rec.write_bytes(original)
        try:
            os.killpg(proc.pid, signal.SIGTERM)  # the server we started, and its children
            proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int, nargs="*", default=[3000, 10000])
    ap.add_argument("--server", choices=["mkdocs", "disclosure", "both"], default="both")
    ap.add_argument("--edits", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--pause", type=float, default=5, help="seconds between one edit showing and the next save")
    ap.add_argument("--no-search", action="store_true", help="disclosure serve --no-search (no background index)")
    args = ap.parse_args(argv)
    if args.no_search:
        EXTRA.append("--no-search")
    servers = ["disclosure", "mkdocs"] if args.server == "both" else [args.server]
    print(f"machine: {os.cpu_count()} cores; load %.2f %.2f %.2f" % os.getloadavg())
    for n in args.n:
        for server in servers:
            if server == "mkdocs" and args.server == "both" and n > 3000:
                print(f"  mkdocs serve, {n} records: skipped (minutes per edit; run with --server mkdocs to measure)")
                continue
            measure_server(server, n, args.edits, args.timeout, args.pause)


if __name__ == "__main__":
    main()
