"""Markdown to safe HTML: authors write Markdown, learners get sanitized HTML.

Rendering happens on output (the stored text stays what the author typed), and nh3
(a Rust HTML sanitizer) removes scripts, event handlers, style, and any URL scheme
other than http, https and mailto. Then every image that is not the tenant's own media
(or one of the site's static files) becomes its alt text: a learner's browser fetches
nothing from another host by opening a page (no tracking pixels; ADR 0079).
"""

import re
from html import escape
from html.parser import HTMLParser

import markdown as md
import nh3
from django.utils.safestring import SafeString, mark_safe

# Part of the cache key of rendered outlines (courses.selectors): bump it when the rules
# below change, so no page keeps serving HTML sanitized under the old ones.
SANITIZER_VERSION = 2

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "dd",
    "del",
    "div",
    "dl",
    "dt",
    "em",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"align"},
    "th": {"align"},
    "code": {"class"},
    "span": {"class"},
    "div": {"class"},
    "abbr": {"title"},
}
URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text: str) -> SafeString:
    html = md.markdown(text or "", extensions=["extra", "sane_lists"], output_format="html")
    # The page's <h1> is the lesson or course title: an author's "# Heading" becomes <h2>.
    html = html.replace("<h1>", "<h2>").replace("<h1 ", "<h2 ").replace("</h1>", "</h2>")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return mark_safe(_own_images_only(clean))  # noqa: S308 - sanitized by nh3 just above


# What an <img> may load: a media file of this site, /media/<asset uuid>/ (the file) or
# /media/<asset uuid>/poster/, both asking the access policy of the tenant whose host the
# page is on (another tenant's asset id is a 404 there), or a static file of the site.
# Path-absolute only: no scheme, no "//" host, no backslash (read as "/" by browsers), no
# "%" (an encoded "." or "/"), no dot segments, no whitespace (browsers drop tabs and
# newlines inside URLs, so "/\t/evil" would be "//evil").
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_OWN_IMAGE = re.compile(
    rf"/media/{_UUID}/(?:poster/)?|/static/(?:[A-Za-z0-9_-][A-Za-z0-9_.-]*/)*[A-Za-z0-9_.-]+"
)
_DOT_SEGMENT = re.compile(r"(?:^|/)\.{1,2}(?:/|$)")


def is_own_image(src: str | None) -> bool:
    """Whether an image address is one a learner's browser may load from this site."""
    return src is not None and _OWN_IMAGE.fullmatch(src) is not None and not _DOT_SEGMENT.search(src)


class _ImageFilter(HTMLParser):
    """Copies nh3's (well-formed, normalized) output, turning foreign images into their alt text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []

    def _image(self, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if is_own_image(values.get("src")):
            # Called from handle_starttag, so the start tag's text is there.
            self.out.append(self.get_starttag_text() or "")
        elif alt := values.get("alt"):
            self.out.append(escape(alt, quote=False))

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self._image(attrs)
        else:
            self.out.append(self.get_starttag_text())

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        self.out.append(f"</{tag}>")

    def handle_data(self, data):
        self.out.append(data)

    def handle_entityref(self, name):
        self.out.append(f"&{name};")

    def handle_charref(self, name):
        self.out.append(f"&#{name};")


def _own_images_only(html: str) -> str:
    if "<img" not in html:
        return html
    parser = _ImageFilter()
    parser.feed(html)
    parser.close()
    return "".join(parser.out)
