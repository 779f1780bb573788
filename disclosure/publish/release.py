"""`disclosure publish` / `rollback`: validate → build into a fresh folder → verify → copy the release
to the server → switch `current` atomically → keep the last N releases.

Layout on the server (DEST is a local path or user@host:path over SSH):

    DEST/releases/20261120T080000Z-1a2b3c4/   one folder per release (rsync, hard links to the previous one)
    DEST/current -> releases/…                 the web server's root; replaced by rename(2), never edited

Until the final rename nothing visitors see changes: a failure at any step, or a kill during the
copy, leaves `current` where it was (an unfinished copy stays as `….partial` and is removed by
the next publish). The web server must follow symlinks (nginx does by default).
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

RELEASES = "releases"
PARTIAL = ".partial"


class PublishError(RuntimeError):
    def __init__(self, step: str, message: str):
        super().__init__(f"发布失败（步骤：{step}）：{message}")
        self.step = step


@dataclass
class Target:
    """Where releases live: a local folder, or `user@host:path` reached with ssh and rsync."""

    spec: str

    @property
    def remote(self) -> tuple[str, str] | None:
        if ":" in self.spec and not self.spec.startswith(("/", ".")) and not os.path.exists(self.spec):
            host, path = self.spec.split(":", 1)
            return host, path
        return None

    @property
    def path(self) -> str:
        return self.remote[1] if self.remote else os.path.abspath(self.spec)

    def sh(self, script: str) -> str:
        """Run a POSIX shell script in the target folder (locally, or over ssh); returns stdout."""
        full = f"mkdir -p {shlex.quote(self.path)} && cd {shlex.quote(self.path)} && {script}"
        cmd = ["ssh", "-o", "BatchMode=yes", self.remote[0], full] if self.remote else ["sh", "-c", full]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr.strip() or f"exit {proc.returncode}")
        return proc.stdout

    def rsync_dest(self, sub: str) -> str:
        return f"{self.remote[0]}:{self.remote[1]}/{sub}" if self.remote else os.path.join(self.path, sub)

    def releases(self) -> list[str]:
        out = self.sh(f"mkdir -p {RELEASES} && ls -1 {RELEASES}")
        return sorted(x for x in out.split() if not x.endswith(PARTIAL))

    def current(self) -> str | None:
        out = self.sh("readlink current || true").strip()
        return out.rsplit("/", 1)[-1] if out else None

    def switch(self, release: str) -> None:
        # rename(2) of a fresh symlink over the old one: atomic; visitors see the old or the new site
        name = f".current.{os.getpid()}"
        self.sh(f"ln -sfn {RELEASES}/{shlex.quote(release)} {name} && mv -Tf {name} current")


def git_short_hash(root: Path) -> str:
    proc = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=7", "HEAD"], capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else "nogit"


def release_name(root: Path, now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.timezone.utc)
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{git_short_hash(root)}"


def _step(name: str, fn, *args, **kw):
    print(f"[{name}] …", flush=True)
    try:
        return fn(*args, **kw)
    except PublishError:
        raise
    except Exception as e:  # every failure names its step
        raise PublishError(name, str(e)) from e


def publish(config: str | Path, target_spec: str, keep: int | None = None, as_of: dt.date | None = None) -> str:
    from disclosure.site.build import build_site
    from disclosure.model.config import load_config
    from disclosure.model.corpus import build_date, load_corpus
    from disclosure.site.outputs import own_hosts
    from disclosure.publish.verify import verify_site

    cfg = load_config(config)
    keep = keep or int((cfg.raw.get("publish") or {}).get("keep", 5))
    target = Target(target_spec)
    as_of = as_of or build_date()

    def validate():
        corpus = load_corpus(cfg, as_of, config_path=config, keep_bodies=False)
        errors = corpus.errors
        if errors:
            raise PublishError("validate", f"{len(errors)} 个错误，例如 {errors[0].render()}")
        return corpus

    corpus = _step("validate", validate)
    workdir = Path(tempfile.mkdtemp(prefix="disclosure-publish-"))
    site = workdir / "site"

    def build():
        if build_site(config, site_dir=site, as_of=as_of) != 0:
            raise PublishError("build", "网站生成失败（见上方信息）")

    _step("build", build)

    def verify():
        result = verify_site(site, own_hosts(cfg))
        if not result.ok:
            listing = "\n  ".join(result.problems[:20])
            raise PublishError("verify", f"{len(result.problems)} 个问题：\n  {listing}")
        print(f"  {result.pages} 个页面，{result.links} 个站内链接均有效")

    _step("verify", verify)
    def copy():
        target.sh(f"mkdir -p {RELEASES} && rm -rf {RELEASES}/*{PARTIAL}")  # leftovers of an interrupted copy
        existing = set(target.releases())
        name = base = release_name(cfg.root)
        n = 1
        while name in existing:  # two publishes within one second
            n += 1
            name = f"{base}-{n}"
        previous = target.current()
        cmd = ["rsync", "-a", "--delete"] + shlex.split(os.environ.get("DISCLOSURE_RSYNC_OPTS", ""))
        if previous:
            cmd.append(f"--link-dest=../{previous}")  # unchanged files become hard links: fast, small
        if target.remote:
            cmd += ["-e", "ssh -o BatchMode=yes"]
        cmd += [f"{site}/", target.rsync_dest(f"{RELEASES}/{name}{PARTIAL}/")]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise PublishError("copy", proc.stderr.strip() or f"rsync exit {proc.returncode}")
        target.sh(f"mv {RELEASES}/{name}{PARTIAL} {RELEASES}/{name}")
        return name

    name = _step("copy", copy)
    _step("switch", target.switch, name)

    def prune():
        releases = target.releases()
        current = target.current()
        old = [r for r in releases[:-keep] if r != current] if keep > 0 else []
        if old:
            target.sh("rm -rf " + " ".join(f"{RELEASES}/{shlex.quote(r)}" for r in old))
        return old

    removed = _step("prune", prune)
    print(f"已发布 {name}：{len(corpus.live)} 条信息，目标 {target_spec}（current → {RELEASES}/{name}）"
          + (f"；清理旧版本 {len(removed)} 个" if removed else ""))
    subprocess.run(["rm", "-rf", str(workdir)])
    return name


def rollback(target_spec: str, to: str | None = None) -> str:
    target = Target(target_spec)
    releases = _step("list", target.releases)
    current = _step("list", target.current)
    if to:
        if to not in releases:
            raise PublishError("rollback", f"没有版本 {to}；现有：{', '.join(releases) or '无'}")
        chosen = to
    else:
        older = [r for r in releases if current is None or r < current]
        if not older:
            raise PublishError("rollback", f"{current} 之前没有可回退的版本")
        chosen = older[-1]
    _step("switch", target.switch, chosen)
    print(f"已回退：current → {RELEASES}/{chosen}（原为 {current}）")
    return chosen


def main_publish(args) -> int:
    try:
        publish(args.config, args.target, keep=args.keep, as_of=args.as_of)
    except PublishError as e:
        print(str(e), file=sys.stderr)
        return 1
    return 0


def main_rollback(args) -> int:
    try:
        rollback(args.target, args.to)
    except PublishError as e:
        print(str(e), file=sys.stderr)
        return 1
    return 0
