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


# --- Images: only the tenant's own media (issue #11, finding 7) ---------------------------

ASSET = "0b5e3c1a-1111-4222-8333-444455556666"

REMOTE_IMAGES = [
    "![tracking pixel](https://evil.example/p.gif)",
    "![tracking pixel](http://evil.example/p.gif)",
    "![tracking pixel](HTTPS://evil.example/p.gif)",
    "![tracking pixel](//evil.example/p.gif)",
    '<img src="//evil.example/p.gif" alt="tracking pixel">',
    '<img src="/\\evil.example/p.gif" alt="tracking pixel">',
    '<img src="\\\\evil.example/p.gif" alt="tracking pixel">',
    '<img src="/&#9;/evil.example/p.gif" alt="tracking pixel">',
    '<img src=" //evil.example/p.gif" alt="tracking pixel">',
    "![tracking pixel](data:image/gif;base64,R0lGODlhAQABAAAAACw=)",
    f"![tracking pixel](/media/{ASSET}/../../accounts/logout/)",
    f"![tracking pixel](/media/{ASSET}/%2e%2e/%2e%2e/evil)",
    "![tracking pixel](/accounts/logout/)",
    "![tracking pixel](p.gif)",
    "![tracking pixel](/static/../accounts/logout/)",
    f"![tracking pixel](https://acme.localhost/media/{ASSET}/)",
]


@pytest.mark.parametrize("markdown", REMOTE_IMAGES)
def test_an_image_from_anywhere_but_the_tenants_media_becomes_its_alt_text(markdown):
    html = str(render_markdown(f"Before {markdown} after"))
    inspector = _Inspector()
    inspector.feed(html)
    assert "img" not in inspector.tags, html
    assert "Before tracking pixel after" in html


@pytest.mark.parametrize("src", [f"/media/{ASSET}/", f"/media/{ASSET}/poster/", "/static/img/diagram-2.png"])
def test_the_tenants_own_media_and_static_images_are_kept(src):
    html = str(render_markdown(f'![A diagram]({src} "Figure 1")'))
    assert f'<img alt="A diagram" src="{src}" title="Figure 1">' in html


def test_an_image_without_alt_text_leaves_nothing_and_alt_text_stays_text():
    html = str(
        render_markdown('![](https://evil.example/p.gif) <img src="https://e/x" alt="<b>bold</b> &amp;">')
    )
    assert "<img" not in html and "<b>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp;" in html


# Every way HTML can make the browser fetch something on its own; only <a href> may keep a
# remote address (a link is fetched when the learner clicks it, never by opening the page).
AUTO_FETCHES = [
    '<iframe src="https://evil.example/"></iframe>',
    '<img src="/media/' + ASSET + '/" srcset="https://evil.example/p.gif 2x" alt="x">',
    '<picture><source srcset="https://evil.example/p.gif"><img src="/media/' + ASSET + '/"></picture>',
    '<div style="background:url(https://evil.example/p.gif)">x</div>',
    "<style>body{background:url(https://evil.example/p.gif)}</style>",
    '<link rel="stylesheet" href="https://evil.example/s.css">',
    '<link rel="prefetch" href="https://evil.example/p">',
    '<video poster="https://evil.example/p.gif" src="https://evil.example/v.mp4"></video>',
    '<audio src="https://evil.example/a.mp3" autoplay></audio>',
    '<object data="https://evil.example/o"></object>',
    '<embed src="https://evil.example/e">',
    '<table background="https://evil.example/p.gif"><tr><td>x</td></tr></table>',
    '<svg><image href="https://evil.example/p.gif"/></svg>',
    '<input type="image" src="https://evil.example/p.gif">',
    '<a href="https://evil.example/" ping="https://evil.example/ping">link</a>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    f'![x](/media/{ASSET}/){{: srcset="https://evil.example/p 2x" style="background:url(//evil.example/)"}}',
]


@pytest.mark.parametrize("payload", AUTO_FETCHES)
def test_nothing_but_a_link_keeps_a_remote_address(payload):
    inspector = _Inspector()
    html = str(render_markdown(f"Intro\n\n{payload}\n\nOutro"))
    inspector.feed(html)
    assert "evil.example" not in html.replace('href="https://evil.example/"', ""), html
    assert not {"iframe", "source", "picture", "link", "video", "audio", "style", "meta"} & set(
        inspector.tags
    )


def test_a_remote_link_stays_a_link_that_sends_no_referrer():
    html = str(render_markdown("[the spec](https://example.com/spec)"))
    assert '<a href="https://example.com/spec" rel="noopener noreferrer nofollow">the spec</a>' in html


@pytest.mark.django_db
def test_a_published_lesson_shows_no_remote_image(in_tenant):
    from django.contrib.auth import get_user_model

    from courses.models import Lesson
    from courses.selectors import outline_for
    from courses.services import course_publish
    from courses.tests.factories import make_course

    course = make_course(slug="pixel", lessons=1, publish=False)
    Lesson.objects.filter(module__course=course).update(
        body=f"![pixel](https://evil.example/p.gif)\n\n![chart](/media/{ASSET}/)"
    )
    course_publish(actor=get_user_model().objects.get(email="admin@acme.test"), course=course)
    course.refresh_from_db()
    html = outline_for(course).lessons[0].html
    assert "evil.example" not in html and f'src="/media/{ASSET}/"' in html and "pixel" in html
