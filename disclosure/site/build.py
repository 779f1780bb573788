"""`disclosure build`: validate, build the MkDocs site, feeds and search index in one command."""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
from pathlib import Path


def build_site(config: str | Path = "mkdocs.yml", site_dir: str | Path | None = None,
               as_of: dt.date | None = None) -> int:
    """Returns a process exit code: 0 built, 1 validation or build failure."""
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    if as_of:
        os.environ["DISCLOSURE_AS_OF"] = as_of.isoformat()
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort, ConfigurationError

    if not logging.getLogger().handlers:
        logging.basicConfig(format="%(levelname)-7s -  %(message)s", level=logging.INFO, stream=sys.stderr)
    logging.getLogger("mkdocs").setLevel(logging.INFO)
    overrides = {"site_dir": str(site_dir)} if site_dir else {}
    try:
        cfg = load_config(config_file=str(config), **overrides)
        cfg.plugins.on_startup(command="build", dirty=False)  # what `mkdocs build` does before building
        try:
            build(cfg)
        finally:
            cfg.plugins.on_shutdown()
    except (Abort, ConfigurationError) as e:
        print(f"生成失败：{e}", file=sys.stderr)
        return 1
    print(f"网站已生成：{cfg.site_dir}")
    return 0
