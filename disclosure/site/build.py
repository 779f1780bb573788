"""`disclosure build`: validate, build the MkDocs site, feeds and search index in one command.

The last good site is never destroyed. MkDocs empties `site_dir` before it reads a single record
(`mkdocs build` cleans first, then runs `on_files`, where validation happens), so a failed
`mkdocs build` leaves an empty or half-written folder. `disclosure build` therefore builds aside:

    site/                                  the last good build, untouched until the new one succeeded
    .site.building-<pid>-<random>/site/    the new build (same parent folder, so same filesystem)
    .site.building-<pid>-<random>/site-compliance-report.html   the staff report written beside it

On success the old folder is renamed aside (into the temporary folder), the new one renamed into
place, the staff report moved beside it, and the temporary folder deleted. The old site is kept
beside the new one as `.site.previous/` (its unchanged files are hard links to the new site's, so
it costs the folders and the changed files: after a build that rewrote every page, a second copy).
The next build takes it up as its own folder (`_recycle_previous`): its folders stay, every file
is linked or written anew (replaced, never written through: it may be a hard link to the live
site's), and what that build does not produce is deleted by the list of files the folder holds
(kept in the cache folder, `.cache/trees/`). At 100,000 records that saves one `mkdir` per page
(125,000, ~13 s of the build's own time here) and the deletion of the old site. Without that list
(the first build, or the cache off or ignored by `--clean`) the build starts from an empty folder
and deletes `.site.previous/` by `rm -rf` in the background while it validates and renders.
Between the two renames `site/` is missing for a moment (microseconds); a web server pointed at it
directly may answer 404 during that instant — publish with `disclosure publish`, whose `current`
symlink switch is atomic. If `site/` is a symlink, the link is kept and the folder it points to is
swapped the same way. On any failure (or Ctrl-C) the temporary folder is removed and `site/` and
its staff report stay byte-identical. A temporary folder left by a killed build is removed by the
next build once its process is gone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BUILDING = ".{name}.building-"
PREVIOUS = ".{name}.previous"


def _report_name(site: Path) -> str:
    # the staff report's name, as mkdocs_glue.Portal.write_staff_report derives it from the site folder
    return f"{site.name}-compliance-report.html"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_leftovers(final: Path) -> None:
    """Temporary folders of builds that were killed (their process no longer exists)."""
    prefix = BUILDING.format(name=final.name)
    for leftover in final.parent.glob(prefix + "*"):
        try:
            pid = int(leftover.name[len(prefix):].split("-", 1)[0])
        except ValueError:
            continue
        if pid != os.getpid() and not _pid_alive(pid):
            shutil.rmtree(leftover, ignore_errors=True)


def _temporary_folder(final: Path) -> Path:
    """A folder beside `final` named for this process (_remove_leftovers finds a killed build's)."""
    return Path(tempfile.mkdtemp(prefix=BUILDING.format(name=final.name) + f"{os.getpid()}-", dir=final.parent))


def _retire_previous(final: Path) -> subprocess.Popen | None:
    """Start deleting the site the last build replaced (kept as .<name>.previous): moved into a
    temporary folder, then `rm -rf` in the background (the caller waits for it before it ends)."""
    previous = final.parent / PREVIOUS.format(name=final.name)
    if not previous.is_dir() or previous.is_symlink():
        return None
    doomed = _temporary_folder(final)
    try:
        os.rename(previous, doomed / "old-site")
    except OSError:  # not ours to move (another build's, or no permission): leave it, build on
        shutil.rmtree(doomed, ignore_errors=True)
        return None
    rm = shutil.which("rm")
    if rm is None:  # no coreutils: delete it now, as builds did before
        shutil.rmtree(doomed, ignore_errors=True)
        return None
    return subprocess.Popen([rm, "-rf", "--", str(doomed)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _listings(config_root: Path, final: Path) -> tuple[Path, Path]:
    """Where the file lists of `final` and of the site it replaced are kept (the cache folder, so
    they go with it): the live one, and the previous one."""
    from disclosure.site import pagecache

    name = hashlib.sha256(str(final).encode("utf-8")).hexdigest()[:16]
    base = pagecache.cache_dir(config_root).parent / "trees"
    return base / f"{name}.live", base / f"{name}.previous"


def _read_listing(path: Path, folder: Path) -> set | None:
    """The site-relative files `path` lists for `folder`; None unless it was written for that very
    folder (its first line: the folder's device and inode, which renames keep)."""
    try:
        st = os.stat(folder)
        lines = path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeError):
        return None
    if lines[0].split(" ")[0] != f"{st.st_dev}:{st.st_ino}":
        return None
    return {line for line in lines[1:] if line}


def _mostly_rewritten(path: Path) -> bool:
    """Whether the build that wrote this list rendered most of its pages anew (its first line says)."""
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.readline().split()[1:] == ["rewritten"]
    except (OSError, UnicodeError, IndexError):
        return False


def _write_listing(path: Path, folder: Path, files, rewritten: bool) -> None:
    st = os.stat(folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    head = f"{st.st_dev}:{st.st_ino}" + (" rewritten" if rewritten else "")
    tmp.write_text(head + "\n" + "".join(f + "\n" for f in sorted(files)), encoding="utf-8")
    os.replace(tmp, path)


def _recycle_previous(final: Path, new: Path, listing: Path, live_listing: Path) -> set | None:
    """Take up the site the last build replaced (.<name>.previous) as this build's folder instead
    of an empty one, when its file list is known (`listing`). The build then replaces or links
    every file anew and deletes what it does not produce, so its folders stay: at 100,000 records
    one `mkdir` per page (125,000, ~13 s of the parent's time on this machine) and the
    background `rm -rf` of the old site are saved. Returns that list, or None (build into an
    empty folder). Not when the cache is off or ignored (`--clean`): those builds start empty. Not
    either when the live site's build rendered most pages anew (a setting, a template, an upgrade):
    then nearly every name in the old folder would be unlinked and linked again, which costs more
    than new folders (at 100,000 records, 39.9 s instead of 22.3 s for that phase)."""
    from disclosure.site import pagecache

    previous = final.parent / PREVIOUS.format(name=final.name)
    if pagecache.mode() != "on" or not previous.is_dir() or previous.is_symlink() or _mostly_rewritten(live_listing):
        return None
    files = _read_listing(listing, previous)
    if files is None:
        return None
    try:
        os.rename(previous, new)
    except OSError:
        return None
    listing.unlink(missing_ok=True)
    return files


def _swap_in(new: Path, final: Path, workdir: Path) -> None:
    """Replace `final` with `new` (both in the same folder): old aside, new in; then the report."""
    if final.exists():
        if not final.is_dir():
            raise OSError(f"{final} 不是文件夹，不能用作网站输出目录")
        os.rename(final, workdir / "previous-site")
        try:
            os.rename(new, final)
        except OSError:
            os.rename(workdir / "previous-site", final)  # put the last good site back
            raise
    else:
        os.rename(new, final)
    report = workdir / _report_name(new)
    if report.exists():
        os.replace(report, final.parent / _report_name(final))
    if (workdir / "previous-site").is_dir():
        try:  # kept for the next build to delete in the background (_retire_previous)
            os.rename(workdir / "previous-site", final.parent / PREVIOUS.format(name=final.name))
        except OSError:  # another build's is there: this one goes with the temporary folder
            pass


def build_site(config: str | Path = "mkdocs.yml", site_dir: str | Path | None = None,
               as_of: dt.date | None = None) -> int:
    """Returns a process exit code: 0 built, 1 validation or build failure (the old site kept)."""
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    if as_of:
        os.environ["DISCLOSURE_AS_OF"] = as_of.isoformat()
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort, ConfigurationError

    if not logging.getLogger().handlers:
        logging.basicConfig(format="%(levelname)-7s -  %(message)s", level=logging.INFO, stream=sys.stderr)
    logging.getLogger("mkdocs").setLevel(logging.INFO)
    overrides = {"site_dir": str(site_dir)} if site_dir else {}
    try:
        cfg = load_config(config_file=str(config), **overrides)
    except (Abort, ConfigurationError) as e:
        from disclosure.site.mkdocs_glue import config_error_text

        print(f"生成失败：{config_error_text(config, e)}", file=sys.stderr)
        return 1
    final = Path(cfg.site_dir)
    if final.is_symlink():
        final = final.resolve()  # keep the link; swap the folder it points to
    final.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(final)
    live_list, previous_list = _listings(Path(cfg.config_file_path).resolve().parent, final)
    workdir = _temporary_folder(final)
    new = workdir / final.name
    recycled = _recycle_previous(final, new, previous_list, live_list)
    deleting = None
    if recycled is None:
        deleting = _retire_previous(final)
        previous_list.unlink(missing_ok=True)
    try:
        from disclosure.site.mkdocs_glue import run_build

        # the engine build (engine.SiteBuilder's): unchanged off-nav pages and feeds are hard-linked
        # from the last good site (see disclosure/site/pagecache.py) into the new folder, an empty
        # one or the site the last build replaced (recycled)
        previous = final if final.is_dir() else None
        outcome = run_build(config, new, previous=previous, cache_site=final, recycled=recycled)
        if outcome.error:
            raise Abort(outcome.error)
        _swap_in(new, final, workdir)
        try:  # the replaced site's list goes with it (checked against the folder when it is read)
            os.replace(live_list, previous_list)
        except OSError:
            pass
        if outcome.produced is not None:
            _write_listing(live_list, final, outcome.produced, outcome.rendered > outcome.reused)
    except (Abort, ConfigurationError) as e:
        print(f"生成失败：{e}", file=sys.stderr)
        print(f"原有网站 {final} 保持不变。", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"生成失败：无法写入输出目录：{e}", file=sys.stderr)
        print(f"原有网站 {final} 保持不变。", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if deleting is not None:
            deleting.wait()
    print(f"网站已生成：{final}")
    report = final.parent / _report_name(final)
    if report.exists():
        print(f"公开时效报告（供工作人员查看，不随网站发布）：{report}")
    return 0
