"""Markdown that staff write, turned into HTML that is safe to show to everyone."""

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

# The page's own title is the only <h1>; headings in the text start at <h2>.
TAGS = {
    "a",
    "abbr",
    "blockquote",
    "br",
    "code",
    "em",
    "h2",
    "h3",
    "h4",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ATTRIBUTES = {"a": {"href", "title", "hreflang"}, "abbr": {"title"}, "th": {"scope"}}
SCHEMES = {"http", "https", "mailto"}
HEADINGS = {"h1": "h2", "h5": "h4", "h6": "h4"}

# Raw HTML in the source is shown as text; nh3 then removes anything the renderer let through.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_markdown.enable("table")


@lru_cache(maxsize=512)
def _render(text):
    tokens = _markdown.parse(text)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = HEADINGS.get(token.tag, token.tag)
    html = _markdown.renderer.render(tokens, _markdown.options, {})
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=SCHEMES,
        link_rel="noopener noreferrer",
    )


def render_markdown(text):
    """``text`` (Markdown) as sanitised HTML, ready for a template.

    Pure function of the text, so it is memoised: a page read a thousand times is
    rendered once per process, and an edit simply renders a new text.
    """
    return Markup(_render(text or ""))
