"""Full-text search: Pagefind's *extended* binary (the plain one does not segment Chinese).

The index covers only `data-pagefind-body` (record pages); filters, metadata and the date sort key
are written into each record page by the catalogue. A failed index fails the build.
"""

from __future__ import annotations

import subprocess
from pathlib import Path


class SearchIndexError(RuntimeError):
    pass


def pagefind_executable() -> Path:
    try:
        from pagefind_bin_extended import get_executable
    except ImportError as e:  # pragma: no cover - dependency missing
        raise SearchIndexError("未安装 pagefind[extended]（中文分词需要 extended 版本）：pip install 'pagefind[extended]'") from e
    return get_executable()


def start_index(site_dir: Path, language: str = "zh") -> subprocess.Popen:
    """Start indexing in the background (the caller writes feeds meanwhile); `finish_index` waits.

    Only record pages carry `data-pagefind-body`, so only they are read (`--glob`)."""
    cmd = [str(pagefind_executable()), "--site", str(site_dir), "--force-language", language,
           "--glob", "records/**/*.html"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish_index(proc: subprocess.Popen, site_dir: Path) -> str:
    output, _ = proc.communicate()
    if proc.returncode != 0:
        raise SearchIndexError(f"搜索索引生成失败（pagefind 退出码 {proc.returncode}）：\n{output}")
    if not (site_dir / "pagefind" / "pagefind.js").is_file():
        raise SearchIndexError(f"搜索索引生成失败：{site_dir}/pagefind/pagefind.js 不存在\n{output}")
    for pattern in UNUSED_BUNDLE_FILES:
        for f in (site_dir / "pagefind").glob(pattern):
            f.unlink()
    return output


# Pagefind ships three prebuilt UIs; the search page uses the JS API (assets/javascripts/portal-search.js).
UNUSED_BUNDLE_FILES = ["pagefind-ui.*", "pagefind-component-ui.*", "pagefind-modular-ui.*", "pagefind-highlight.js"]
