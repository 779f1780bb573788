"""Speed and memory of validation, site build, search index and feeds on synthetic corpora.

    .venv/bin/python benchmarks/run.py                  # everything: validate 10k/100k, build 1k/10k
    .venv/bin/python benchmarks/run.py validate 10000   # one part

Prints figures; asserts nothing (targets are in the README and the issues). Corpora are generated
once into benchmarks/out/ (git-ignored) by benchmarks/generate.py with a fixed seed.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from generate import generate, write_config  # noqa: E402
from memory import measure  # noqa: E402

PY = sys.executable
AS_OF = "2026-11-20"


def corpus(n: int) -> Path:
    site = HERE / "out" / f"site-{n}"
    marker = site / ".complete"
    if not marker.exists():
        t = time.perf_counter()
        generate(n, site, seed=1)
        marker.write_text(str(n))
        print(f"  (generated {n} records in {time.perf_counter() - t:.1f} s)")
    elif write_config(site):
        print(f"  (site-{n}/mkdocs.yml rewritten for this checkout: {ROOT})")
    return site


def env(**extra):
    e = dict(os.environ, NO_MKDOCS_2_WARNING="1", DISCLOSURE_AS_OF=AS_OF, SOURCE_DATE_EPOCH="1763596800")
    e.update(extra)
    return e


def bench_validate(n: int):
    site = corpus(n)
    run = measure([PY, "-m", "disclosure.cli", "validate", "--quiet", "--as-of", AS_OF], env=env(), cwd=site)
    checked = re.search(r"共检查 (\d+) 条", run.output)
    print(f"validate  {n:>7} records: {run.seconds:6.1f} s  {n / run.seconds:8.0f} records/s  "
          f"peak {run.peak_mb:7.0f} MB  (exit {run.returncode}, {checked.group(1) if checked else '?'} checked)")


def floor(site: Path, out: Path) -> float:
    """The same records with plain python-markdown and a trivial template, one process: the floor."""
    import markdown
    import yaml

    if out.exists():
        shutil.rmtree(out)
    template = ("<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{title}</title></head>"
                "<body><h1>{title}</h1>{body}</body></html>")
    start = time.perf_counter()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for path in sorted((site / "content" / "records").rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        head, body = text[4:].split("\n---\n", 1)
        fm = yaml.load(head, Loader=loader)
        html = markdown.markdown(body, extensions=["tables", "attr_list", "admonition", "toc"])
        dest = out / fm["index_no"].replace("/", "-") / "index.html"
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(template.format(title=fm["title"], body=html), encoding="utf-8")
    return time.perf_counter() - start


def bench_build(n: int):
    site = corpus(n)
    out = HERE / "out" / f"built-{n}"
    shutil.rmtree(out, ignore_errors=True)  # every timed build starts from an empty folder, as CI's does
    pages = measure([PY, "-m", "disclosure.cli", "build", "--site-dir", str(out)], env=env(DISCLOSURE_SEARCH="0"), cwd=site)
    assert pages.returncode == 0, pages.output[-3000:]
    html_pages = sum(1 for _ in out.rglob("*.html"))
    from disclosure.site.search import pagefind_executable

    index = measure([str(pagefind_executable()), "--site", str(out), "--force-language", "zh", "--quiet",
                     "--glob", "records/**/*.html"], env=env())
    shutil.rmtree(out, ignore_errors=True)
    whole = measure([PY, "-m", "disclosure.cli", "build", "--site-dir", str(out)], env=env(), cwd=site)
    assert whole.returncode == 0, whole.output[-3000:]
    floor_s = floor(site, HERE / "out" / f"floor-{n}")
    print(f"build     {n:>7} records: pages+feeds {pages.seconds:6.1f} s ({pages.seconds / n * 1000:5.2f} ms/record, "
          f"{html_pages} HTML pages, peak {pages.peak_mb:5.0f} MB)")
    print(f"          floor (python-markdown + trivial template, 1 process): {floor_s:6.1f} s "
          f"({floor_s / n * 1000:5.2f} ms/record) → build/floor = {pages.seconds / floor_s:4.2f}×")
    print(f"          search index (pagefind extended, zh): {index.seconds:6.1f} s, peak {index.peak_mb:5.0f} MB")
    print(f"          whole build (pages + feeds + search): {whole.seconds:6.1f} s, peak {whole.peak_mb:5.0f} MB")


def main(argv):
    parts = {"validate": (bench_validate, [10000, 100000]), "build": (bench_build, [1000, 10000])}
    if argv:
        fn, _ = parts[argv[0]]
        for n in (int(x) for x in argv[1:]) if len(argv) > 1 else parts[argv[0]][1]:
            fn(n)
        return
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    for fn, sizes in parts.values():
        for n in sizes:
            fn(n)


if __name__ == "__main__":
    main(sys.argv[1:])
