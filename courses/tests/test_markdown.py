from html.parser import HTMLParser

import pytest

from courses.embeds import embed_player_url
from courses.markdown import render_markdown

# Known ways to run script through Markdown/HTML; none may survive sanitizing.
XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "![x](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    "<body onload=alert(1)>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<math><mi xlink:href=javascript:alert(1)>x</mi></math>",
    "<object data=javascript:alert(1)></object>",
    "<embed src=javascript:alert(1)>",
    '<form action="javascript:alert(1)"><button>x</button></form>',
    "<details open ontoggle=alert(1)>",
    '<img src="x" onerror="alert(1)"/>',
    "<<script>script>alert(1)<</script>/script>",
    '<a href="https://example.com" onclick="alert(1)">x</a>',
    "<meta http-equiv=refresh content=0;url=javascript:alert(1)>",
    "<style>*{background:red}</style>",
    '<base href="javascript:alert(1)//">',
    "<input autofocus onfocus=alert(1)>",
    "<video><source onerror=alert(1)></video>",
]


class _Inspector(HTMLParser):
    """Collects every tag and attribute of the sanitized output."""

    def __init__(self):
        super().__init__()
        self.tags, self.attributes = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend((name.lower(), (value or "").strip().lower()) for name, value in attrs)


DANGEROUS_TAGS = {
    "script",
    "iframe",
    "object",
    "embed",
    "form",
    "style",
    "meta",
    "base",
    "svg",
    "math",
    "input",
    "body",
    "video",
    "source",
    "details",
}


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_no_script_event_handler_or_javascript_url_survives(payload):
    inspector = _Inspector()
    inspector.feed(str(render_markdown(f"Intro\n\n{payload}\n\nOutro")))
    assert not DANGEROUS_TAGS & set(inspector.tags)
    for name, value in inspector.attributes:
        assert not name.startswith("on"), (payload, name)
        assert name != "style", payload
        if name in {"href", "src"}:
            assert value.startswith(("http://", "https://", "mailto:")) or (
                "://" not in value and ":" not in value
            ), (payload, value)


def test_ordinary_markdown_is_kept():
    html = str(
        render_markdown(
            "# Title\n\nSome **bold** and [a link](https://example.com).\n\n| a | b |\n|---|---|\n| 1 | 2 |"
        )
    )
    assert "<strong>bold</strong>" in html
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">a link</a>' in html
    assert "<table>" in html


@pytest.mark.parametrize(
    ("url", "player"),
    [
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"),
        ("https://youtu.be/dQw4w9WgXcQ", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"),
        ("https://vimeo.com/76979871", "https://player.vimeo.com/video/76979871"),
        ("http://www.youtube.com/watch?v=dQw4w9WgXcQ", None),
        ("https://evil.example.com/watch?v=dQw4w9WgXcQ", None),
        ("https://www.youtube.com.evil.com/watch?v=dQw4w9WgXcQ", None),
        ("https://www.youtube.com/watch?v=<script>", None),
        ("javascript:alert(1)", None),
        ("https://vimeo.com/abc", None),
        ("", None),
    ],
)
def test_embed_allow_list(url, player):
    assert embed_player_url(url) == player
