import datetime as dt
import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-11-20"
DISCLOSURE = [sys.executable, "-m", "disclosure.cli"]


def run_cli(*args, cwd=ROOT, env=None, check=False):
    e = dict(os.environ, NO_MKDOCS_2_WARNING="1", **(env or {}))
    proc = subprocess.run([*DISCLOSURE, *args], cwd=cwd, env=e, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"disclosure {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def build(site_dir: Path, config: Path = ROOT / "mkdocs.yml", as_of: str = AS_OF, search: bool = True, cwd=ROOT,
          extra_env: dict | None = None):
    env = {"SOURCE_DATE_EPOCH": "1763596800", "DISCLOSURE_AS_OF": as_of, **(extra_env or {})}
    if not search:
        env["DISCLOSURE_SEARCH"] = "0"
    return run_cli("--config", str(config), "build", "--site-dir", str(site_dir), cwd=cwd, env=env)


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("demo") / "site"
    proc = build(site)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return site


@pytest.fixture(scope="session")
def demo_corpus():
    from disclosure.model.corpus import load

    return load(ROOT / "mkdocs.yml", dt.date.fromisoformat(AS_OF))


def copy_site_source(dest: Path) -> Path:
    """A private copy of the demo site's sources (content, config, theme hooks) to modify in a test."""
    for name in ("content", "hooks"):
        shutil.copytree(ROOT / name, dest / name)
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    text = text.replace("custom_dir: disclosure/theme", f"custom_dir: {ROOT / 'disclosure' / 'theme'}")
    (dest / "mkdocs.yml").write_text(text, encoding="utf-8")
    return dest / "mkdocs.yml"


# Debian's Chromium (Playwright cannot download browsers here); one browser per test module.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".wasm": "application/wasm"}

    def log_message(self, *args):
        pass


def serve_static(directory: Path):
    """A built site over HTTP on a free loopback port (search needs HTTP): (server, base URL)."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(directory)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}/"


@pytest.fixture(scope="module")
def server(demo_site):
    """The demo site over HTTP, for the browser tests of one module."""
    httpd, url = serve_static(demo_site)
    yield url
    httpd.shutdown()
