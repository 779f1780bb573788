"""Issue 13's figures: clean and incremental builds, validate cold and warm, and the plain-Material baseline.

    .venv/bin/python benchmarks/scale.py 10000                 # everything at 10,000 records (~6 min today)
    .venv/bin/python benchmarks/scale.py 100000 --no-plain     # 100,000 (~30 min and ~11 GB today)
    .venv/bin/python benchmarks/scale.py 10000 --only validate,clean --pairs 3

Parts (`--only`, comma-separated):
- validate: `disclosure validate` with the cache off, cold with `--clean` (parse + write the cache),
  warm on the same date, and warm on another date (date-dependent rules run again).
- clean: `disclosure build` into an empty folder, cache emptied first (wall, CPU, peak RSS of the tree).
- rebuild: a clean build (cache emptied first), then a build with nothing changed, after editing
  one record, after adding one, and after changing a setting every page shows (`site_name`); each
  edit is undone afterwards (no build follows the last undo: it would re-render every page again).
- plain: the same records built as plain MkDocs + Material (records in the docs folder, out of the
  nav, no hooks, no plugins) followed by Pagefind extended over the output, paired run by run with
  our clean build (ours, plain, ours, plain …), each pair's ratio and the median.

Prints figures and asserts nothing. The machine is whatever it is: say how loaded it was (the
script prints the load average before each part). Corpora come from benchmarks/generate.py (seed 1).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from memory import Run, measure  # noqa: E402
from run import AS_OF, PY, corpus, env  # noqa: E402

OTHER_DAY = "2027-03-01"


def load() -> str:
    try:
        return "load %.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        return "load ?"


def show(label: str, run: Run, n: int | None = None) -> None:
    extra = f"  {run.seconds / n * 1000:6.2f} ms/record" if n else ""
    status = "" if run.returncode == 0 else f"  EXIT {run.returncode}: {run.output[-400:]!r}"
    print(f"  {label:44s} {run.seconds:7.1f} s wall {run.cpu_s:7.1f} s CPU  peak {run.peak_mb:7.0f} MB RSS"
          f" {run.pss_mb:7.0f} MB PSS{extra}{status}", flush=True)
    if os.environ.get("MEMORY_DETAIL"):
        print(f"    at the PSS peak: {run.pss_detail}", flush=True)


def disclosure(site: Path, *args, **extra_env) -> Run:
    return measure([PY, "-m", "disclosure.cli", *args], env=env(**extra_env), cwd=site)


def build(site: Path, out: Path, *extra) -> Run:
    return disclosure(site, "build", "--site-dir", str(out), *extra)


def drop_cache(site: Path) -> None:
    shutil.rmtree(site / ".cache", ignore_errors=True)


# --- parts -----------------------------------------------------------------------------------------

def part_validate(site: Path, n: int) -> None:
    print(f"validate, {n} records ({load()})")
    drop_cache(site)
    q = ("validate", "--quiet", "--as-of", AS_OF)
    show("cache off (DISCLOSURE_CACHE=0)", disclosure(site, *q, DISCLOSURE_CACHE="0"), None)
    show("cold --clean (parse, check, write cache)", disclosure(site, *q, "--clean"), None)
    show("warm, same date", disclosure(site, *q), None)
    show("warm, same date (again)", disclosure(site, *q), None)
    show(f"warm, another date ({OTHER_DAY}: rules rerun)", disclosure(site, "validate", "--quiet", "--as-of", OTHER_DAY), None)
    size = sum(f.stat().st_size for f in (site / ".cache").rglob("*") if f.is_file())
    print(f"  cache size {size / 1e6:.0f} MB")


def part_clean(site: Path, n: int) -> Run:
    print(f"clean build, {n} records ({load()})")
    out = HERE / "out" / f"built-{n}"
    shutil.rmtree(out, ignore_errors=True)
    drop_cache(site)
    run = build(site, out)
    show("clean build (pages, feeds, search, report)", run, n)
    return run


class Edit:
    """Change a file for one measurement and put its bytes back afterwards."""

    def __init__(self, path: Path, new_text: str | None):
        self.path, self.new_text = path, new_text
        self.old = path.read_bytes() if path.exists() else None

    def __enter__(self):
        if self.new_text is None:
            return self
        self.path.write_text(self.new_text, encoding="utf-8")
        return self

    def __exit__(self, *exc):
        if self.old is None:
            self.path.unlink(missing_ok=True)
        else:
            self.path.write_bytes(self.old)


def sample_record(site: Path) -> Path:
    for p in sorted((site / "content" / "records").rglob("*.md")):
        text = p.read_text(encoding="utf-8")
        if "type: disclosure" in text and "attachments" not in text:
            return p
    raise SystemExit("no plain disclosure record in the corpus")


def part_rebuild(site: Path, n: int) -> None:
    print(f"rebuilds, {n} records ({load()})")
    out = HERE / "out" / f"built-{n}"
    shutil.rmtree(out, ignore_errors=True)
    drop_cache(site)
    show("clean build (the starting point)", build(site, out), n)
    show("no change at all", build(site, out), n)
    rec = sample_record(site)
    text = rec.read_text(encoding="utf-8")
    edited = text.rstrip("\n") + "\n\n本条记录已于基准测试中修改。\n"
    with Edit(rec, edited):
        show("after editing one record's body", build(site, out), n)
    index_line = next(line for line in text.splitlines() if line.startswith("index_no:"))
    added = text.replace(index_line, index_line.rsplit("-", 1)[0] + "-99999")
    added = added.replace("title: ", "title: 新增", 1)
    with Edit(rec.with_name("99999.md"), added):
        show("after adding one record", build(site, out), n)
    config = site / "mkdocs.yml"
    cfg_text = config.read_text(encoding="utf-8")
    with Edit(config, cfg_text.replace("site_name: 基准测试站点", "site_name: 基准测试站点（改名）", 1)):
        show("after changing site_name (every page)", build(site, out), n)


PLAIN_CONFIG = """site_name: 基准测试站点
site_url: https://www.qinglan.gov.cn/
docs_dir: docs
site_dir: {site_dir}
theme:
  name: material
  language: zh
nav:
  - 首页: index.md
not_in_nav: |
  /records/
markdown_extensions:
  - tables
  - attr_list
  - admonition
  - toc
"""


def plain_site(site: Path, n: int) -> Path:
    """Plain MkDocs + Material over the same record files: what a user would pick instead."""
    plain = HERE / "out" / f"plain-{n}"
    docs = plain / "docs"
    if not (docs / "records").exists():
        docs.mkdir(parents=True, exist_ok=True)
        (docs / "index.md").write_text("# 基准测试站点\n\n政府信息公开。\n", encoding="utf-8")
        os.symlink(site / "content" / "records", docs / "records")  # MkDocs walks symlinked folders
    (plain / "mkdocs.yml").write_text(PLAIN_CONFIG.format(site_dir=plain / "site"), encoding="utf-8")
    return plain


def build_plain(plain: Path) -> Run:
    """mkdocs build, then pagefind over the whole output, as one measured shell command."""
    from disclosure.site.search import pagefind_executable

    out = plain / "site"
    shutil.rmtree(out, ignore_errors=True)
    script = (f"set -e; {PY} -m mkdocs build -q -f {plain / 'mkdocs.yml'}; "
              f"{pagefind_executable()} --site {out} --quiet")
    return measure(["sh", "-c", script], env=env(), cwd=plain)


def part_plain(site: Path, n: int, pairs: int) -> None:
    print(f"paired: this project vs plain MkDocs + Material + Pagefind extended, {n} records ({load()})")
    plain = plain_site(site, n)
    out = HERE / "out" / f"built-{n}"
    walls, cpus, mems = [], [], []
    for i in range(pairs):
        shutil.rmtree(out, ignore_errors=True)
        drop_cache(site)
        ours = build(site, out)
        show(f"pair {i + 1}: this project (clean)", ours, n)
        theirs = build_plain(plain)
        show(f"pair {i + 1}: plain Material + Pagefind", theirs, n)
        if ours.returncode or theirs.returncode:
            continue
        walls.append(ours.seconds / theirs.seconds)
        cpus.append(ours.cpu_s / theirs.cpu_s)
        mems.append(ours.peak_mb / theirs.peak_mb)
        print(f"  pair {i + 1}: ratio {walls[-1]:.2f}× wall, {cpus[-1]:.2f}× CPU, {mems[-1]:.2f}× peak memory")
    if walls:
        print(f"  median of {len(walls)} pairs: {statistics.median(walls):.2f}× wall, "
              f"{statistics.median(cpus):.2f}× CPU, {statistics.median(mems):.2f}× peak (target ≤ 0.60× wall)")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int, nargs="*", default=[10000])
    ap.add_argument("--only", default="validate,clean,rebuild,plain")
    ap.add_argument("--pairs", type=int, default=2)
    ap.add_argument("--no-plain", action="store_true")
    args = ap.parse_args(argv)
    parts = args.only.split(",")
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; {load()}; "
          f"started {time.strftime('%H:%M:%S')}")
    for n in args.n:
        site = corpus(n)
        if "validate" in parts:
            part_validate(site, n)
        if "clean" in parts and "rebuild" not in parts:
            part_clean(site, n)
        if "rebuild" in parts:
            part_rebuild(site, n)
        if "plain" in parts and not args.no_plain:
            part_plain(site, n, args.pairs)


if __name__ == "__main__":
    main()
