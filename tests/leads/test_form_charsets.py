"""Form posts in the charsets pages really have: declared (Java, old PHP), undeclared windows-1252, a BOM, Shift_JIS.

Bodies are built byte for byte as browsers and HTTP libraries write them; each is posted urlencoded and multipart.
They go through ``Client.generic``: ``Client.post`` re-encodes a bytes body into the charset its Content-Type
declares, which would send UTF-8 bytes transcoded rather than the bytes a browser sends.
"""

from urllib.parse import quote_from_bytes

import pytest
from django.test import Client

from leads.models import InboundEvent

pytestmark = pytest.mark.django_db

URL = "/capture/form/website-quote/"
BOUNDARY = "----WebKitFormBoundaryx8Ks3mQjv0Z1gW4p"
BOM = b"\xef\xbb\xbf"


def urlencoded(fields: list[tuple[str, str]], encoding: str) -> bytes:
    """application/x-www-form-urlencoded as a browser writes it: each byte of the page's encoding percent-escaped."""
    pairs = (quote_from_bytes(k.encode(encoding)) + "=" + quote_from_bytes(v.encode(encoding)) for k, v in fields)
    return "&".join(pairs).encode("ascii")


def multipart(fields: list[tuple[str, str]], encoding: str) -> bytes:
    """multipart/form-data as a browser writes it: names and values as raw bytes in the page's encoding."""
    out = b""
    for name, value in fields:
        head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode(encoding)
        out += head + value.encode(encoding) + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def send(kind: str, fields, encoding: str, *, declared: str | None, prefix: bytes = b""):
    """Post ``fields`` encoded in ``encoding``; ``declared`` is the charset the Content-Type names (None: none)."""
    if kind == "urlencoded":
        body, content_type = urlencoded(fields, encoding), "application/x-www-form-urlencoded"
    else:
        body, content_type = multipart(fields, encoding), f"multipart/form-data; boundary={BOUNDARY}"
    if declared:
        content_type += f"; charset={declared}"
    return raw_post(prefix + body, content_type)


def raw_post(body: bytes, content_type: str):
    return Client(REMOTE_ADDR="203.0.113.20").generic("POST", URL, body, content_type=content_type)


KINDS = pytest.mark.parametrize("kind", ["urlencoded", "multipart"])


@KINDS
@pytest.mark.parametrize("declared", ["ISO-8859-1", "iso-8859-1", "latin1"])
def test_declared_iso_8859_1_is_read(demo, kind, declared):
    fields = [("name", "Renée Côté"), ("phone", "514-555-0147"), ("message", "Toiture à refaire, ça presse")]
    response = send(kind, fields, "latin-1", declared=declared)
    assert response.status_code == 202, response.content
    event = InboundEvent.objects.get()
    assert (event.name, event.message) == ("Renée Côté", "Toiture à refaire, ça presse")
    assert event.lead.name == "Renée Côté"


@KINDS
@pytest.mark.parametrize("declared", ["windows-1252", "ISO-8859-1", None])
def test_windows_1252_smart_quotes_and_euro_sign(demo, kind, declared):
    """Word's “smart quotes” (0x93/0x94) and € (0x80) are windows-1252 only: a page declaring ISO-8859-1 sends them
    too (browsers use windows-1252 for that label, WHATWG Encoding), and an undeclared post is not UTF-8."""
    message = "“Two storeys” – about €4,000?"
    fields = [("name", "Zoë O’Brien"), ("email", "zoe@example.com"), ("message", message)]
    response = send(kind, fields, "cp1252", declared=declared)
    assert response.status_code == 202, response.content
    event = InboundEvent.objects.get()
    assert (event.name, event.message) == ("Zoë O’Brien", message)
    assert "\ufffd" not in event.message
    assert event.payload["form_post"]["charset"] == "windows-1252"


@KINDS
def test_utf_8_with_a_byte_order_mark(demo, kind):
    fields = [("name", "\ufeffRenée Côté"), ("phone", "514-555-0147"), ("message", "Toit ✓")]
    response = send(kind, fields, "utf-8", declared=None, prefix=BOM if kind == "urlencoded" else b"")
    assert response.status_code == 202, response.content
    event = InboundEvent.objects.get()
    assert (event.name, event.message) == ("Renée Côté", "Toit ✓")
    assert event.payload["form_post"]["charset"] == "utf-8"


def test_a_bom_before_the_first_field_name_does_not_hide_the_field(demo):
    body = BOM + urlencoded([("phone", "514-555-0147"), ("name", "Ana")], "utf-8")
    response = raw_post(body, "application/x-www-form-urlencoded")
    assert response.status_code == 202
    assert InboundEvent.objects.get().phone == "514-555-0147"


@KINDS
@pytest.mark.parametrize(("encoding", "declared"), [("shift_jis", "Shift_JIS"), ("euc-kr", "EUC-KR")])
def test_other_declared_charsets(demo, kind, encoding, declared):
    name, message = (
        ("山田太郎", "屋根の見積もりをお願いします")
        if encoding == "shift_jis"
        else ("김민수", "지붕 견적 부탁드립니다")
    )
    fields = [("name", name), ("email", "lead@example.jp"), ("message", message)]
    response = send(kind, fields, encoding, declared=declared)
    assert response.status_code == 202, response.content
    event = InboundEvent.objects.get()
    assert (event.name, event.message) == (name, message)


@KINDS
def test_the_charset_field_browsers_fill_names_the_encoding(demo, kind):
    """HTML's ``_charset_`` hidden field: the browser puts the encoding it used there, and no header says it."""
    fields = [("_charset_", "Shift_JIS"), ("name", "山田太郎"), ("email", "yamada@example.jp")]
    response = send(kind, fields, "shift_jis", declared=None)
    assert response.status_code == 202, response.content
    event = InboundEvent.objects.get()
    assert event.name == "山田太郎" and "_charset_" not in event.payload


def test_an_unknown_declared_charset_falls_back_to_reading_the_bytes(demo):
    fields = [("name", "Renée"), ("phone", "514-555-0147")]
    response = send("urlencoded", fields, "cp1252", declared="x-made-up")
    assert response.status_code == 202
    assert InboundEvent.objects.get().name == "Renée"


def test_json_declaring_a_legacy_charset_and_json_with_a_bom(demo):
    legacy = '{"name": "Renée Côté", "phone": "514-555-0147"}'.encode("latin-1")
    one = raw_post(legacy, "application/json; charset=ISO-8859-1")
    bom = BOM + '{"name": "Zoë", "phone": "514-555-0148"}'.encode()
    two = raw_post(bom, "application/json")
    assert (one.status_code, two.status_code) == (202, 202)
    assert sorted(InboundEvent.objects.values_list("name", flat=True)) == ["Renée Côté", "Zoë"]


def test_text_plain_in_a_legacy_charset(demo):
    body = "name=Renée Côté\r\nphone=514-555-0147\r\n".encode("cp1252")
    assert raw_post(body, "text/plain; charset=windows-1252").status_code == 202
    assert InboundEvent.objects.get().name == "Renée Côté"
