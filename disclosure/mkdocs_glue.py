"""The only module that knows MkDocs: turns the site plan into MkDocs files and runs the post-build steps.

Event order (MkDocs 1.6): on_config → on_files (read every record once, validate, add generated
pages) → on_page_markdown (attach page meta; home sections) → on_post_build (feeds, catalogue
JSON, search index, compliance report).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from mkdocs.exceptions import Abort
from mkdocs.structure.files import File, Files, InclusionLevel

from .catalogue import SitePlan, home_sections, plan_site
from .config import ConfigError, load_config
from .corpus import build_date, load_corpus
from .findings import ERROR, WARNING

log = logging.getLogger("mkdocs.plugins.disclosure")


class Portal:
    def __init__(self):
        self.plan: SitePlan | None = None
        self.cfg = None

    def on_config(self, config):
        try:
            self.cfg = load_config(config.config_file_path, mkdocs_cfg=dict(config))
        except ConfigError as e:
            raise Abort(f"配置错误：{e}") from None
        # the docs_dir MkDocs resolved is the one that counts
        self.cfg.docs_dir = Path(config.docs_dir)
        return config

    def on_files(self, files: Files, config) -> Files:
        as_of = build_date()
        corpus = load_corpus(self.cfg, as_of, config_path=config.config_file_path)
        errors = [f for f in corpus.findings if f.level == ERROR]
        for f in corpus.findings:
            if f.level == WARNING:
                log.warning(f.render())
        if errors:
            raise Abort("记录校验未通过，网站未生成：\n" + "\n".join(f.render() for f in errors)
                        + f"\n共 {len(errors)} 个错误（与 disclosure validate 的结果相同）。")
        log.info(f"政府信息公开：{len(corpus.live)} 条已发布记录（生成日期 {as_of}），"
                 f"{len(corpus.records) - len(corpus.live)} 条草稿或定时发布未生成")
        self.plan = plan_site(corpus)

        records_prefix = self.cfg.records_dir.rstrip("/") + "/"
        for f in list(files):
            if f.src_uri.startswith(records_prefix):
                files.remove(f)  # the source Markdown and attachments; generated copies replace them
        for page in self.plan.pages:
            inclusion = InclusionLevel.NOT_IN_NAV if page.src_uri.startswith("records/") else InclusionLevel.UNDEFINED
            files.append(File.generated(config, page.src_uri, content=page.markdown, inclusion=inclusion))
        for src_uri, path in self.plan.attachments:
            files.append(File.generated(config, src_uri, abs_src_path=str(path)))
        return files

    def on_page_markdown(self, markdown: str, page, config, files) -> str:
        if self.plan is None:
            return markdown
        src = page.file.src_uri
        gen = self._pages.get(src)
        meta = gen.meta if gen else self.plan.page_meta.get(src, {"column": page.title or ""})
        page.meta["portal"] = meta
        if src == "index.md":
            markdown = markdown.rstrip() + "\n\n" + home_sections(self.plan) + "\n"
        return markdown

    @property
    def _pages(self):
        if getattr(self, "_pages_cache", None) is None or self._pages_plan is not self.plan:
            self._pages_cache, self._pages_plan = self.plan.by_src(), self.plan
        return self._pages_cache

    def on_post_build(self, config):
        if self.plan is None:
            return
        from .outputs import OutputError, write_outputs
        from .search import SearchIndexError

        try:
            write_outputs(self.plan, Path(config.site_dir), search=os.environ.get("DISCLOSURE_SEARCH", "1") != "0")
        except (OutputError, SearchIndexError) as e:
            raise Abort(str(e)) from None
