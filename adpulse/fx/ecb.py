"""The European Central Bank's euro foreign exchange reference rates, in the files it publishes.

Accepted: ``eurofxref.csv`` (daily: ``Date, USD, JPY, ...`` then ``21 November 2025, 1.1512, ...``),
``eurofxref-hist.csv`` (historical: ISO dates, ``N/A`` where a currency was not quoted), the XML files
``eurofxref-daily.xml`` / ``eurofxref-hist.xml`` / ``eurofxref-hist-90d.xml`` (``Cube time`` /
``Cube currency rate``), and the ZIP files the CSVs are published in. ECB rates are units of a currency
per 1 EUR; :func:`cross_rates` turns them into the value of one unit in the reporting currency.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from defusedxml import DefusedXmlException, ElementTree

from adpulse.fx.rates import FxRate, quantize

EUR = "EUR"
SOURCE = "ecb"
_NS = "{http://www.ecb.int/vocabulary/2002-08-01/eurofxref}"

# date -> {currency: units per 1 EUR}
EcbRates = dict[date, dict[str, Decimal]]


class EcbFormatError(ValueError):
    """The file is not one of the ECB's reference-rate files; the message says where."""


def _day(raw: str) -> date:
    raw = raw.strip()
    for parse in (date.fromisoformat, lambda s: datetime.strptime(s, "%d %B %Y").date()):  # noqa: DTZ007
        try:
            return parse(raw)
        except ValueError:
            continue
    raise EcbFormatError(f"unreadable date {raw[:32]!r}")


def _rate(raw: str, where: str) -> Decimal | None:
    raw = raw.strip()
    if raw in ("", "N/A"):
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise EcbFormatError(f"{where}: not a number {raw[:32]!r}") from None
    if not value.is_finite() or value <= 0:
        raise EcbFormatError(f"{where}: not a positive rate {raw[:32]!r}")
    return value


def parse_csv(text: str) -> EcbRates:
    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if not rows or rows[0][0].strip() != "Date":
        raise EcbFormatError("CSV: the first row must start with 'Date'")
    header = [cell.strip() for cell in rows[0]]
    found: EcbRates = {}
    for line, row in enumerate(rows[1:], start=2):
        day = _day(row[0])
        rates = found.setdefault(day, {})
        for currency, cell in zip(header[1:], row[1:], strict=False):
            if not currency:
                continue
            value = _rate(cell, f"line {line} {currency}")
            if value is not None:
                rates[currency] = value
    return found


def parse_xml(data: bytes) -> EcbRates:
    try:
        root = ElementTree.fromstring(data)
    except (ElementTree.ParseError, DefusedXmlException) as exc:
        raise EcbFormatError(f"XML: {exc}") from None
    found: EcbRates = {}
    for cube in root.iter(f"{_NS}Cube"):
        if "time" not in cube.attrib:
            continue
        rates = found.setdefault(_day(cube.attrib["time"]), {})
        for item in cube.findall(f"{_NS}Cube"):
            currency = item.attrib.get("currency", "").strip()
            value = _rate(item.attrib.get("rate", ""), f"{cube.attrib['time']} {currency}")
            if currency and value is not None:
                rates[currency] = value
    if not found:
        raise EcbFormatError("XML: no <Cube time=...> element (not an ECB eurofxref file)")
    return found


def parse(data: bytes) -> EcbRates:
    """Any of the ECB's files, told apart by their content."""
    if data.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [n for n in archive.namelist() if n.lower().endswith((".csv", ".xml"))]
            if len(names) != 1:
                raise EcbFormatError(f"ZIP: expected one CSV or XML file, found {names}")
            data = archive.read(names[0])
    head = data.lstrip()[:64]
    if head.startswith(b"<"):
        return parse_xml(data)
    return parse_csv(data.decode("utf-8-sig"))


def cross_rates(rates: EcbRates, reporting: str) -> Iterator[FxRate]:
    """For each day: the value of one unit of every quoted currency (and EUR) in ``reporting``.

    With per-EUR rates r: 1 C = r[R] / r[C] R; 1 EUR = r[R] R; for R = EUR, 1 C = 1 / r[C] EUR. Days on
    which the ECB did not quote ``reporting`` give nothing (no cross rate can be computed).
    """
    for day in sorted(rates):
        quoted = {EUR: Decimal(1), **rates[day]}
        per_eur = quoted.get(reporting)
        if per_eur is None:
            continue
        for currency in sorted(quoted):
            if currency != reporting:
                yield FxRate(day, currency, quantize(per_eur / quoted[currency]), SOURCE)
