"""Run a command and report wall time and peak memory of its whole process tree (sampled from /proc).

Two memory figures: the summed RSS (what earlier rounds reported) counts a page shared by a
forked worker and its parent once in EACH process, so a parent of 2 GB with two forked workers
shows ~6 GB while the machine holds ~2.5 GB; the summed PSS (/proc/PID/smaps_rollup: each shared
page divided among the processes sharing it) is the memory the tree really occupies, the figure a
runner's memory limit (a cgroup) is held to. PSS is sampled less often (the kernel walks the page
tables to compute it).
"""

from __future__ import annotations

import os
import resource
import subprocess
import threading
import time
from dataclasses import dataclass


@dataclass
class Run:
    seconds: float
    peak_mb: float  # peak of the summed RSS of the process and all its descendants
    returncode: int
    output: str
    cpu_s: float = 0.0  # user + system CPU of the process and every descendant it waited for
    pss_mb: float = 0.0  # peak of the summed PSS of the tree (shared pages counted once): memory really used
    pss_detail: str = ""  # at that peak: each process's PSS and command, largest first


def _children(pid: int) -> list[int]:
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out += [int(x) for x in fh.read().split()]
    except OSError:
        pass
    return out


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    except (OSError, IndexError, ValueError):
        return 0


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, IndexError, ValueError):
        pass
    return 0


def _command(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace").strip()[-60:]
    except OSError:
        return "?"


def _tree(root: int) -> list[int]:
    out, stack = [], [root]
    while stack:
        pid = stack.pop()
        out.append(pid)
        stack.extend(_children(pid))
    return out


def _tree_rss_kb(root: int) -> int:
    """Summed RSS of a process and its descendants, walking /proc/PID/task/TID/children (cheap:
    scanning all of /proc every sample would steal CPU from the 2-core machine being measured)."""
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += _rss_kb(pid)
        stack.extend(_children(pid))
    return total


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def measure(cmd, env=None, cwd=None) -> Run:
    cpu0 = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = pss_peak = 0
    detail = ""
    done = threading.Event()

    def sample():
        nonlocal peak, pss_peak, detail
        n = 0
        while not done.is_set():
            peak = max(peak, _tree_rss_kb(proc.pid))
            if n % 5 == 0:
                sizes = [(_pss_kb(pid), pid) for pid in _tree(proc.pid)]
                total = sum(kb for kb, _ in sizes)
                if total > pss_peak:
                    pss_peak = total
                    detail = "; ".join(f"{kb // 1024} MB {_command(pid)}" for kb, pid in sorted(sizes, reverse=True) if kb)
            n += 1
            time.sleep(0.1)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    output, _ = proc.communicate()
    done.set()
    t.join()
    return Run(time.perf_counter() - start, peak / 1024, proc.returncode, output, _children_cpu() - cpu0,
               pss_peak / 1024, detail)
