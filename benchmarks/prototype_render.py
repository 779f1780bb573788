"""Scratch prototype (not wired into the build): render record pages through Material's main.html
outside MkDocs' `_build_page`, with the nav rendered once and reused, and check the bytes.

    .venv/bin/python benchmarks/prototype_render.py 10000 [--pages 500]

Steps, on the generated corpus:
1. Prepare MkDocs exactly as `mkdocs build` does up to `on_env` (config, files, our on_files hook,
   nav, the in-nav pages read), without writing anything.
2. Reference: for K record pages, MkDocs' own `_populate_page` + `_build_page` (what the build's
   workers run today); keep the bytes.
3. Prototype A: the same pages' Markdown through MkDocs (`_populate_page`), then our own render:
   the page context built as `mkdocs.commands.build.get_context` builds it, the `page_context` and
   `post_page` events, `template.render`, encoded as `_build_page` encodes it.
4. Prototype B: as A, but through an overlay environment in which `partials/nav.html` and
   `partials/tabs.html` are rendered once per (page depth, active nav path) and reused: the first
   page of each key renders them inside its own page (so with its exact context) and stores the
   HTML; later pages print the stored HTML.
5. Prototype C: as B, and Markdown converted by one reused `markdown.Markdown` instance (reset
   between pages) with MkDocs' per-page tree processors swapped in, instead of a new instance
   (and a fresh extension set-up) for every page.
Prints whether each prototype's bytes equal the reference for every page, and ms per page.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from run import AS_OF, corpus  # noqa: E402


def prepare(config_file: str):
    """mkdocs build up to on_env, as mkdocs.commands.build.build does it."""
    from mkdocs.commands.build import _populate_page
    from mkdocs.config import load_config
    from mkdocs.structure.files import InclusionLevel, get_files, set_exclusions
    from mkdocs.structure.nav import get_navigation
    from mkdocs.structure.pages import Page

    config = load_config(config_file=config_file, site_dir=str(HERE / "out" / "prototype-site"))
    config.plugins.on_startup(command="build", dirty=False)
    config = config.plugins.on_config(config)
    config.plugins.on_pre_build(config=config)
    files = get_files(config)
    env = config.theme.get_env()
    files.add_files_from_theme(env, config)
    files = config.plugins.on_files(files, config=config)
    set_exclusions(files, config)
    nav = get_navigation(files, config)
    nav = config.plugins.on_nav(nav, config=config, files=files)
    for file in files.documentation_pages(inclusion=InclusionLevel.is_included):
        if file.page is None and file.inclusion.is_not_in_nav():
            Page(None, file, config)
        _populate_page(file.page, config, files)
    env = config.plugins.on_env(env, config=config, files=files)
    doc_files = files.documentation_pages(inclusion=InclusionLevel.is_included)
    return config, files, doc_files, nav, env


def reference(file, config, files, doc_files, nav, env) -> bytes:
    from mkdocs.commands.build import _build_page, _populate_page
    from mkdocs.structure.pages import Page

    page = Page(None, file, config)
    _populate_page(page, config, files)
    _build_page(page, config, doc_files, nav, env)
    return Path(file.abs_dest_path).read_bytes()


def render_page(page, config, doc_files, nav, env, template_name="main.html") -> bytes:
    """What _build_page does between 'activate' and 'write', without the write."""
    from mkdocs.commands.build import get_context

    config._current_page = page
    page.active = True
    try:
        context = get_context(nav, doc_files, config, page)
        template = env.get_template(page.meta.get("template", template_name))
        context = config.plugins.on_page_context(context, page=page, config=config, nav=nav)
        output = template.render(context)
        output = config.plugins.on_post_page(output, page=page, config=config)
        return output.encode("utf-8", errors="xmlcharrefreplace")
    finally:
        page.active = False
        config._current_page = None


CACHED_PARTIAL = (
    '{%- set _k = portal_partial_key(page, "NAME") -%}'
    '{%- if _k in portal_partials -%}{{ portal_partials[_k] }}'
    '{%- else -%}{%- set _html -%}{% include "portal-original/NAME" %}{%- endset -%}'
    '{{ portal_stash(_k, _html) }}{%- endif -%}'
)


def nav_caching_env(env):
    """An overlay of the theme environment whose nav and tabs partials are rendered once per key."""
    import jinja2

    base_loader = env.loader
    cached = {name: CACHED_PARTIAL.replace("NAME", name) for name in ("partials/nav.html", "partials/tabs.html")}

    def load(name):
        if name.startswith("portal-original/"):
            return base_loader.get_source(env, name[len("portal-original/"):])
        if name in cached:
            return cached[name], None, lambda: True
        return base_loader.get_source(env, name)

    over = env.overlay(loader=jinja2.FunctionLoader(load))
    store: dict = {}

    def key(page, name):
        active = tuple(p.title for p in (page.ancestors if page else ()))
        return (name, page.url.count("/") if page else 0, active)

    def stash(k, html):
        store[k] = html
        return html

    over.globals.update(portal_partials=store, portal_partial_key=key, portal_stash=stash)
    return over


class ReusedMarkdown:
    """One markdown.Markdown per worker: build it once, reset it between pages, and swap in the
    per-page MkDocs tree processors (they hold the page's File)."""

    def __init__(self, config, files):
        import markdown

        self.config, self.files = config, files
        self.md = markdown.Markdown(extensions=config["markdown_extensions"],
                                    extension_configs=config["mdx_configs"] or {})

    def render(self, page):
        from mkdocs.structure.pages import (_ExtractAnchorsTreeprocessor, _ExtractTitleTreeprocessor,
                                            _RawHTMLPreprocessor, _RelativePathTreeprocessor)
        from mkdocs.structure.toc import get_toc

        md = self.md
        md.reset()
        raw_html_ext = _RawHTMLPreprocessor()
        raw_html_ext._register(md)
        anchors = _ExtractAnchorsTreeprocessor(page.file, self.files, self.config)
        anchors._register(md)
        rel = _RelativePathTreeprocessor(page.file, self.files, self.config)
        rel._register(md)
        title = _ExtractTitleTreeprocessor()
        title._register(md)
        page.content = md.convert(page.markdown)
        page.toc = get_toc(getattr(md, "toc_tokens", []))
        page._title_from_render = title.title
        page.present_anchor_ids = anchors.present_anchor_ids | raw_html_ext.present_anchor_ids


def populate_with(page, config, files, renderer):
    """_populate_page with Page.render replaced by the reused Markdown instance."""
    config._current_page = page
    try:
        page = config.plugins.on_pre_page(page, config=config, files=files)
        page.read_source(config)
        page.markdown = config.plugins.on_page_markdown(page.markdown, page=page, config=config, files=files)
        renderer.render(page)
        page.content = config.plugins.on_page_content(page.content, page=page, config=config, files=files)
    finally:
        config._current_page = None


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int, nargs="?", default=10000)
    ap.add_argument("--pages", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args(argv)
    site = corpus(args.n)
    os.chdir(site)
    os.environ.update(NO_MKDOCS_2_WARNING="1", DISCLOSURE_AS_OF=AS_OF, SOURCE_DATE_EPOCH="1763596800")
    from mkdocs.commands.build import _populate_page
    from mkdocs.structure.pages import Page

    from disclosure.site import mkdocs_glue

    t = time.process_time()
    config, files, doc_files, nav, env = prepare("mkdocs.yml")
    hook = next(m for name, m in sys.modules.items() if hasattr(m, "_portal") and isinstance(m._portal, mkdocs_glue.Portal))
    portal = hook._portal
    record_files = [f for f in portal.offloaded if f.src_uri.startswith("records/")][: args.pages]
    print(f"prepared in {time.process_time() - t:.1f} s; {len(record_files)} record pages")

    t = time.process_time()
    ref = [reference(f, config, files, doc_files, nav, env) for f in record_files]
    t_ref = time.process_time() - t

    def run(label, populate, environment):
        t0 = time.process_time()
        pages = []
        for f in record_files:
            page = Page(None, f, config)
            populate(page)
            pages.append(page)
        t_md = time.process_time() - t0
        t1 = time.process_time()
        out = [render_page(p, config, doc_files, nav, environment) for p in pages]
        t_tpl = time.process_time() - t1
        same = sum(a == b for a, b in zip(out, ref))
        k = len(record_files)
        print(f"{label:62s} identical {same}/{k}; {1000 * (t_md + t_tpl) / k:6.2f} ms/page "
              f"(Markdown {1000 * t_md / k:5.2f}, template {1000 * t_tpl / k:5.2f})")
        if same != k:
            bad = next(i for i, (a, b) in enumerate(zip(out, ref)) if a != b)
            a, b = out[bad], ref[bad]
            at = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
            print(f"  first difference in {record_files[bad].src_uri} at byte {at}:\n  ours {a[at - 80:at + 80]!r}\n"
                  f"  ref  {b[at - 80:at + 80]!r}")

    k = len(record_files)
    cached_env = nav_caching_env(env)
    md = ReusedMarkdown(config, files)
    print("CPU time of this process (time.process_time), best of --rounds:")
    for round_ in range(args.rounds):
        print(f"round {round_ + 1}")
        if round_:
            t = time.process_time()
            for f in record_files:
                reference(f, config, files, doc_files, nav, env)
            t_ref = time.process_time() - t
        print(f"{'reference: MkDocs _populate_page + _build_page (+ write)':62s} {1000 * t_ref / k:6.2f} ms/page")
        run("A: own render, same env", lambda p: _populate_page(p, config, files), env)
        run("B: own render, nav + tabs rendered once per key", lambda p: _populate_page(p, config, files), cached_env)
        run("C: B + one reused Markdown instance", lambda p: populate_with(p, config, files, md), cached_env)


if __name__ == "__main__":
    main()
