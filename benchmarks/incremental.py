"""Incremental builds (issue 13): clean build, then rebuilds after one edit, one added record and a
setting every page shows, each as a `disclosure build` process (wall, CPU, peak RSS of the tree);
then the warm in-process path the preview server uses (engine.SiteBuilder.build() after an edit).

    .venv/bin/python benchmarks/incremental.py 10000                # corpus from benchmarks/generate.py
    .venv/bin/python benchmarks/incremental.py 10000 --site /tmp/c10k --no-search
    .venv/bin/python benchmarks/incremental.py 100000 --no-warm     # slow: minutes per build

Every edit is undone at the end. Prints figures; asserts nothing. Say how loaded the machine was
(the load average is printed before each part): the development machine has 2 shared cores.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from memory import measure  # noqa: E402
from run import AS_OF, PY, corpus, env  # noqa: E402


def load() -> str:
    try:
        return "load %.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        return "load ?"


def show(label, run, extra=""):
    status = "" if run.returncode == 0 else f"  EXIT {run.returncode}: {run.output[-600:]!r}"
    pages = re.search(r"目录外页面 (\d+) 个，生成 (\d+) 个、沿用未变的 (\d+) 个", run.output)
    counts = f"  (off-nav pages rendered {pages.group(2)}, reused {pages.group(3)})" if pages else ""
    print(f"  {label:34s} {run.seconds:7.1f} s wall {run.cpu_s:7.1f} s CPU  peak {run.peak_mb:7.0f} MB"
          f"{counts}{extra}{status}  [{load()}]", flush=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int, nargs="?", default=10000)
    ap.add_argument("--site", type=Path, help="an existing generated corpus folder (mkdocs.yml + content/)")
    ap.add_argument("--no-search", action="store_true", help="skip the Pagefind index (DISCLOSURE_SEARCH=0)")
    ap.add_argument("--no-warm", action="store_true", help="skip the in-process warm rebuilds")
    args = ap.parse_args(argv)
    site = args.site or corpus(args.n)
    extra = {"DISCLOSURE_SEARCH": "0"} if args.no_search else {}
    out = site / "site"
    records = sorted((site / "content" / "records").rglob("*.md"))
    edited, added = records[len(records) // 2], records[len(records) // 2].with_name("bench-added.md")
    config = site / "mkdocs.yml"
    saved = {edited: edited.read_bytes(), config: config.read_bytes()}
    cmd = [PY, "-m", "disclosure.cli", "build", "--site-dir", str(out)]
    print(f"{len(records)} records in {site}; search {'off' if args.no_search else 'on'}; {load()}", flush=True)
    try:
        shutil.rmtree(site / ".cache", ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
        show("clean build (--clean, empty)", measure(cmd + ["--clean"], env=env(**extra), cwd=site))
        show("rebuild, nothing changed", measure(cmd, env=env(**extra), cwd=site))
        text = saved[edited].decode()
        edited.write_text(re.sub(r"^title: (.*)$", r"title: \1（修订）", text, count=1, flags=re.M), encoding="utf-8")
        show("rebuild after editing one record", measure(cmd, env=env(**extra), cwd=site))
        t = re.sub(r"^index_no: (.*?)-(\d+)$", r"index_no: \1-99999", text, count=1, flags=re.M)
        t = re.sub(r"^doc_no: .*\n", "", t, flags=re.M)
        added.write_text(re.sub(r"^title: .*$", "title: 基准测试新增记录", t, count=1, flags=re.M), encoding="utf-8")
        show("rebuild after adding one record", measure(cmd, env=env(**extra), cwd=site))
        c = saved[config].decode()
        config.write_text(re.sub(r"^site_name: (.*)$", r"site_name: \1（测试）", c, count=1, flags=re.M), encoding="utf-8")
        show("rebuild after a setting (site_name)", measure(cmd, env=env(**extra), cwd=site))
        show("clean build (--clean, over a site)", measure(cmd + ["--clean"], env=env(**extra), cwd=site))
    finally:
        for path, data in saved.items():
            path.write_bytes(data)
        added.unlink(missing_ok=True)
    if args.no_warm:
        return
    print(f"warm, in one process (engine.SiteBuilder, as `disclosure serve` uses it; search off); {load()}", flush=True)
    script = f"""
import datetime as dt, logging, re, sys, time
from pathlib import Path
logging.basicConfig(level=logging.ERROR); logging.getLogger("mkdocs").setLevel(logging.ERROR)
from disclosure.site.engine import SiteBuilder
b = SiteBuilder("mkdocs.yml", {str(site / 'preview')!r}, as_of=dt.date.fromisoformat({AS_OF!r}), search=False)
def run(label):
    r = b.build()
    print(f"  {{label:34s}} {{r.seconds:7.1f}} s  ok={{r.ok}} rendered={{r.rendered}} reused={{r.reused}}", flush=True)
run("first build (cache for this folder)")
run("no change")
p = Path({str(edited)!r}); text = p.read_text(encoding="utf-8")
p.write_text(re.sub(r"^title: (.*)$", r"title: \\1（改）", text, count=1, flags=re.M), encoding="utf-8")
try:
    run("after editing one record's title")
    p.write_text(text + "\\n正文追加一段。\\n", encoding="utf-8")
    run("after editing one record's body")
finally:
    p.write_text(text, encoding="utf-8")
run("after undoing the edit")
"""
    proc = subprocess.run([PY, "-c", script], cwd=site, env=env(), capture_output=True, text=True)
    print(proc.stdout + (proc.stderr[-2000:] if proc.returncode else ""), flush=True)
    for path, data in saved.items():
        path.write_bytes(data)


if __name__ == "__main__":
    main()
