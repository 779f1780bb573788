"""The site build as an object that stays warm between builds: `disclosure build` and `disclosure serve` use it.

Interface (kept stable for the preview server):

    from disclosure.site.engine import SiteBuilder, BuildResult

    builder = SiteBuilder("mkdocs.yml", site_dir="/tmp/preview", as_of=None, search=False)
    result = builder.build()                 # first build: everything
    result = builder.build(changed={path})   # later builds: only what changed is rendered again
    result.ok, result.errors, result.findings, result.written, result.seconds, result.message
    ahead = builder.render_ahead({path})     # the preview: an edited record's pages first, then build()

- `SiteBuilder(config_file, site_dir=None, *, as_of=None, search=True, clean=False, jobs=None)`:
  `site_dir` overrides the config's; `as_of` is the build date (default: DISCLOSURE_AS_OF, else
  today in Asia/Shanghai, re-read on every build); `search=False` skips the Pagefind index (the
  search page then finds nothing); `clean=True` ignores the caches (validation and pages) on every
  build and writes them anew; `jobs` caps the worker processes (default: all cores); `atomic=True`
  (keyword) writes every page beside and renames it over, even into an empty folder (the preview
  serves pages while its first build writes them); `bodies=True` (keyword) captures each record
  page's body text even with `search=False` (`BuildResult.bodies`: the preview indexes them itself);
  `wanted` (keyword): a callable returning the site-relative URLs a reader is waiting for, polled
  while pages render; those pages are rendered first (the preview's first build).
- `build(changed=None) -> BuildResult`: builds into `site_dir` IN PLACE (the caller wanting an
  atomic swap builds into a fresh folder, as `disclosure.site.build.build_site` does). `changed`
  is a hint only (the paths the caller saw change); correctness never depends on it: every
  source is checked (by stat signature and bytes, see disclosure/model/cache.py and
  disclosure/site/pagecache.py). A build refused by validation returns ok=False before writing
  anything; one that fails later may have rewritten some pages (stale files are deleted only
  after a successful build). Each page is replaced by rename, so a reader never sees half a page.
- `previous=`/`cache_site=` (keyword, for `disclosure build`): build into a new, empty `site_dir`,
  hard-linking unchanged pages and feeds from `previous` (the last good site), with the page
  cache of the folder the result will be moved to (`cache_site`).
- `BuildResult`: `ok`; `errors` (blocking `Finding`s: the build was refused), `findings` (all
  findings of the validation, warnings and infos included), `written` (site-relative URLs of the
  pages written this time, e.g. "records/x/" or "" for the home page), `seconds` (wall time),
  `message` (a Chinese summary, or the reason the build was refused).

Warm state kept between builds: the validation cache in memory and on disk, the page cache's
index, and the MkDocs hook instance (MkDocs loads a hook module once per process).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("mkdocs.plugins.disclosure")


@contextlib.contextmanager
def _environ(**values):
    """Set these environment variables (None: leave it as it is) for the block, then restore them."""
    saved = {k: os.environ.get(k) for k, v in values.items() if v is not None}
    os.environ.update({k: v for k, v in values.items() if v is not None})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@dataclass
class BuildResult:
    ok: bool
    errors: list = field(default_factory=list)  # Finding objects (blocking)
    findings: list = field(default_factory=list)  # all findings
    written: list = field(default_factory=list)  # site-relative URLs of pages (re)written this time
    seconds: float = 0.0
    message: str = ""  # Chinese summary, or the abort message
    rendered: int = 0  # off-nav pages rendered this time (the rest came from the page cache)
    reused: int = 0  # off-nav pages kept from the previous build (unchanged key and file)
    bodies: dict | None = None  # record page src_uri → body text as indexed (search or bodies=True)
    first: int = 0  # pages rendered before their turn because `wanted` named them


class SiteBuilder:
    def __init__(self, config_file: str | Path = "mkdocs.yml", site_dir: str | Path | None = None, *,
                 as_of: dt.date | None = None, search: bool = True, clean: bool = False, jobs: int | None = None,
                 previous: str | Path | None = None, cache_site: str | Path | None = None, atomic: bool = False,
                 bodies: bool = False, wanted=None):
        self.config_file = Path(config_file)
        self.site_dir = Path(site_dir) if site_dir is not None else None
        self.as_of = as_of
        self.search = search
        self.clean = clean
        self.jobs = jobs
        self.bodies = bodies  # capture each record page's body text even without search (BuildResult.bodies)
        self.atomic = atomic  # pages written beside and renamed, even into an empty folder (a server reads it meanwhile)
        self.previous = previous  # build aside: the folder holding the last build (its unchanged pages are linked)
        self.cache_site = cache_site  # build aside: the folder the output will be moved to
        self.wanted = wanted  # callable → URLs asked for meanwhile (mkdocs_glue.run_build)
        self.builds = 0
        self.plan = None
        self._portal = None  # (hook instance, its build id) of the last good build (render_ahead)

    def render_ahead(self, changed) -> dict[str, bytes]:
        """After the last build succeeded, the pages of the records in `changed` (and the list
        pages showing their rows, when the edit kept their place), written in place:
        {site-relative URL: bytes}; {} when the change needs the whole build first (see
        mkdocs_glue.Portal.render_ahead). The caller still runs build(changed) next, which
        rewrites everything the edit touched; this only shows the edited record sooner."""
        if self._portal is None or not changed or self._portal[0].build_id != self._portal[1]:
            return {}
        try:
            with _environ(NO_MKDOCS_2_WARNING="1"):
                return self._portal[0].render_ahead(changed, self.as_of)
        except Exception as e:  # never fatal: the whole build follows and reports it
            log.info(f"render_ahead: {type(e).__name__}: {e}")
            return {}

    def build(self, changed: set[Path] | None = None) -> BuildResult:
        from disclosure.site import mkdocs_glue

        started = time.perf_counter()
        with _environ(NO_MKDOCS_2_WARNING="1", DISCLOSURE_SEARCH=None if self.search else "0",
                      DISCLOSURE_BODIES="1" if self.bodies else None):
            outcome = mkdocs_glue.run_build(self.config_file, self.site_dir, as_of=self.as_of, jobs=self.jobs,
                                            clean=self.clean, previous=self.previous, cache_site=self.cache_site,
                                            atomic=self.atomic, wanted=self.wanted)
        self.builds += 1
        seconds = time.perf_counter() - started
        corpus = outcome.corpus
        self.plan = outcome.plan if not outcome.error else None  # the last good build's page data (serve's index)
        # the hook instance and its build: MkDocs loads a hook module once per process, so another
        # builder's later build replaces that state (render_ahead then declines)
        self._portal = (outcome.portal, outcome.portal.build_id) if outcome.portal and not outcome.error else None
        findings = list(corpus.findings) if corpus is not None else []
        errors = list(corpus.errors) if corpus is not None else []
        if outcome.error:
            return BuildResult(False, errors, findings, outcome.written, seconds, outcome.error,
                               outcome.rendered, outcome.reused)
        message = (f"网站已生成：{len(outcome.written)} 个页面写入（其中目录外页面 {outcome.rendered} 个），"
                   f"{outcome.reused} 个页面未变沿用，"
                   f"用时 {seconds:.1f} 秒")
        return BuildResult(True, errors, findings, outcome.written, seconds, message, outcome.rendered, outcome.reused,
                           outcome.bodies, outcome.portal.rendered_first if outcome.portal else 0)
