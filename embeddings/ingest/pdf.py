"""The text layer of a PDF, as lines with their position on the page (pypdfium2, PDFium's bindings).

Positions matter: a PDF has no paragraphs, only lines placed on a page, and the vertical gap between
two lines is what tells a paragraph break from a wrapped line (cleaning.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from embeddings.ingest.errors import IngestError


@dataclass(frozen=True)
class Line:
    """One line of a page: its text and its box (PDF points, y growing upwards)."""

    text: str
    left: float
    bottom: float
    right: float
    top: float

    @property
    def height(self) -> float:
        return self.top - self.bottom


@dataclass(frozen=True)
class PdfText:
    pages: list[list[Line]]
    title: str
    """The document's own Title metadata, when it has one."""
    created: str
    """Its CreationDate metadata (`D:20241108...`), when it has one."""


def read_pdf(data: bytes, name: str) -> PdfText:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise IngestError(f"{name} is encrypted (password-protected); save an unprotected copy") from None
        raise IngestError(f"{name} is not a readable PDF ({exc})") from None
    try:
        pages = [_page_lines(document[i]) for i in range(len(document))]
        meta = document.get_metadata_dict(skip_empty=True)
    finally:
        document.close()
    if not any(line.text.strip() for page in pages for line in page):
        raise IngestError(
            f"{name} has no text layer (a scanned image?); OCR is not supported: add a PDF with text, or a .txt"
        )
    return PdfText(pages, str(meta.get("Title", "")).strip(), str(meta.get("CreationDate", "")))


def _page_lines(page: object) -> list[Line]:
    """PDFium reports text as rectangles in reading order; rectangles that share a baseline band
    form one line."""
    textpage = page.get_textpage()  # type: ignore[attr-defined]
    lines: list[Line] = []
    for i in range(textpage.count_rects()):
        left, bottom, right, top = textpage.get_rect(i)
        text = textpage.get_text_bounded(left, bottom, right, top)
        if not text.strip():
            continue
        if lines and _same_line(lines[-1], bottom, top) and left >= lines[-1].right - 1:
            last = lines[-1]
            gap = " " if not last.text.endswith(" ") and not text.startswith(" ") else ""
            lines[-1] = Line(last.text + gap + text, last.left, min(last.bottom, bottom), right, max(last.top, top))
        else:
            lines.append(Line(text, left, bottom, right, top))
    textpage.close()
    return [Line(_printed(line.text), line.left, line.bottom, line.right, line.top) for line in lines]


def _printed(text: str) -> str:
    """PDFium reports a hyphen it takes for hyphenation at a line's end as \x02; the page shows a
    hyphen, and whether it joins a word is cleaning's decision."""
    return text.replace("\r", "").replace("\n", " ").replace("\x02", "-")


def _same_line(line: Line, bottom: float, top: float) -> bool:
    overlap = min(line.top, top) - max(line.bottom, bottom)
    return overlap > 0.5 * min(line.height, top - bottom)
