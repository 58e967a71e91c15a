"""PDFs and web pages built in the tests, laid out like the statements people receive."""

from __future__ import annotations

from collections.abc import Sequence

CIRCULATION = (
    "The OSCE Secretariat bears no responsibility for the content of this document and circulates it without "
    "altering its content."
)


def osce_pdf(
    paragraphs: Sequence[str],
    *,
    symbol: str = "PC.DEL/999/24",
    circulated: str = "8 November 2024",
    running_header: str = "",
    footer: str = "Permanent Mission of Nowhere to the OSCE",
    title_meta: str = "",
    creation: str = "",
    font_size: float = 11,
) -> bytes:
    """A statement as an OSCE delegation circulates it: notice, symbol, date, "ENGLISH only", then
    paragraphs over as many pages as they take, each page with a running header (the symbol), a
    footer and a page number."""
    from fpdf import FPDF

    class Statement(FPDF):
        def header(self) -> None:
            if self.page_no() > 1:
                self.set_font("Helvetica", size=9)
                self.cell(0, 5, running_header or symbol, align="R", new_x="LMARGIN", new_y="NEXT")
                if not running_header:
                    self.cell(0, 5, circulated, align="R", new_x="LMARGIN", new_y="NEXT")
                self.ln(6)

        def footer(self) -> None:
            self.set_y(-18)
            self.set_font("Helvetica", size=8)
            self.cell(0, 4, footer, align="C", new_x="LMARGIN", new_y="NEXT")
            self.cell(0, 4, f"- {self.page_no()} -", align="C")

    pdf = Statement(format="A4")
    pdf.core_fonts_encoding = "windows-1252"  # curly quotes and dashes, as statements print them
    if title_meta:
        pdf.set_title(title_meta)
    if creation:
        import datetime as dt

        pdf.set_creation_date(dt.datetime.fromisoformat(creation).replace(tzinfo=dt.UTC))
    pdf.set_auto_page_break(True, margin=25)
    pdf.add_page()
    pdf.set_font("Helvetica", size=8)
    pdf.multi_cell(0, 4, CIRCULATION, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Helvetica", size=font_size)
    for line in (symbol, circulated, "", "ENGLISH only"):
        if line:
            pdf.cell(0, 6, line, align="R" if line != "ENGLISH only" else "L", new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.ln(3)
    pdf.ln(6)
    for paragraph in paragraphs:
        pdf.multi_cell(0, 5.5, paragraph, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
    return bytes(pdf.output())


def press_release_html(
    title: str, date: str, paragraphs: Sequence[str], site: str = "Ministry of Foreign Affairs"
) -> str:
    """A ministry's press release: navigation, breadcrumbs, share buttons and a footer around the text."""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | {site}</title>
<meta property="og:site_name" content="{site}">
<meta property="article:published_time" content="{date}">
</head><body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/press">Press releases</a></li>
<li><a href="/policy">Foreign policy</a></li><li><a href="/contact">Contact</a></li></ul></nav></header>
<div class="breadcrumbs"><a href="/">Home</a> &gt; <a href="/press">Press</a></div>
<main><article><h1>{title}</h1><p class="date">{date}</p>
{body}
</article>
<div class="share">Share this page: <a href="#">Facebook</a> <a href="#">X</a> <a href="#">Email</a></div>
</main>
<footer><p>Copyright {site}. All rights reserved.</p><p><a href="/privacy">Privacy policy</a> |
<a href="/accessibility">Accessibility</a></p></footer>
</body></html>"""


def lines_pdf(pages: Sequence[Sequence[str | None]], font_size: float = 11) -> bytes:
    """A PDF laid out line by line, exactly as given (None leaves a blank line): for hyphenated line
    ends and paragraphs cut by a page break, which a layout engine would not produce on demand."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_auto_page_break(False)
    for lines in pages:
        pdf.add_page()
        pdf.set_font("Helvetica", size=font_size)
        for line in lines:
            if line is None:
                pdf.ln(6)
            else:
                pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def image_only_pdf() -> bytes:
    """A 'scan': a page with marks on it and no text layer."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_page()
    for y in range(30, 250, 12):
        pdf.rect(20, y, 170, 4, style="F")
    return bytes(pdf.output())


def encrypted_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_encryption(owner_password="owner", user_password="secret")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.cell(0, 6, "Statement by the Delegation of Nowhere")
    return bytes(pdf.output())


def news_report_html(headline: str, published: str, paragraphs: Sequence[str], agency: str = "TASS") -> str:
    """A news agency's report: a dateline, a byline, tags, related stories and a cookie banner."""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    related = "".join(f"<li><a href='/news/{i}'>Other story number {i} about something else</a></li>" for i in range(8))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{headline} - {agency}</title>
<meta property="og:site_name" content="{agency}">
<meta name="pubdate" content="{published}">
</head><body>
<div id="cookie-banner">We use cookies to improve your experience. <button>Accept</button></div>
<header><a href="/">{agency}</a><nav><a href="/politics">Politics</a> <a href="/world">World</a>
<a href="/economy">Economy</a> <a href="/sport">Sport</a></nav></header>
<article>
<h1>{headline}</h1>
<div class="byline">Read the full story on our site. Published {published}</div>
<div class="article-text">{body}</div>
<div class="tags">Tags: <a href="/tag/dprk">DPRK</a> <a href="/tag/russia">Russia</a></div>
</article>
<aside><h3>Related stories</h3><ul>{related}</ul></aside>
<footer>{agency} news agency. All rights reserved. <a href="/about">About us</a></footer>
</body></html>"""
