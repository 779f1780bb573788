"""`disclosure publish` / `rollback`: validate → build into a fresh folder → verify → copy the release
to the server → check it against its manifest → switch `current` atomically → keep the last N releases.

Layout on the server (DEST is a local path or user@host:path over SSH):

    DEST/.publish.lock                        held (flock) by the one publish or rollback at work
    DEST/releases/20261120T080000Z-1a2b3c4/   one folder per release (rsync, hard links to older ones)
    DEST/releases/…/.manifest.sha256          every file's SHA-256 (`sha256sum` format), written last
    DEST/current -> releases/…                the web server's root; replaced by rename(2), never edited

- **Lock.** Everything that changes DEST (clearing leftovers, copy, check, switch, prune, rollback)
  runs under an exclusive `flock(2)` on `DEST/.publish.lock`; a second publish or rollback waits
  for it (up to `DISCLOSURE_LOCK_TIMEOUT` seconds, default 1800) and says so. Validation and the
  build run before the lock is taken, so two publishes build in parallel and copy one after the
  other. Over SSH the lock is held by the `flock` command (util-linux) in a remote shell that
  lives as long as our ssh connection: killed publish → closed connection → lock released.
- **Manifest.** `.manifest.sha256` lists every file of the release (relative path and SHA-256,
  GNU coreutils `sha256sum` format; the hash also fixes the size) and is copied after all other
  files. `sha256sum --check` plus a file count (run with the target's own shell, so the same check
  runs locally and over SSH) must pass before `current` is switched to a release — after a
  publish and before a rollback. A release that fails (files missing or changed, no manifest) is
  refused with the files named.
- **Copy.** `rsync --checksum --no-times --link-dest=../R` for the kept releases: a file whose bytes
  equal the same path in an earlier release becomes a hard link to it (same inode), so an
  unchanged site costs no space. `-a` alone never linked: MkDocs writes fresh mtimes on every
  build and rsync only links files identical in every preserved attribute, mtime included.
  Without `--times` a linked file keeps the mtime of its first publication and a changed file gets
  the copy time, so nginx's Last-Modified/ETag change exactly when the content does.
- **Prune.** An old release is first renamed to `….pruning` (no longer a release: never listed,
  never a rollback target), then deleted; leftovers of a killed prune or copy (`….partial`) are
  removed by the next publish.
- **Failure.** A failure at any step exits 1 naming the step and leaves `current` untouched; the
  temporary build folder (with the staff compliance report written beside the site) is removed
  whatever happens.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import os
import select
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

RELEASES = "releases"
PARTIAL = ".partial"
PRUNING = ".pruning"
MANIFEST = ".manifest.sha256"
LOCK = ".publish.lock"
MAX_LINK_DEST = 20  # rsync accepts up to 20 --link-dest folders


class PublishError(RuntimeError):
    def __init__(self, step: str, message: str):
        super().__init__(f"发布失败（步骤：{step}）：{message}")
        self.step = step


def lock_timeout() -> float:
    return float(os.environ.get("DISCLOSURE_LOCK_TIMEOUT", "1800"))


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

    def _command(self, script: str) -> list[str]:
        full = f"mkdir -p {shlex.quote(self.path)} && cd {shlex.quote(self.path)} && {script}"
        return ["ssh", "-o", "BatchMode=yes", self.remote[0], full] if self.remote else ["sh", "-c", full]

    def run(self, script: str) -> subprocess.CompletedProcess:
        """Run a POSIX shell script in the target folder (locally, or over ssh)."""
        return subprocess.run(self._command(script), capture_output=True, text=True)

    def sh(self, script: str) -> str:
        proc = self.run(script)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr.strip() or f"exit {proc.returncode}")
        return proc.stdout

    def rsync_dest(self, sub: str) -> str:
        return f"{self.remote[0]}:{self.remote[1]}/{sub}" if self.remote else os.path.join(self.path, sub)

    def releases(self) -> list[str]:
        out = self.sh(f"mkdir -p {RELEASES} && ls -1 {RELEASES}")
        return sorted(x for x in out.split("\n") if x and not x.endswith((PARTIAL, PRUNING)))

    def current(self) -> str | None:
        out = self.sh("readlink current || true").strip()
        return out.rsplit("/", 1)[-1] if out else None

    def switch(self, release: str) -> None:
        # rename(2) of a fresh symlink over the old one: atomic; visitors see the old or the new site
        name = f".current.{os.getpid()}"
        self.sh(f"ln -sfn {RELEASES}/{shlex.quote(release)} {name} && mv -Tf {name} current")

    def check(self, release: str) -> list[str]:
        """Problems of releases/RELEASE against its manifest ([] = complete and unchanged)."""
        d = f"{RELEASES}/{shlex.quote(release)}"
        proc = self.run(
            f"cd {d} || exit 3; test -f {MANIFEST} || exit 4; "
            f"sha256sum --check --strict --quiet {MANIFEST} 2>&1; s=$?; "
            f"listed=$(wc -l < {MANIFEST}); found=$(find . -type f ! -path ./{MANIFEST} -printf x | wc -c); "
            f"echo \"COUNT $listed $found\"; exit $s")
        if proc.returncode == 3:
            return [f"没有版本 {release}"]
        if proc.returncode == 4:
            return [f"版本 {release} 没有清单文件 {MANIFEST}（可能是删除到一半的版本，或由旧版程序发布），无法确认它是完整的"]
        problems, counts = [], None
        for line in proc.stdout.splitlines():
            if line.startswith("COUNT "):
                counts = line.split()[1:]
            elif ": FAILED open or read" in line:
                problems.append(f"缺少文件 {line.split(': FAILED', 1)[0].lstrip(chr(92))}")
            elif line.endswith(": FAILED"):
                problems.append(f"文件内容被改动 {line[:-len(': FAILED')].lstrip(chr(92))}")
            elif line.startswith("sha256sum:") and ("No such file" in line or "WARNING" in line):
                continue  # the per-file lines above say the same
            elif line.strip():
                problems.append(line.strip())
        if counts and counts[0] != counts[1] and not problems:
            problems.append(f"文件数与清单不符：清单 {counts[0]} 个，实际 {counts[1]} 个")
        if proc.returncode not in (0, 1) and not problems:
            problems.append(proc.stderr.strip() or f"检查失败（exit {proc.returncode}）")
        return problems

    @contextlib.contextmanager
    def lock(self):
        """Exclusive lock on DEST/.publish.lock for the duration of the block (see module docstring)."""
        timeout = lock_timeout()
        waiting = f"另一个发布或回退正在进行（锁文件 {self.spec.rstrip('/')}/{LOCK}），等待它结束……"
        if not self.remote:
            os.makedirs(self.path, exist_ok=True)
            with open(os.path.join(self.path, LOCK), "a") as f:
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    print(waiting, flush=True)
                    deadline = time.monotonic() + timeout
                    while True:
                        try:
                            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                            break
                        except BlockingIOError:
                            if time.monotonic() > deadline:
                                raise RuntimeError(f"等待 {timeout:.0f} 秒后锁仍被占用；如确认没有发布在进行，"
                                                   f"请检查是否有卡住的 disclosure 进程") from None
                            time.sleep(0.2)
                try:
                    yield
                finally:
                    fcntl.flock(f, fcntl.LOCK_UN)
            return
        # remote: a shell that holds `flock` until our ssh connection (its stdin) closes
        holder = subprocess.Popen(
            self._command(f"exec flock -w {int(timeout)} {LOCK} sh -c 'echo LOCKED; exec cat >/dev/null'"),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            ready, _, _ = select.select([holder.stdout], [], [], 1.0)
            if not ready:
                print(waiting, flush=True)
            line = holder.stdout.readline()
            if line.strip() != b"LOCKED":
                holder.wait(timeout=10)
                err = holder.stderr.read().decode(errors="replace").strip()
                if "not found" in err:
                    raise RuntimeError(f"服务器上没有 flock 命令（Debian/Ubuntu 的 util-linux 软件包提供）：{err}")
                raise RuntimeError(f"等待 {timeout:.0f} 秒后锁仍被占用，或无法加锁：{err or '连接中断'}")
            yield
        finally:
            if holder.stdin:
                holder.stdin.close()
            try:
                holder.wait(timeout=30)
            except subprocess.TimeoutExpired:
                holder.kill()


def _manifest_name(rel: str) -> tuple[str, str]:
    # GNU coreutils: a name with a backslash or newline starts the line with "\" and is escaped
    if "\\" in rel or "\n" in rel:
        return "\\", rel.replace("\\", "\\\\").replace("\n", "\\n")
    return "", rel


def write_manifest(site: Path, out: Path) -> int:
    """`sha256sum`-format manifest of every regular file under `site`, sorted by path; returns the count."""
    lines = []
    for path in sorted(site.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        rel = path.relative_to(site).as_posix()
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        prefix, name = _manifest_name(rel)
        lines.append(f"{prefix}{h.hexdigest()}  {name}\n")
    out.write_text("".join(lines), encoding="utf-8")
    return len(lines)


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


def _rsync(target: Target, args: list[str]) -> None:
    cmd = ["rsync"] + args
    if target.remote:
        cmd[1:1] = ["-e", "ssh -o BatchMode=yes"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip() or f"rsync exit {proc.returncode}")


def _listing(problems: list[str], limit: int = 10) -> str:
    more = f"\n  ……共 {len(problems)} 个问题" if len(problems) > limit else ""
    return "\n  " + "\n  ".join(problems[:limit]) + more


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
    try:
        site = workdir / "site"
        manifest = workdir / "manifest.sha256"

        def build():
            if build_site(config, site_dir=site, as_of=as_of) != 0:
                raise PublishError("build", "网站生成失败（见上方信息）")

        _step("build", build)

        def verify():
            result = verify_site(site, own_hosts(cfg))
            if not result.ok:
                listing = "\n  ".join(result.problems[:20])
                raise PublishError("verify", f"{len(result.problems)} 个问题：\n  {listing}")
            count = write_manifest(site, manifest)
            print(f"  {result.pages} 个页面，{result.links} 个站内链接均有效；清单 {count} 个文件")

        _step("verify", verify)

        with _locked(target):
            def copy():
                # leftovers of an interrupted copy or prune (we hold the lock: nobody else is writing)
                target.sh(f"mkdir -p {RELEASES} && rm -rf {RELEASES}/*{PARTIAL} {RELEASES}/*{PRUNING}")
                existing = target.releases()
                name = base = release_name(cfg.root)
                n = 1
                while name in existing:  # two publishes within one second
                    n += 1
                    name = f"{base}-{n}"
                current = target.current()
                linked = ([current] if current in existing else []) + [r for r in reversed(existing) if r != current]
                args = ["-a", "--no-times", "--checksum", "--delete"]
                args += [f"--link-dest=../{r}" for r in linked[:MAX_LINK_DEST]]  # relative to the new folder
                args += shlex.split(os.environ.get("DISCLOSURE_RSYNC_OPTS", ""))
                partial = f"{RELEASES}/{name}{PARTIAL}"
                _rsync(target, args + [f"{site}/", target.rsync_dest(partial + "/")])
                _rsync(target, ["--no-times", str(manifest), target.rsync_dest(f"{partial}/{MANIFEST}")])  # last
                return name

            name = _step("copy", copy)

            def check():
                q = f"{RELEASES}/{shlex.quote(name)}"
                problems = target.check(name + PARTIAL)
                if problems:
                    target.sh(f"rm -rf {q}{PARTIAL}")
                    raise PublishError("check", f"复制到服务器的文件与清单不符，未切换：{_listing(problems)}")
                target.sh(f"mv {q}{PARTIAL} {q}")

            _step("check", check)
            _step("switch", target.switch, name)

            def prune():
                releases = target.releases()
                current = target.current()
                old = [r for r in releases[:-keep] if r != current] if keep > 0 else []
                for r in old:
                    q = f"{RELEASES}/{shlex.quote(r)}"
                    target.sh(f"mv {q} {q}{PRUNING} && rm -rf {q}{PRUNING}")  # never a half-deleted release
                return old

            removed = _step("prune", prune)
        print(f"已发布 {name}：{len(corpus.live)} 条信息，目标 {target_spec}（current → {RELEASES}/{name}）"
              + (f"；清理旧版本 {len(removed)} 个" if removed else ""))
        return name
    finally:
        shutil.rmtree(workdir, ignore_errors=True)  # the build and the staff report beside it, whatever happened


@contextlib.contextmanager
def _locked(target: Target):
    """The target's lock as a named step: a failure to get it reads `发布失败（步骤：lock）…`."""
    with contextlib.ExitStack() as stack:
        _step("lock", stack.enter_context, target.lock())
        yield


def rollback(target_spec: str, to: str | None = None) -> str:
    target = Target(target_spec)
    with _locked(target):
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
        problems = _step("check", target.check, chosen)
        if problems:
            others = [r for r in releases if r not in (chosen, current)]
            raise PublishError("check", f"版本 {chosen} 不完整或已被改动，不能回退到它：{_listing(problems)}\n"
                               f"请用 --to 选择其他版本（现有：{', '.join(others) or '无'}），或重新发布。")
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
