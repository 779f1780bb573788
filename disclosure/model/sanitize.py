"""One HTML policy for record bodies: what a 公文 needs, and nothing a browser would run or fetch.

Two uses of the same policy:

* render time, `sanitize_html(html, own_hosts)`: every converted record body passes through the
  maintained allowlist sanitiser `nh3` (Ammonia, html5ever's HTML5 parser) before it reaches a page
  (and from the page the search index). This is the security boundary.
* validate time, `scan_markup(body)`: reports, at its line in the Markdown source, what the policy
  would remove, so staff fix the source instead of finding their table or image silently gone.
  Markdown is not converted here (validation of 100,000 records must stay fast): raw HTML tags,
  Markdown link/image destinations and attr_list blocks (`{: onclick=… }`) are read straight from
  the source. nh3 cannot say what it removed, so the scan has its own small tokenizer for start
  tags; it follows the WHATWG tokenizer's tag and attribute states (names end at whitespace, `/`,
  `>`, `=`; quoted or unquoted values; entities decoded in values) and is linear in the text (each
  character is consumed once, whatever the input), which regular expressions with `[^>]*` are not.
  The scan only reports; what reaches a page is always what nh3 leaves.

Levels: E304 for what could run, navigate or overlay the page (script, style, frames, forms,
meta/base/link, event handlers, `style=` with url()/position/@import…, `javascript:`/`data:`/`vbscript:`
and other non-web URLs),
E306 for a resource fetched from another site (images, srcset, CSS), W307 for harmless markup
outside the policy (it is removed and the record still builds: `<font>`, `<u>`, unknown attributes
or classes, plain `style="width:50%"`).
"""

from __future__ import annotations

import html as _html
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import nh3

# ------------------------------------------------------------------------------------------ policy
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
TAGS = frozenset(HEADINGS | {
    "p", "br", "hr", "ul", "ol", "li", "dl", "dt", "dd",
    "table", "caption", "colgroup", "col", "thead", "tbody", "tfoot", "tr", "th", "td",
    "a", "img", "strong", "em", "b", "i", "sub", "sup", "del", "ins", "small",
    "blockquote", "pre", "code", "span", "div", "figure", "figcaption", "abbr",
})
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height", "title"},
    "th": {"colspan", "rowspan", "scope", "style"},
    "td": {"colspan", "rowspan", "style"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start"},
    "abbr": {"title"},
    **{h: {"id"} for h in HEADINGS},  # the toc extension's anchors
}
# classes that the configured Markdown extensions emit (admonition); nothing that could imitate the
# site's own status banners or layout (`portal-banner--repealed`, `md-*`).
ADMONITION_TYPES = {"note", "abstract", "summary", "tldr", "info", "todo", "tip", "hint", "important",
                    "success", "check", "done", "question", "help", "faq", "warning", "caution",
                    "attention", "failure", "fail", "missing", "danger", "error", "bug", "example",
                    "quote", "cite"}
CLASSES = {"div": {"admonition", *ADMONITION_TYPES}, "p": {"admonition-title"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
STYLE_PROPERTIES = {"text-align"}  # what the tables extension writes for column alignment
# removed together with their content (the rest keep their text when the tag is dropped)
CLEAN_CONTENT = frozenset({"script", "style", "template", "iframe", "frame", "frameset", "object",
                           "embed", "applet", "noscript", "noembed", "noframes", "svg", "math",
                           "textarea", "select", "title", "xmp"})

# What a removed tag or attribute means (for the validate-time report)
ACTIVE_TAGS = frozenset(CLEAN_CONTENT | {"form", "input", "button", "option", "meta", "base", "link",
                                         "param", "portal", "isindex", "keygen", "frame", "image"})
URL_ATTRS = frozenset({"href", "src", "action", "formaction", "srcset", "background", "poster", "data",
                       "cite", "ping", "xlink:href", "lowsrc", "dynsrc", "longdesc", "manifest", "codebase"})
ACTIVE_ATTRS = frozenset({"style", "srcdoc", "formaction", "action", "http-equiv", "xmlns", "xlink:href",
                          "is", "autofocus", "contenteditable", "popover", "popovertarget"})
FETCHING_ATTRS = frozenset({"src", "srcset", "background", "poster", "data", "lowsrc", "dynsrc"})

_EMBEDS = frozenset({"iframe", "frame", "object", "embed"})
_HTML_WS = "\t\n\f\r "
_URL_JUNK = re.compile(r"[\x00-\x20\x7f]+")  # browsers drop tab/newline inside URLs, and trim the rest
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):", re.ASCII)


def url_scheme(value: str) -> str:
    """The scheme a browser would see after decoding entities and dropping tabs, newlines and
    controls ('' for a relative URL)."""
    v = _URL_JUNK.sub("", _html.unescape(value))
    m = _SCHEME.match(v)
    return m.group(1).lower() if m else ""


def url_host(value: str) -> str | None:
    """Host of an absolute or protocol-relative URL; None for a same-site (relative) URL."""
    v = _URL_JUNK.sub("", _html.unescape(value)).replace("\\", "/")
    if not (v.startswith("//") or _SCHEME.match(v)):
        return None
    try:
        return (urlsplit(v).hostname or "").lower()
    except ValueError:
        return ""


_STYLE_DANGER = re.compile(r"url\s*\(|image(?:-set)?\s*\(|@import|expression|behavio|binding|position|javascript"
                           r"|vbscript|\\|/\*", re.I)


def style_is_dangerous(value: str) -> bool:
    """CSS that can fetch from elsewhere, run code in old browsers or lay itself over the page."""
    return _STYLE_DANGER.search(_html.unescape(value)) is not None


def _is_style_ok(tag: str, value: str) -> bool:
    if tag not in ("th", "td"):
        return False
    decls = [d.strip() for d in _html.unescape(value).split(";") if d.strip()]
    return all(re.fullmatch(r"text-align\s*:\s*(left|right|center|justify)", d, re.I) for d in decls)


# ------------------------------------------------------------------------------------------ render
@lru_cache(maxsize=8)
def _cleaner(own_hosts: frozenset) -> nh3.Cleaner:
    def keep(tag, attr, value):
        if tag == "img" and attr == "src":
            host = url_host(value)
            if host is not None and host not in own_hosts:
                return None  # images only from the site itself: no third-party requests, no tracking pixels
        return value

    return nh3.Cleaner(
        tags=set(TAGS), clean_content_tags=set(CLEAN_CONTENT),
        attributes={k: set(v) for k, v in ATTRIBUTES.items()}, attribute_filter=keep,
        url_schemes=set(URL_SCHEMES), link_rel=None, strip_comments=True,
        allowed_classes={k: set(v) for k, v in CLASSES.items()}, filter_style_properties=set(STYLE_PROPERTIES),
    )


def sanitize_html(html: str, own_hosts=()) -> str:
    """The body HTML a visitor may receive: the policy above, applied by nh3. `own_hosts`: the site's
    own host names (images from them are allowed; from anywhere else they are removed)."""
    if not html:
        return html
    return _cleaner(frozenset(h.lower() for h in own_hosts)).clean(html)


# ------------------------------------------------------------------------------------------ scan
@dataclass(frozen=True, slots=True)
class MarkupProblem:
    code: str  # E304 | E306 | W307
    pos: int  # offset in the scanned text
    what: str  # the construct, e.g. "<iframe>", "onclick=", "javascript: 链接"
    why: str  # plain words


_TAG_OPEN = re.compile(r"<([A-Za-z][^\t\n\f\r />]*)")
_WS = re.compile(r"[\t\n\f\r /]*")
_ATTR_NAME = re.compile(r"[^\t\n\f\r />][^\t\n\f\r />=]*")
_EQ = re.compile(r"[\t\n\f\r ]*=[\t\n\f\r ]*")
_VALUE = re.compile(r'"[^"]*"?|\'[^\']*\'?|[^\t\n\f\r >]*')


def iter_start_tags(text: str):
    """(tag, [(attr, value, pos)], pos) for every start tag, in order; linear in len(text)."""
    pos, n = 0, len(text)
    while True:
        m = _TAG_OPEN.search(text, pos)
        if not m:
            return
        start, tag, p = m.start(), m.group(1).lower(), m.end()
        attrs = []
        while p < n:
            p = _WS.match(text, p).end()
            if p >= n or text[p] == ">":
                p += 1
                break
            nm = _ATTR_NAME.match(text, p)
            name, apos, p = nm.group(0).lower(), p, nm.end()
            value = ""
            eq = _EQ.match(text, p)
            if eq:
                vm = _VALUE.match(text, eq.end())
                raw, p = vm.group(0), vm.end()
                value = raw[1:-1] if raw[:1] in "\"'" and len(raw) > 1 and raw[-1] == raw[0] else raw.lstrip("\"'")
            attrs.append((name, value, apos))
        yield tag, attrs, start
        pos = max(p, m.end())


def _judge_url(tag: str, attr: str, value: str, pos: int, own_hosts):
    scheme = url_scheme(value)
    if scheme and scheme not in URL_SCHEMES:
        label = f"{scheme}: 链接" if attr == "href" else f"{attr}={scheme}:…"
        return MarkupProblem("E304", pos, label, f"只允许 http、https、mailto 和站内相对链接，{scheme}: 地址可能执行代码或下载伪装内容")
    if attr in FETCHING_ATTRS:
        host = url_host(value)
        if host is not None and host not in own_hosts:
            return MarkupProblem("E306", pos, f"{attr}={_short(value)}", "页面打开时会向其他网站发出请求（可用于跟踪访问者）")
    return None


def _judge_tag(tag: str, attrs, pos: int, own_hosts):
    if tag in ACTIVE_TAGS:
        if tag in _EMBEDS and not any(n.startswith("on") or n in ACTIVE_ATTRS for n, _v, _p in attrs):
            for name, value, apos in attrs:
                if name in ("src", "data") and url_scheme(value) in ("http", "https", ""):
                    host = url_host(value)
                    if host is not None and host not in own_hosts:
                        yield MarkupProblem("E306", pos, f"<{tag} {name}={_short(value)}>", "会把其他网站的页面嵌入本站页面")
                        return
        yield MarkupProblem("E304", pos, f"<{tag}>", _TAG_WHY.get(tag, "可执行代码、嵌入其他页面或改变页面行为"))
        return
    allowed = ATTRIBUTES.get(tag, set()) if tag in TAGS else set()
    fetch_reported = False
    for name, value, apos in attrs:
        if name.startswith("on"):
            yield MarkupProblem("E304", apos, f"{name}=", "事件属性会执行脚本")
            continue
        if name == "style":
            if tag in TAGS and _is_style_ok(tag, value):
                continue
            if style_is_dangerous(value):
                yield MarkupProblem("E304", apos, "style=", "这段样式可用来伪装页面、遮盖内容或向外网发出请求")
            else:
                yield MarkupProblem("W307", apos, "style=", "网站统一排版，样式属性会被删除")
            continue
        if name in ACTIVE_ATTRS:
            yield MarkupProblem("E304", apos, f"{name}=", "这个属性会执行代码或改变页面行为")
            continue
        if name in URL_ATTRS:
            bad = _judge_url(tag, name, value, apos, own_hosts)
            if bad:
                fetch_reported |= bad.code == "E306"
                yield bad
                continue
        if name == "class" and tag in CLASSES:
            extra = [c for c in value.split() if c not in CLASSES[tag]]
            if extra:
                yield MarkupProblem("W307", apos, f'class="{_short(" ".join(extra))}"', "网站不支持的样式类，会被删除")
            continue
        if tag in TAGS and name not in allowed:
            yield MarkupProblem("W307", apos, f"<{tag} {name}=…>", "这个属性不在允许范围内，会被删除")
    if tag not in TAGS:
        if not fetch_reported:
            yield MarkupProblem("W307", pos, f"<{tag}>", "这个标签不在允许范围内，标签会被删除（文字保留）")


_TAG_WHY = {
    "script": "脚本会在访问者的浏览器中运行", "style": "样式表可伪装页面或从外网加载内容（如 @import）",
    "iframe": "会在页面中嵌入其他页面（含 srcdoc 写入的脚本）", "frame": "会嵌入其他页面",
    "frameset": "会嵌入其他页面", "object": "会嵌入插件或其他页面", "embed": "会嵌入插件或其他页面",
    "form": "表单可把访问者输入的信息提交到其他网站", "input": "表单控件不属于公文内容",
    "button": "表单控件不属于公文内容", "meta": "可让页面自动跳转到其他网站（refresh）",
    "base": "会改变页面上所有链接的指向", "link": "会从其他地址加载样式或资源",
    "svg": "SVG 图形可包含脚本", "math": "MathML 可包含链接和脚本", "template": "模板内容会被脚本使用",
    "noscript": "浏览器关闭脚本时显示的代码块，常被用来绕过检查",
}

_MD_LINK = re.compile(r"\]\([\t ]*<?([^\s)>]*)")
_MD_IMAGE = re.compile(r"!\[[^\[\]\n]*\]\([\t ]*<?([^\s)>]*)")
_MD_REFDEF = re.compile(r"^[ ]{0,3}\[[^\]\n]+\]:[\t ]*<?([^\s>]+)", re.M)
_ATTR_LIST = re.compile(r"\{:?[ ]*([^{}\n ][^{}\n]*)\}")
_FENCE = re.compile(r"^[ ]{0,3}(`{3,}|~{3,})", re.M)


def _unfenced(text: str) -> str:
    """The text with fenced code blocks blanked (same length and line breaks): Markdown shows their
    content as text, so `<script>` in a code example is not markup."""
    if "```" not in text and "~~~" not in text:
        return text
    out, pos, open_fence = [], 0, None
    for m in _FENCE.finditer(text):
        fence = m.group(1)
        if open_fence is None:
            out.append(text[pos:m.start()])
            pos, open_fence = m.start(), fence
        elif fence[0] == open_fence[0] and len(fence) >= len(open_fence):
            end = text.find("\n", m.end())
            end = len(text) if end < 0 else end
            out.append(re.sub(r"[^\n]", " ", text[pos:end]))
            pos, open_fence = end, None
    if open_fence is not None:
        out.append(re.sub(r"[^\n]", " ", text[pos:]))
    else:
        out.append(text[pos:])
    return "".join(out)


def may_have_markup(text: str) -> bool:
    """Cheap test first: no '<', no link destination, no attr_list → nothing to scan."""
    return "<" in text or "](" in text or "{" in text or "]:" in text


def scan_markup(text: str, own_hosts=(), markdown: bool = True):
    """What the policy would remove from this Markdown (or plain) text, as `MarkupProblem`s in order
    of position. `markdown=False` (plain fields such as the title, printed escaped) reports only what
    could run if a template forgot to escape it (E304)."""
    if not may_have_markup(text):
        return []
    own = frozenset(h.lower() for h in own_hosts)
    src = _unfenced(text) if markdown else text
    out: list[MarkupProblem] = []
    if "<" in src:
        for tag, attrs, pos in iter_start_tags(src):
            out.extend(_judge_tag(tag, attrs, pos, own))
    if markdown and "](" in src:
        images = {m.start(1): m.group(1) for m in _MD_IMAGE.finditer(src)}
        for m in _MD_LINK.finditer(src):
            url, p = m.group(1), m.start(1)
            bad = _judge_url("img" if p in images else "a", "src" if p in images else "href", url, p, own)
            if bad:
                out.append(bad)
    if markdown and "]:" in src:
        for m in _MD_REFDEF.finditer(src):
            bad = _judge_url("a", "href", m.group(1), m.start(1), own)
            if bad and bad.code == "E304":
                out.append(bad)
    if markdown and "{" in src:
        out.extend(_scan_attr_lists(src, own))
    if not markdown:
        out = [p for p in out if p.code == "E304"]
    out.sort(key=lambda p: p.pos)
    return out


def _scan_attr_lists(src: str, own):
    from markdown.extensions.attr_list import get_attrs_and_remainder  # the extension's own parser

    for m in _ATTR_LIST.finditer(src):
        inner = m.group(1)
        if "=" not in inner and "." not in inner and "#" not in inner:
            continue
        attrs, _rest = get_attrs_and_remainder(inner)
        for key, value in attrs:
            name = "class" if key == "." else key.lower()
            pos = m.start()
            if name.startswith("on"):
                yield MarkupProblem("E304", pos, f"{{: {name}=… }}", "事件属性会执行脚本")
            elif name == "style":
                if style_is_dangerous(value or ""):
                    yield MarkupProblem("E304", pos, "{: style=… }", "这段样式可用来伪装页面、遮盖内容或向外网发出请求")
                else:
                    yield MarkupProblem("W307", pos, "{: style=… }", "网站统一排版，样式属性会被删除")
            elif name in ACTIVE_ATTRS:
                yield MarkupProblem("E304", pos, f"{{: {name}=… }}", "这个属性会执行代码或改变页面行为")
            elif name in URL_ATTRS:
                bad = _judge_url("img" if name in FETCHING_ATTRS else "a", name, value or "", pos, own)
                yield bad or MarkupProblem("W307", pos, f"{{: {name}=… }}", "链接地址请用 Markdown 写法，这个属性会被删除")
            elif name == "class":
                if value not in CLASSES["div"] and value not in CLASSES["p"]:
                    yield MarkupProblem("W307", pos, f"{{: .{_short(value or '')} }}", "网站不支持的样式类，会被删除")
            elif name == "id":
                continue  # kept on headings (the toc anchors), dropped elsewhere: harmless
            elif not any(name in v for v in ATTRIBUTES.values()):
                yield MarkupProblem("W307", pos, f"{{: {name}=… }}", "这个属性不在允许范围内，会被删除")


def _short(s: str, n: int = 40) -> str:
    s = s.replace("\n", " ")
    return s if len(s) <= n else s[: n - 1] + "…"
