"""Profile one whole `disclosure build` (cProfile, CPU time, in the parent and in every render worker).

    .venv/bin/python benchmarks/profile_build.py 10000 [--no-search] [--top 30]

Writes benchmarks/out/profile-N/{parent,worker-PID}.prof and prints, for the parent and for one
worker: the top functions by own time, and the time grouped by where it is spent (Markdown,
Material's templates by file, nav partials, MkDocs' page machinery, file writes, feeds, validation,
search). The write-up is benchmarks/PROFILE.md.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from run import AS_OF, corpus  # noqa: E402

OUT: Path = HERE / "out"


def _profiled_chunk(original):
    state = {}

    def chunk(indices):
        prof = state.get("prof")
        if prof is None:
            prof = state["prof"] = cProfile.Profile(time.process_time)
        prof.enable()
        try:
            return original(indices)
        finally:
            prof.disable()
            prof.dump_stats(str(OUT / f"worker-{os.getpid()}.prof"))  # pool workers leave without atexit

    return chunk


GROUPS = [  # (label, predicate on (filename, function name)); first match wins
    ("nav partials (Material nav*.html)", lambda f, n: "partials/nav" in f),
    ("other Material/theme templates", lambda f, n: f.endswith(".html") or "jinja2" in f),
    ("Markdown conversion (python-markdown)", lambda f, n: "/markdown/" in f or "pymdownx" in f),
    ("MkDocs page/nav/url machinery", lambda f, n: "/mkdocs/" in f),
    ("YAML (validation + config)", lambda f, n: "/yaml/" in f),
    ("disclosure model + rules", lambda f, n: "/disclosure/model/" in f or "/disclosure/rules/" in f),
    ("disclosure site (planner, feeds, outputs)", lambda f, n: "/disclosure/site/" in f),
    ("feedgen + lxml", lambda f, n: "feedgen" in f or "lxml" in f),
    ("file writes / fs", lambda f, n: n in ("write_file", "<built-in method io.open>", "<method 'write' of '_io.BufferedWriter' objects>",
                                             "<built-in method posix.mkdir>", "<built-in method posix.stat>")),
    ("waiting on workers / pagefind", lambda f, n: "acquire" in n or "poll" in n or "wait" in n or "select" in n),
    ("regex", lambda f, n: "re.Pattern" in n or "/re/" in f or f.endswith("re.py")),
]


def grouped(stats: pstats.Stats) -> dict:
    out = defaultdict(float)
    for (filename, _line, name), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():
        label = next((lbl for lbl, pred in GROUPS if pred(filename, name)), "other (stdlib, builtins)")
        out[label] += tt
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def cumulative(stats: pstats.Stats, names: list[str]) -> dict:
    out = {}
    for (filename, _line, name), (_cc, nc, _tt, ct, _callers) in stats.stats.items():
        for want in names:
            if name == want.split(":")[-1] and want.split(":")[0] in filename:
                out[want] = (nc, ct)
    return out


KEY_FUNCTIONS = ["mkdocs/commands/build.py:_populate_page", "mkdocs/commands/build.py:_build_page",
                 "mkdocs/structure/pages.py:render", "mkdocs/commands/build.py:get_context",
                 "mkdocs/utils/__init__.py:write_file", "jinja2/environment.py:render",
                 "mkdocs/commands/build.py:_build_theme_template", "disclosure/model/corpus.py:load_corpus",
                 "disclosure/site/planner.py:plan_site", "disclosure/site/outputs.py:write_outputs",
                 "disclosure/site/feeds.py:write_feeds", "disclosure/site/mkdocs_glue.py:render_offloaded",
                 "disclosure/site/mkdocs_glue.py:add_to_sitemap", "disclosure/site/mkdocs_glue.py:write_staff_report",
                 "mkdocs/structure/files.py:copy_static_files", "mkdocs/structure/nav.py:get_navigation",
                 "mkdocs/structure/files.py:get_files", "disclosure/site/search.py:start_index"]


def report(label: str, path: Path, top: int) -> None:
    st = pstats.Stats(str(path))
    print(f"\n=== {label}: {path.name}, {st.total_tt:.1f} s profiled")
    for group, tt in grouped(st).items():
        print(f"  {tt:7.2f} s  {tt / st.total_tt * 100:5.1f}%  {group}")
    print("  key functions (calls, cumulative s):")
    for name, (nc, ct) in sorted(cumulative(st, KEY_FUNCTIONS).items(), key=lambda kv: -kv[1][1]):
        print(f"    {ct:7.2f} s  {nc:7d}×  {name}")
    print(f"  top {top} by own time:")
    st.sort_stats("tottime").print_stats(top)


def main(argv=None) -> None:
    global OUT
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int, nargs="?", default=10000)
    ap.add_argument("--no-search", action="store_true")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--report-only", action="store_true", help="print the saved profiles again")
    args = ap.parse_args(argv)
    OUT = HERE / "out" / f"profile-{args.n}"
    if not args.report_only:
        site = corpus(args.n)
        OUT.mkdir(parents=True, exist_ok=True)
        for old in OUT.glob("*.prof"):
            old.unlink()
        os.chdir(site)
        os.environ.update(NO_MKDOCS_2_WARNING="1", DISCLOSURE_AS_OF=AS_OF, SOURCE_DATE_EPOCH="1763596800",
                          DISCLOSURE_CACHE="0")
        if args.no_search:
            os.environ["DISCLOSURE_SEARCH"] = "0"
        from disclosure.site import mkdocs_glue
        from disclosure.site.build import build_site

        mkdocs_glue._render_chunk = _profiled_chunk(mkdocs_glue._render_chunk)
        out = HERE / "out" / f"built-profile-{args.n}"
        start = time.perf_counter()
        prof = cProfile.Profile(time.process_time)  # CPU time: the machine is shared
        prof.enable()
        rc = build_site("mkdocs.yml", site_dir=out)
        prof.disable()
        print(f"build exit {rc}, {time.perf_counter() - start:.1f} s wall (profiled)")
        prof.dump_stats(str(OUT / "parent.prof"))
    report("parent", OUT / "parent.prof", args.top)
    workers = sorted(OUT.glob("worker-*.prof"), key=lambda p: -p.stat().st_size)
    if workers:
        report("one render worker", workers[0], args.top)
        print(f"({len(workers)} worker profiles in {OUT})")


if __name__ == "__main__":
    main()
