"""Read back the files a report PDF embeds (its attachments), without a PDF library.

weasyprint (through pydyf) writes each attachment as an `/EmbeddedFile` stream object
(FlateDecode) and names it in a `/Filespec` dictionary (`/F (findings.csv) ... /EF <</F 844 0 R>>`)
that may sit inside a compressed object stream (`/ObjStm`). This reader handles exactly
that shape, bounded in the bytes it will inflate; anything else is "unreadable", which for
`auditor verify` means the PDF is not the one the pack was written with.
"""

from __future__ import annotations

import re
import zlib

MAX_INFLATE = 1024**3

_OBJSTM = re.compile(rb"<<(?:(?!>>\s*stream).)*?/Type\s*/ObjStm(?:(?!>>\s*stream).)*>>\s*stream\r?\n", re.S)
_FILESPEC = re.compile(rb"/Type\s*/Filespec")
_NAME = re.compile(rb"/F\s*\(((?:[^()\\]|\\.)*)\)", re.S)
_EF = re.compile(rb"/EF\s*<<\s*/F\s+(\d+)\s+(\d+)\s+R", re.S)
_LENGTH = re.compile(rb"/Length\s+(\d+)(\s+\d+\s+R)?")


class PdfReadError(Exception):
    pass


def _inflate(data: bytes, budget: list[int]) -> bytes:
    d = zlib.decompressobj()
    try:
        out = d.decompress(data, budget[0] + 1)
    except zlib.error as exc:
        raise PdfReadError(f"corrupt compressed stream: {exc}") from None
    if len(out) > budget[0] or d.unconsumed_tail:
        raise PdfReadError("the PDF inflates to more data than auditor will read")
    budget[0] -= len(out)
    return out


def _stream_after(pdf: bytes, dict_start: int, dict_end: int, body_start: int) -> tuple[bytes, bool]:
    head = pdf[dict_start:dict_end]
    m = _LENGTH.search(head)
    if m is None or m.group(2):
        end = pdf.find(b"endstream", body_start)
        if end < 0:
            raise PdfReadError("stream without end")
        raw = pdf[body_start:end].rstrip(b"\r\n")
    else:
        raw = pdf[body_start : body_start + int(m.group(1))]
    return raw, b"/FlateDecode" in head


def _dict_at(text: bytes, pos: int) -> bytes:
    """The balanced `<< ... >>` dictionary that contains position `pos`."""
    start = text.rfind(b"<<", 0, pos)
    if start < 0:
        raise PdfReadError("malformed dictionary")
    depth = 0
    i = start
    while i < len(text) - 1:
        two = text[i : i + 2]
        if text[i : i + 1] == b"(":  # skip a literal string (names and descriptions)
            j = i + 1
            nest = 1
            while j < len(text) and nest:
                c = text[j : j + 1]
                if c == b"\\":
                    j += 2
                    continue
                nest += 1 if c == b"(" else -1 if c == b")" else 0
                j += 1
            i = j
            continue
        if two == b"<<":
            depth += 1
            i += 2
            continue
        if two == b">>":
            depth -= 1
            i += 2
            if depth == 0:
                return text[start:i]
            continue
        i += 1
    raise PdfReadError("unterminated dictionary")


def _unescape(name: bytes) -> str:
    out = re.sub(rb"\\([()\\])", rb"\1", name)
    return out.decode("latin-1")


def embedded_files(pdf: bytes, max_bytes: int = MAX_INFLATE) -> dict[str, bytes]:
    """Attachment name -> content, for every file embedded in `pdf`. Raises PdfReadError."""
    if not pdf.startswith(b"%PDF-"):
        raise PdfReadError("not a PDF")
    budget = [max_bytes]
    texts = [pdf]
    for m in _OBJSTM.finditer(pdf):
        raw, flate = _stream_after(pdf, m.start(), m.end(), m.end())
        texts.append(_inflate(raw, budget) if flate else raw)
    refs: dict[str, int] = {}
    for text in texts:
        for m in _FILESPEC.finditer(text):
            spec = _dict_at(text, m.start())
            name = _NAME.search(spec)
            ef = _EF.search(spec)
            if name is None or ef is None:
                raise PdfReadError("an attachment without a name or a file")
            key = _unescape(name.group(1))
            if key in refs and refs[key] != int(ef.group(1)):
                raise PdfReadError(f"two attachments named {key!r}")
            refs[key] = int(ef.group(1))
    out: dict[str, bytes] = {}
    for key, num in refs.items():
        obj = re.search(rb"(?<![0-9])" + str(num).encode() + rb"\s+0\s+obj\s*<<", pdf)
        if obj is None:
            raise PdfReadError(f"the file of attachment {key!r} is missing")
        spec = _dict_at(pdf, obj.end())
        dict_end = obj.end() - 2 + len(spec)
        stream = re.match(rb"\s*stream\r?\n", pdf[dict_end : dict_end + 20])
        if stream is None or not re.search(rb"/Type\s*/EmbeddedFile", spec):
            raise PdfReadError(f"attachment {key!r} is not an embedded file stream")
        body = dict_end + stream.end()
        raw, flate = _stream_after(pdf, obj.end() - 2, dict_end, body)
        out[key] = _inflate(raw, budget) if flate else raw
    return out
