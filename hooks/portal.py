"""MkDocs hooks: wiring only. All logic lives in disclosure/ (see disclosure/mkdocs_glue.py)."""

from mkdocs.plugins import event_priority

from disclosure.site.mkdocs_glue import Portal

_portal = Portal()


def on_startup(command, dirty):
    _portal.on_startup(command)


def on_config(config):
    return _portal.on_config(config)


@event_priority(100)  # before any plugin that looks at the files
def on_files(files, config):
    return _portal.on_files(files, config)


def on_nav(nav, config, files):
    _portal.on_nav(nav)


def on_env(env, config, files):
    _portal.on_env(env)


def on_page_markdown(markdown, page, config, files):
    return _portal.on_page_markdown(markdown, page)


def on_page_content(html, page, config, files):
    return _portal.on_page_content(html, page)


def on_post_build(config):
    _portal.on_post_build(config)


def on_page_context(context, page, config, nav):
    return _portal.on_page_context(context, page)


def on_post_page(output, page, config):
    return _portal.on_post_page(output, page)
