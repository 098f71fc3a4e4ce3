"""Reading a website's form post as browsers and form builders really send it: every enctype an HTML form has
(urlencoded, multipart, text/plain) and JSON, in whatever charset the page was in, repeated fields kept whole.

The HTML standard encodes a form in its page's encoding and says so nowhere but an optional ``_charset_`` field;
older PHP and Java sites declare ``charset=ISO-8859-1`` (which browsers treat as windows-1252, WHATWG Encoding
§4.2) or nothing at all. Django refuses a urlencoded body that declares anything but UTF-8 and decodes the others
with U+FFFD for every byte it cannot read, so the raw bytes are read here and each value decoded: by the declared
charset, else as UTF-8, else as windows-1252 (the WHATWG's legacy default for Western pages).
"""

import json
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

import webencodings
from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
TEXT_PLAIN = "text/plain"
JSON = "application/json"
ACCEPTED_TYPES = (URLENCODED, MULTIPART, TEXT_PLAIN, JSON)
CHARSET_FIELD = "_charset_"  # HTML standard, "Form submission": the browser fills it with the encoding it used
UTF8 = webencodings.lookup("utf-8")
LEGACY = webencodings.lookup("windows-1252")
BOM = "\ufeff"


class FormPostError(Exception):
    """A body that cannot be read as a form: ``status`` (400, 413, 415) and ``errors`` (field -> messages)."""

    def __init__(self, status: int, errors: dict):
        super().__init__(errors)
        self.status, self.errors = status, errors


@dataclass(frozen=True)
class NotedFile:
    """An uploaded file, read to its end and not kept: what a person needs to ask for it again."""

    field: str
    name: str
    content_type: str
    size: int

    def close(self) -> None:
        """Nothing to close; HttpRequest.close() closes every entry of request.FILES."""


@dataclass
class FormPost:
    """A post's fields in order, every value of a repeated field kept (checkbox groups); the files it named; the
    charset its text was read in ("utf-8", "windows-1252", "shift_jis"…)."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    files: list[NotedFile] = field(default_factory=list)
    charset: str = "utf-8"
    original: dict | None = None  # a JSON body as sent, kept verbatim in the event's payload

    def add(self, name: str, value: str) -> None:
        self.fields.setdefault(name, []).append(value)


class NoteFilesHandler(FileUploadHandler):
    """Upload handler that reads each file to its end and keeps only its name, type and size: a form's photo
    must not cost the lead, and files from the public internet are not stored."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.size = 0

    def receive_data_chunk(self, raw_data, start):
        self.size += len(raw_data)

    def file_complete(self, file_size):
        return NotedFile(
            field=self.field_name, name=self.file_name or "", content_type=self.content_type, size=file_size
        )


class _Decoder:
    """Decodes a post's raw values: by the declared encoding, else UTF-8, else windows-1252. ``used`` says which."""

    def __init__(self, label: str):
        self.declared = webencodings.lookup(label) if label else None
        self.used = self.declared.name if self.declared else UTF8.name

    def __call__(self, raw: bytes) -> str:
        encoding = self.declared
        if encoding is None or encoding is UTF8:
            try:
                return raw.decode("utf-8").removeprefix(BOM)
            except UnicodeDecodeError:
                # Declared UTF-8 or not declared, and not UTF-8: a legacy Western page.
                encoding = LEGACY
                self.used = LEGACY.name
        text, _ = webencodings.decode(raw, encoding, errors="replace")
        return text.removeprefix(BOM)


def _declared_charset(request: HttpRequest, raw_fields: list[tuple[str, bytes]]) -> str:
    """The Content-Type's charset, else the ``_charset_`` field's value, else ""; unknown labels count as none."""
    for label in (request.content_params.get("charset", ""), *(v for k, v in raw_fields if k == CHARSET_FIELD)):
        label = label.decode("latin-1") if isinstance(label, bytes) else label
        if webencodings.lookup(label.strip()):
            return label.strip()
    return ""


def _body(request: HttpRequest) -> bytes:
    try:
        return request.body
    except RequestDataTooBig as exc:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raise FormPostError(413, {"body": [f"The form's text is over {limit} bytes."]}) from exc


def _raw_urlencoded(body: bytes) -> list[tuple[str, bytes]]:
    # Latin-1 maps every byte to one character and back, so the percent-decoded bytes survive for _Decoder.
    try:
        pairs = parse_qsl(
            body.decode("latin-1"),
            keep_blank_values=True,
            encoding="latin-1",
            max_num_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS,
        )
    except ValueError as exc:
        raise FormPostError(400, {"body": [str(exc)]}) from exc
    return [(k, v.encode("latin-1")) for k, v in pairs]


def _raw_text_plain(body: bytes) -> list[tuple[str, bytes]]:
    """HTML's text/plain enctype: one ``name=value`` a line, unescaped; a line without "=" continues the value
    before it (a message with line breaks), which the standard admits is ambiguous."""
    pairs: list[tuple[str, bytes]] = []
    for line in body.replace(b"\r\n", b"\n").split(b"\n"):
        name, sep, value = line.partition(b"=")
        if sep and name.strip() and b" " not in name.strip():
            pairs.append((name.strip().decode("latin-1"), value))
        elif pairs and line:
            pairs[-1] = (pairs[-1][0], pairs[-1][1] + b"\n" + line)
    return pairs


def _raw_multipart(request: HttpRequest) -> tuple[list[tuple[str, bytes]], list[NotedFile]]:
    # Django's parser decodes every part with request.encoding; Latin-1 keeps the bytes for _Decoder instead.
    request.encoding = "latin-1"
    request.upload_handlers = [NoteFilesHandler(request)]
    try:
        post, files = request.POST, request.FILES
    except RequestDataTooBig as exc:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raise FormPostError(413, {"body": [f"The form's text is over {limit} bytes."]}) from exc
    except (MultiPartParserError, BadRequest, SuspiciousOperation) as exc:
        raise FormPostError(400, {"body": [f"Unreadable multipart body: {exc}"]}) from exc
    raw = [(k, v.encode("latin-1")) for k, values in post.lists() for v in values]
    return raw, [f for _, noted in files.lists() for f in noted]


def _json_post(request: HttpRequest) -> FormPost:
    body = _body(request)
    # RFC 8259 says UTF-8, but a declared legacy charset (or undeclared windows-1252) is read as the form's are.
    decode = _Decoder(request.content_params.get("charset", "").strip())
    try:
        data = json.loads(decode(body or b"{}"))
    except ValueError as exc:
        raise FormPostError(400, {"body": [f"Malformed JSON: {exc}"]}) from exc
    if not isinstance(data, dict):
        raise FormPostError(400, {"body": ["Send a JSON object."]})
    post = FormPost(charset=decode.used, original=data)
    for name, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            post.add(str(name), _json_text(item))
    return post


def _json_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def form_post_read(request: HttpRequest) -> FormPost:
    """Read a form post's body (any HTML enctype, or JSON) into a FormPost.

    Raises FormPostError: 415 for another content type (naming the accepted ones), 413 for text over
    DATA_UPLOAD_MAX_MEMORY_SIZE, 400 for a body that does not parse.
    """
    content_type = request.content_type
    if content_type == JSON or content_type.endswith("+json"):
        return _json_post(request)
    files: list[NotedFile] = []
    if content_type == URLENCODED:
        raw = _raw_urlencoded(_body(request).removeprefix(BOM.encode()))
    elif content_type == MULTIPART:
        raw, files = _raw_multipart(request)
    elif content_type == TEXT_PLAIN:
        raw = _raw_text_plain(_body(request).removeprefix(BOM.encode()))
    else:
        shown = content_type or "none"
        raise FormPostError(
            415, {"content_type": [f"'{shown}' is not a form; send one of: {', '.join(ACCEPTED_TYPES)}."]}
        )
    decode = _Decoder(_declared_charset(request, raw))
    post = FormPost(
        files=[
            NotedFile(*(decode(t.encode("latin-1")) for t in (f.field, f.name)), f.content_type, f.size) for f in files
        ]
    )
    for name, value in raw:
        if name != CHARSET_FIELD:
            post.add(decode(name.encode("latin-1")).strip(), decode(value))
    post.charset = decode.used
    return post
