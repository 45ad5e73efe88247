"""What the first bytes of a file say it is: plain text among the signatures."""

import pytest

from core.uploads import sniff_file_type


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"Dear grader,\r\n\tmy essay.\x0c", "text"),
        ("Überlegungen zur Sicherheit".encode(), "text"),
        ("€uro".encode()[:2], "text"),  # a character cut by the sample's end is forgiven
        (b"\xef\xbb\xbfWith a BOM", "text"),
        (b"%PDF-1.7\n", "pdf"),  # signatures still win
        (b"MZ\x90\x00\x03\x00", None),  # a Windows program: control bytes
        (b"PK\x03\x04\x14\x00", None),  # ZIP (DOCX, XLSX, ...): not told apart
        (b"\xc3\x28 invalid UTF-8", None),
        (b"\xff\xfeU\x00T\x00F\x00", None),  # UTF-16: NUL bytes
        (b"text with DEL \x7f", None),
        (b"", None),
    ],
)
def test_sniff_plain_text(head, expected):
    assert sniff_file_type(head) == expected
