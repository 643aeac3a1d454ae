"""An invoice as a PDF, with reportlab: pure Python, no system libraries (no Cairo, no Pango),
fonts shipped with the package (DejaVu Sans subsets: Latin, Greek and Cyrillic scripts), so
names such as "Wrocław" print as typed. Output is reproducible (``invariant``): the same
document gives the same bytes.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from babel.numbers import format_currency, format_decimal
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONTS = Path(__file__).resolve().parent.parent / "fonts"
REGULAR = "SLP-DejaVuSans"
BOLD = "SLP-DejaVuSans-Bold"


@dataclass(frozen=True)
class DocumentLine:
    description: str
    details: tuple[str, ...]
    quantity: int
    unit_net: Decimal
    tax_rate: Decimal | None  # 0.23 for 23 %
    total_net: Decimal
    total_gross: Decimal


@dataclass(frozen=True)
class InvoiceDocument:
    number: str
    issued_at: datetime
    order_number: str
    order_date: datetime
    currency: str
    seller: tuple[str, ...]
    bill_to: tuple[str, ...]
    bill_to_email: str
    reference: str
    end_customer: tuple[str, ...]
    lines: tuple[DocumentLine, ...]
    subtotal_net: Decimal
    shipping: tuple[str, Decimal, Decimal] | None  # (name, net, gross)
    discounts: tuple[tuple[str, Decimal], ...]
    total_net: Decimal
    total_gross: Decimal
    payments: tuple[str, ...]
    paid: bool
    footer: tuple[str, ...]

    @property
    def total_tax(self) -> Decimal:
        return self.total_gross - self.total_net


@cache
def _register_fonts() -> None:
    pdfmetrics.registerFont(TTFont(REGULAR, str(FONTS / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(FONTS / "DejaVuSans-Bold.ttf")))


def money(amount: Decimal, currency: str) -> str:
    """``1,234.50 USD``: the amount to the currency's minor unit, then its code."""
    return format_currency(
        amount, currency, format="#,##0.00 ¤¤", locale="en", currency_digits=True
    )


def percent(rate: Decimal | None) -> str:
    if rate is None:
        return "–"
    return format_decimal(rate * 100, format="0.##", locale="en") + " %"


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=REGULAR, fontSize=9, leading=12)
    return {
        "base": base,
        "small": ParagraphStyle(
            "small", parent=base, fontSize=7.5, leading=10, textColor="#555555"
        ),
        "title": ParagraphStyle("title", parent=base, fontName=BOLD, fontSize=18, leading=22),
        "bold": ParagraphStyle("bold", parent=base, fontName=BOLD),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
        "right_bold": ParagraphStyle("right_bold", parent=base, fontName=BOLD, alignment=TA_RIGHT),
    }


def _para(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def _block(lines: tuple[str, ...] | list[str], style: ParagraphStyle) -> Paragraph:
    return Paragraph("<br/>".join(escape(line) for line in lines) or "&nbsp;", style)


def render(document: InvoiceDocument) -> bytes:
    _register_fonts()
    styles = _styles()
    buffer = io.BytesIO()
    seller_name = document.seller[0] if document.seller else ""
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=f"Invoice {document.number}",
        author=seller_name,
        subject=f"Order {document.order_number}",
        invariant=1,
    )
    currency = document.currency
    story: list[Any] = []

    meta = [
        f"Invoice number: {document.number}",
        f"Date of issue: {document.issued_at:%Y-%m-%d}",
        f"Order: {document.order_number} of {document.order_date:%Y-%m-%d}",
    ]
    if document.reference:
        meta.append(f"Reference / PO / PI number: {document.reference}")
    meta.append("Status: " + ("Paid" if document.paid else "Payment due"))
    header = Table(
        [[_para("Invoice", styles["title"]), _block(meta, styles["right"])]],
        colWidths=["45%", "55%"],
    )
    header.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [header, Spacer(1, 8 * mm)]

    bill_to = list(document.bill_to)
    if document.bill_to_email:
        bill_to.append(document.bill_to_email)
    parties = [
        [_para("Seller", styles["bold"]), _para("Bill to", styles["bold"])],
        [_block(document.seller, styles["base"]), _block(bill_to, styles["base"])],
    ]
    if document.end_customer:
        parties.append([_para("", styles["base"]), _para("End customer", styles["bold"])])
        parties.append([_para("", styles["base"]), _block(document.end_customer, styles["base"])])
    party_table = Table(parties, colWidths=["50%", "50%"])
    party_table.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)])
    )
    story += [party_table, Spacer(1, 8 * mm)]

    rows: list[list[Any]] = [
        [
            _para("Description", styles["bold"]),
            _para("Qty", styles["right_bold"]),
            _para("Unit price (net)", styles["right_bold"]),
            _para("Tax", styles["right_bold"]),
            _para("Amount (net)", styles["right_bold"]),
        ]
    ]
    for line in document.lines:
        cell = [_para(line.description, styles["base"])]
        cell += [_para(detail, styles["small"]) for detail in line.details]
        rows.append(
            [
                cell,
                _para(str(line.quantity), styles["right"]),
                _para(money(line.unit_net, currency), styles["right"]),
                _para(percent(line.tax_rate), styles["right"]),
                _para(money(line.total_net, currency), styles["right"]),
            ]
        )
    lines_table = Table(rows, colWidths=["46%", "8%", "18%", "10%", "18%"], repeatRows=1)
    lines_table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.HexColor("#BBBBBB")),
            ]
        )
    )
    story += [lines_table, Spacer(1, 4 * mm)]

    totals: list[tuple[str, str, bool]] = [
        ("Subtotal (net)", money(document.subtotal_net, currency), False)
    ]
    if document.shipping is not None:
        name, net, _gross = document.shipping
        totals.append((f"{name} (net)", money(net, currency), False))
    for label, amount in document.discounts:
        totals.append((f"Included discount: {label}", "−" + money(amount, currency), False))
    totals += [
        ("Total (net)", money(document.total_net, currency), False),
        ("Tax", money(document.total_tax, currency), False),
        ("Total", money(document.total_gross, currency), True),
    ]
    totals_table = Table(
        [
            [
                _para(label, styles["right_bold" if strong else "right"]),
                _para(value, styles["right_bold" if strong else "right"]),
            ]
            for label, value, strong in totals
        ],
        colWidths=["72%", "28%"],
    )
    totals_table.setStyle(TableStyle([("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.black)]))
    story += [totals_table, Spacer(1, 4 * mm)]

    summary = _tax_summary(document)
    if summary:
        tax_rows = [
            [
                _para("Tax rate", styles["bold"]),
                _para("Net", styles["right_bold"]),
                _para("Tax", styles["right_bold"]),
            ]
        ]
        tax_rows += [
            [
                _para(percent(rate), styles["base"]),
                _para(money(net, currency), styles["right"]),
                _para(money(tax, currency), styles["right"]),
            ]
            for rate, (net, tax) in summary
        ]
        tax_table = Table(tax_rows, colWidths=["30%", "35%", "35%"], hAlign="RIGHT")
        tax_table.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black)]))
        story += [tax_table, Spacer(1, 4 * mm)]

    if document.payments:
        story.append(_para("Payment", styles["bold"]))
        story += [_para(payment, styles["base"]) for payment in document.payments]
        story.append(Spacer(1, 4 * mm))
    if document.footer:
        story.append(_block(document.footer, styles["small"]))

    def page_footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(REGULAR, 7.5)
        canvas.drawRightString(
            A4[0] - 18 * mm, 10 * mm, f"Invoice {document.number} · page {doc.page}"
        )
        canvas.restoreState()

    pdf.build(story, onFirstPage=page_footer, onLaterPages=page_footer)
    return buffer.getvalue()


def _tax_summary(document: InvoiceDocument) -> list[tuple[Decimal | None, tuple[Decimal, Decimal]]]:
    """Net and tax per rate, over the lines (shipping apart): empty when nothing was taxed."""
    by_rate: dict[Decimal | None, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for line in document.lines:
        entry = by_rate[line.tax_rate]
        entry[0] += line.total_net
        entry[1] += line.total_gross - line.total_net
    if not any(tax for _, tax in by_rate.values()):
        return []
    ordered = sorted(by_rate.items(), key=lambda item: (item[0] is None, item[0] or 0))
    return [(rate, (net, tax)) for rate, (net, tax) in ordered]
