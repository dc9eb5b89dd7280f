"""What an uploaded file is, decided from its bytes (never from the name or the type the client
sent), and a file name that is safe to store and to offer for download.

Allowed: PNG, JPEG, GIF, WebP, PDF, ZIP (docx and xlsx are ZIP files and are recognised as
such), and plain text (logs, CSV, JSON) in UTF-8 or GB18030. Markup and script — HTML, SVG, XML,
JavaScript — is refused even when it is named ``.txt``: a browser, or a user double-clicking a
download, could run it. So are names with an extension that executes or renders as markup.
"""
from __future__ import annotations

import io
import json
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
INLINE_TYPES = frozenset(IMAGE_TYPES) | {"application/pdf"}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: extensions a desktop or a browser would render as markup or run, whatever the content
REFUSED_EXTENSIONS = frozenset({
    "htm", "html", "xhtml", "shtml", "mht", "mhtml", "svg", "svgz", "xml", "xsl", "xslt", "js", "mjs", "cjs",
    "jsx", "ts", "vbs", "vbe", "wsf", "wsh", "hta", "exe", "com", "bat", "cmd", "scr", "msi", "msp", "dll",
    "ps1", "psm1", "jar", "sh", "php", "asp", "aspx", "jsp", "swf", "lnk", "reg", "url", "desktop",
})

#: markup or script anywhere in a text: enough to refuse it
_MARKUP = re.compile(
    r"<\s*(?:script|html|svg|iframe|frame|frameset|object|embed|applet|body|head|meta|link|style|base|form"
    r"|img|math|xml|!doctype|!\[cdata\[)\b|<\?xml|<!--|javascript:|vbscript:", re.I)
#: a text that starts like a program in JavaScript
_SCRIPT_START = re.compile(
    r"^(?:(?:async\s+)?function\s*\*?\s*[\w$]*\s*\(|(?:var|let|const)\s+[\w$]+\s*[=;,]|(?:var|let|const)\s*[\[{]"
    r"|import\s+(?:[\w$]+\s*(?:,|from\b)|[{*'\"])|import\s*\(|export\s+(?:default|const|let|var|function|class|async)\b"
    r"|export\s*[{*]|class\s+[\w$]+\s*(?:extends\b|\{)|[(!]\s*function\b|['\"]use strict['\"]|#!)")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")  # tab, LF, FF, CR and ESC are text


@dataclass(frozen=True)
class Sniffed:
    content_type: str  # what the download is served as
    extension: str  # the usual extension, for a name without one

    @property
    def inline(self) -> bool:
        return self.content_type in INLINE_TYPES


class Refused(ValueError):
    """Not a type caseflow stores; the message says why."""


def _zip_kind(data: bytes) -> Sniffed:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise Refused("a damaged ZIP file") from exc
    if "[Content_Types].xml" in names:
        if any(n.startswith("word/") for n in names):
            return Sniffed(DOCX, "docx")
        if any(n.startswith("xl/") for n in names):
            return Sniffed(XLSX, "xlsx")
    return Sniffed("application/zip", "zip")


def _decode(data: bytes) -> tuple[str, str] | None:
    """The text and its charset, if ``data`` is UTF-8 or GB18030 text."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for charset in ("utf-8", "gb18030"):
        try:
            return data.decode(charset), charset
        except UnicodeDecodeError:
            continue
    return None


def _text_kind(text: str, charset: str, extension: str) -> Sniffed:
    if _CONTROL.search(text):
        raise Refused("binary content of a type that is not allowed")
    head = text.lstrip("\ufeff \t\r\n")
    if head.startswith("<") or _MARKUP.search(text):
        raise Refused("HTML, SVG or XML markup is not allowed, whatever the file is called")
    if _SCRIPT_START.match(head) or re.search(r"<\s*/?\s*script", text, re.I):
        raise Refused("scripts are not allowed, whatever the file is called")
    if extension == "csv":
        return Sniffed(f"text/csv; charset={charset}", "csv")
    if extension == "json" and charset == "utf-8":
        try:
            json.loads(text)
            return Sniffed("application/json", "json")
        except ValueError:
            pass
    return Sniffed(f"text/plain; charset={charset}", extension if extension in ("log", "csv") else "txt")


def sniff(data: bytes, filename: str) -> Sniffed:
    """The type of ``data`` (a Refused error when it is not one caseflow stores)."""
    extension = PurePosixPath(filename).suffix.lower().lstrip(".")
    if extension in REFUSED_EXTENSIONS:
        raise Refused(f"files named .{extension} are not allowed")
    if not data:
        raise Refused("the file is empty")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("image/png", "png")
    if data.startswith(b"\xff\xd8\xff"):
        return Sniffed("image/jpeg", "jpg")
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return Sniffed("image/gif", "gif")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return Sniffed("image/webp", "webp")
    if data.startswith(b"%PDF-"):
        return Sniffed("application/pdf", "pdf")
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return _zip_kind(data)
    decoded = _decode(data)
    if decoded is None:
        raise Refused("not an allowed type (images, PDF, ZIP, Office documents, text in UTF-8 or GB18030)")
    return _text_kind(*decoded, extension)


MAX_NAME = 200
_UNSAFE = re.compile(r'[<>:"|?*\\/]')


def clean_filename(name: str | None, sniffed: Sniffed) -> str:
    """The last path component of ``name`` without control or format characters (bidi overrides
    included) and characters file systems refuse; Chinese and other letters stay."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn"))
    name = _UNSAFE.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    if not name:
        name = f"attachment.{sniffed.extension}"
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:MAX_NAME - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:MAX_NAME]
    return name
