"""A small PDF 1.4 writer: a couple of pages of text, no PDF library needed.

Standard Helvetica, WinAnsi text and a real cross-reference table. The demo's handouts and
the tests' uploads use it; nothing here knows about the demo.
"""

from __future__ import annotations

import re
import textwrap

PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4 in points
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 64, 72, 72
TEXT_WIDTH = PAGE_WIDTH - 2 * MARGIN_X

# Advance widths of Helvetica (per 1000 units of font size) for printable ASCII, from
# Adobe's published font metrics; used only to wrap lines, so a close value is enough.
_HELVETICA = dict(
    zip(
        (chr(c) for c in range(32, 127)),
        [278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278]
        + [556] * 10
        + [278, 278, 584, 584, 584, 556, 1015]
        + [667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833]
        + [722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611]
        + [278, 278, 278, 469, 556, 333]
        + [556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833]
        + [556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500]
        + [334, 260, 334, 584],
        strict=True,
    )
)
# Helvetica-Bold is wider; scaling the regular widths keeps wrapping on the safe side.
_BOLD_FACTOR = 1.08
# Typographic characters that WinAnsiEncoding has outside Latin-1, with their widths.
_WIN_ANSI_EXTRA = {
    "\u2022": (0x95, 350),  # bullet
    "\u2013": (0x96, 556),  # en dash
    "\u2014": (0x97, 1000),  # em dash
    "\u2018": (0x91, 222),
    "\u2019": (0x92, 222),
    "\u201c": (0x93, 333),
    "\u201d": (0x94, 333),
    "\u2026": (0x85, 1000),  # ellipsis
    "\u20ac": (0x80, 556),  # euro
}


def _text_width(text: str, size: float, bold: bool = False) -> float:
    units = 0
    for char in text:
        extra = _WIN_ANSI_EXTRA.get(char)
        units += extra[1] if extra else _HELVETICA.get(char, 556)
    return units * size / 1000 * (_BOLD_FACTOR if bold else 1)


def _pdf_string(text: str) -> bytes:
    """A PDF literal string in WinAnsiEncoding, kept 7-bit with octal escapes."""
    out = bytearray(b"(")
    for char in text:
        extra = _WIN_ANSI_EXTRA.get(char)
        code = extra[0] if extra else ord(char)
        if code > 0xFF:
            code = ord("?")
        if char in "()\\":
            out += b"\\" + char.encode()
        elif 32 <= code < 127:
            out.append(code)
        else:
            out += f"\\{code:03o}".encode()
    return bytes(out + b")")


def _wrap(text: str, width: float, size: float, bold: bool = False) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if line and _text_width(candidate, size, bold) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    return [*lines, line] if line else lines


class _Layout:
    """Places text top-down on A4 pages; each page is a list of PDF drawing operators."""

    def __init__(self) -> None:
        self.pages: list[list[bytes]] = []
        self.y = 0.0
        self._new_page()

    def _new_page(self) -> None:
        self.pages.append([])
        self.y = PAGE_HEIGHT - MARGIN_TOP

    def ensure(self, height: float) -> None:
        if self.y - height < MARGIN_BOTTOM:
            self._new_page()

    def text(self, x: float, text: str, *, size: float, bold: bool = False, grey: float = 0.0) -> None:
        font = b"/F2" if bold else b"/F1"
        self.pages[-1].append(
            b"BT %s %g Tf %g g 1 0 0 1 %g %.2f Tm %s Tj ET" % (font, size, grey, x, self.y, _pdf_string(text))
        )

    def rule(self) -> None:
        self.pages[-1].append(
            b"0.75 G 0.8 w %g %.2f m %g %.2f l S" % (MARGIN_X, self.y, PAGE_WIDTH - MARGIN_X, self.y)
        )


def _blocks(source: str) -> list[tuple[str, str]]:
    """Split the document text into ("h", heading), ("li", item) and ("p", paragraph) blocks."""
    blocks = []
    for chunk in re.split(r"\n\s*\n", textwrap.dedent(source).strip()):
        lines = [line.strip() for line in chunk.strip().splitlines()]
        if lines[0].startswith("## "):
            blocks.append(("h", lines[0][3:].strip()))
            lines = lines[1:]
        items, paragraph = [], []
        for line in lines:
            if line.startswith("- "):
                items.append(line[2:])
            elif items:  # a continuation line of the last item
                items[-1] += " " + line
            else:
                paragraph.append(line)
        if paragraph:
            blocks.append(("p", " ".join(paragraph)))
        blocks.extend(("li", item) for item in items)
    return blocks


def pdf_document(*, title: str, subtitle: str, body: str) -> bytes:
    """A PDF 1.4 file: the title, a subtitle, then `body` laid out over as many pages as needed.

    `body` is plain text: blank lines separate blocks, a block starting with "## " opens
    with a heading, and lines starting with "- " are bullet items.
    """
    layout = _Layout()
    for line in _wrap(title, TEXT_WIDTH, 22, bold=True):
        layout.y -= 22
        layout.text(MARGIN_X, line, size=22, bold=True)
        layout.y -= 6
    layout.y -= 16
    layout.text(MARGIN_X, subtitle, size=11, grey=0.4)
    layout.y -= 12
    layout.rule()
    layout.y -= 8
    for kind, text in _blocks(body):
        if kind == "h":
            layout.ensure(18 + 14 + 3 * 15)  # keep a heading with the start of what follows
            layout.y -= 18
            layout.y -= 14
            layout.text(MARGIN_X, text, size=14, bold=True)
            layout.y -= 4
        elif kind == "p":
            layout.y -= 6
            for line in _wrap(text, TEXT_WIDTH, 11):
                layout.ensure(15)
                layout.y -= 15
                layout.text(MARGIN_X, line, size=11)
            layout.y -= 4
        else:
            indent = 16
            for index, line in enumerate(_wrap(text, TEXT_WIDTH - indent, 11)):
                layout.ensure(15)
                layout.y -= 15
                if index == 0:
                    layout.text(MARGIN_X + 3, "\u2022", size=11)
                layout.text(MARGIN_X + indent, line, size=11)
            layout.y -= 2

    total = len(layout.pages)
    for number, operators in enumerate(layout.pages, start=1):
        layout.pages[number - 1] = [
            *operators,
            b"BT /F1 9 Tf 0.45 g 1 0 0 1 %g 40 Tm %s Tj ET"
            % (MARGIN_X, _pdf_string(f"{title} \u2013 page {number} of {total}")),
        ]
    return _pdf_file(title, [b"\n".join(ops) + b"\n" for ops in layout.pages])


def _pdf_file(title: str, page_streams: list[bytes]) -> bytes:
    """Serialize pages (content streams) into a PDF with a byte-exact xref table."""
    # Object numbers: 1 catalog, 2 page tree, 3 and 4 fonts, 5 info, then a page and
    # its content stream for each page.
    page_ids = [6 + 2 * index for index in range(len(page_streams))]
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % pid for pid in page_ids), len(page_ids)),
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        4: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        5: b"<< /Title %s /Producer (LMS demo seed) >>" % _pdf_string(title),
    }
    for pid, stream in zip(page_ids, page_streams, strict=True):
        objects[pid] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
            b"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents %d 0 R >>"
            % (PAGE_WIDTH, PAGE_HEIGHT, pid + 1)
        )
        objects[pid + 1] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream)

    # The second line's high bytes tell tools that the file is binary, as the spec advises.
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, objects[number])
    xref_at = len(out)
    size = max(objects) + 1
    out += b"xref\n0 %d\n" % size
    out += b"0000000000 65535 f \n"  # every entry is exactly 20 bytes, end of line included
    for number in range(1, size):
        out += b"%010d 00000 n \n" % offsets[number]
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref_at)
    return bytes(out)
