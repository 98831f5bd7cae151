"""Fictional identity documents and decoys drawn with Pillow, for the ID-copy detector's tests.

Every document belongs to an invented person (surnames like "Testpersoon", "Voorbeeld"); the
national numbers and card numbers pass their mod-97 checks but are test data. The layouts are
loosely shaped like Belgian cards (ID-1, 85.6 × 54 mm at 300 dpi) and a passport data page
(ID-3) with ICAO 9303 machine-readable zones in OCR-B; they are not copies of any real design.
`python -m tests.idgen DIR` writes the whole evaluation set (see `evaluation_set`).
"""

from __future__ import annotations

import argparse
import functools
import io
import math
import random
import sys
import unicodedata
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

OCRB = "/usr/share/fonts/opentype/ocr-b/OCRB.otf"
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
DEJAVU_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
DEJAVU_SERIF = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"

CARD = (1011, 638)  # ID-1 at 300 dpi
PASSPORT = (1476, 1039)  # ID-3 at 300 dpi
A4_300 = (2480, 3508)

SURNAMES = ("TESTPERSOON", "VOORBEELD", "PROEFKONIJN", "EXEMPLE", "BEISPIEL", "MUSTERMANN")
GIVEN = ("Jan", "Els", "Marie", "Lukas", "Sofie", "Pieter Jan", "Anne-Lise", "Tom")


@dataclass(frozen=True)
class Person:
    """An invented holder: names, birth date, sex and the numbers printed on their documents."""

    surname: str
    given: str
    sex: str
    birth: date
    serial: int  # day counter of the national number (odd male, even female)
    card_number: str  # 12 digits, be.eid check
    passport_number: str
    licence_number: str
    expiry: date
    nationality: str = "BEL"

    @property
    def national_number(self) -> str:
        return national_number(self.birth, self.serial)

    @property
    def display_name(self) -> str:
        return f"{self.given} {self.surname.title()}"


def national_number(birth: date, serial: int) -> str:
    """11 digits YYMMDDSSSCC with the mod-97 check (a leading 2 for births from 2000)."""
    base = f"{birth:%y%m%d}{serial:03d}"
    value = int(("2" if birth.year >= 2000 else "") + base)
    return f"{base}{97 - value % 97:02d}"


def card_number(first10: int) -> str:
    """A 12-digit eID card number: ten digits and their remainder modulo 97 (0 becomes 97)."""
    check = first10 % 97 or 97
    return f"{first10:010d}{check:02d}"


def make_person(seed: int) -> Person:
    rng = random.Random(seed)
    sex = rng.choice("MF")
    birth = date(rng.randrange(1950, 2006), rng.randrange(1, 13), rng.randrange(1, 29))
    serial = rng.randrange(1, 997)
    serial += (serial % 2 == 0) if sex == "M" else (serial % 2 == 1)
    return Person(
        surname=rng.choice(SURNAMES),
        given=rng.choice(GIVEN),
        sex=sex,
        birth=birth,
        serial=serial,
        card_number=card_number(5_910_000_000 + rng.randrange(10_000_000)),
        passport_number=f"EM{rng.randrange(10**6):06d}",
        licence_number=f"{rng.randrange(10**10):010d}",
        expiry=date(rng.randrange(2027, 2036), rng.randrange(1, 13), rng.randrange(1, 29)),
    )


# --- ICAO 9303 machine-readable zones ------------------------------------------------------

def check_digit(field: str) -> str:
    total = 0
    for i, ch in enumerate(field):
        value = int(ch) if ch.isdigit() else 0 if ch == "<" else ord(ch) - 55
        total += value * (7, 3, 1)[i % 3]
    return str(total % 10)


def _mrz_name(surname: str, given: str, width: int) -> str:
    def clean(text: str) -> str:
        plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().upper()
        return "".join(c if c.isalpha() else "<" for c in plain)

    return f"{clean(surname)}<<{clean(given)}"[:width].ljust(width, "<")


def td1(p: Person, code: str = "ID", state: str = "BEL") -> list[str]:
    """The three 30-character lines of a card (the long card number spills into optional data)."""
    doc = p.card_number
    if len(doc) > 9:
        head = f"{doc[:9]}<{doc[9:]}{check_digit(doc)}"
    else:
        head = f"{doc.ljust(9, '<')}{check_digit(doc.ljust(9, '<'))}"
    line1 = f"{code}{state}{head}".ljust(30, "<")
    birth, expiry = f"{p.birth:%y%m%d}", f"{p.expiry:%y%m%d}"
    body = (
        f"{birth}{check_digit(birth)}{p.sex}{expiry}{check_digit(expiry)}"
        f"{p.nationality}{p.national_number}"
    )
    composite = line1[5:30] + body[0:7] + body[8:15] + body[18:29]
    line2 = body + check_digit(composite)
    return [line1, line2, _mrz_name(p.surname, p.given, 30)]


def td2(p: Person, code: str = "I<", state: str = "UTO") -> list[str]:
    doc = p.passport_number.ljust(9, "<")
    birth, expiry = f"{p.birth:%y%m%d}", f"{p.expiry:%y%m%d}"
    body = (
        f"{doc}{check_digit(doc)}{p.nationality}{birth}{check_digit(birth)}{p.sex}"
        f"{expiry}{check_digit(expiry)}{'<' * 7}"
    )
    composite = body[0:10] + body[13:20] + body[21:35]
    return [f"{code}{state}{_mrz_name(p.surname, p.given, 31)}", body + check_digit(composite)]


def td3(p: Person, state: str = "BEL") -> list[str]:
    doc = p.passport_number.ljust(9, "<")
    birth, expiry = f"{p.birth:%y%m%d}", f"{p.expiry:%y%m%d}"
    personal = p.national_number.ljust(14, "<")
    body = (
        f"{doc}{check_digit(doc)}{p.nationality}{birth}{check_digit(birth)}{p.sex}"
        f"{expiry}{check_digit(expiry)}{personal}{check_digit(personal)}"
    )
    composite = body[0:10] + body[13:20] + body[21:43]
    return [f"P<{state}{_mrz_name(p.surname, p.given, 39)}", body + check_digit(composite)]


# --- drawing -------------------------------------------------------------------------------

def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def _mrz_font(chars: int, width: int) -> ImageFont.FreeTypeFont:
    """OCR-B at the size where `chars` characters take `width` pixels (ICAO: 10 per inch)."""
    size = 40
    font = _font(OCRB, size)
    measured = font.getlength("<" * chars)
    return _font(OCRB, max(8, round(size * width / measured)))


def _background(size: tuple[int, int], rng: random.Random, tint: tuple[int, int, int]) -> Image:
    """A pale card with guilloche-like waves, the kind of pattern OCR has to look through."""
    img = Image.new("RGB", size, tint)
    draw = ImageDraw.Draw(img)
    w, h = size
    for k in range(14):
        phase, amp = rng.random() * 6.28, 8 + rng.random() * 20
        y0 = h * (k + 0.5) / 14
        colour = tuple(max(0, c - 18 - rng.randrange(12)) for c in tint)
        pts = [(x, y0 + amp * math.sin(x / (40 + 7 * k) + phase)) for x in range(0, w, 6)]
        draw.line(pts, fill=colour, width=1)
    return img


def _photo(img: Image.Image, box: tuple[int, int, int, int]) -> None:
    """A grey placeholder portrait (head and shoulders), clipped to its box."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    tile = Image.new("RGB", (w, h), (196, 200, 206))
    d = ImageDraw.Draw(tile)
    d.ellipse((w * 0.28, h * 0.12, w * 0.72, h * 0.55), fill=(120, 124, 130))
    d.ellipse((w * 0.08, h * 0.6, w * 0.92, h * 1.5), fill=(120, 124, 130))
    img.paste(tile, (x0, y0))


def _fields(draw: ImageDraw.ImageDraw, x: int, y: int, rows: Sequence[tuple[str, str]],
            label_size: int = 17, value_size: int = 27, gap: int = 14) -> int:
    label_font, value_font = _font(DEJAVU, label_size), _font(DEJAVU_BOLD, value_size)
    for label, value in rows:
        draw.text((x, y), label, font=label_font, fill=(70, 70, 90))
        y += label_size + 3
        draw.text((x, y), value, font=value_font, fill=(10, 10, 20))
        y += value_size + gap
    return y


def _mrz(draw: ImageDraw.ImageDraw, lines: Sequence[str], x: int, y: int, width: int) -> None:
    font = _mrz_font(len(lines[0]), width)
    step = round(font.size * 1.45)
    for i, line in enumerate(lines):
        draw.text((x, y + i * step), line, font=font, fill=(15, 15, 15))


def _header(draw: ImageDraw.ImageDraw, lines: Sequence[str], x: int, y: int,
            sizes: Sequence[int]) -> int:
    for line, size in zip(lines, sizes, strict=True):
        draw.text((x, y), line, font=_font(DEJAVU_BOLD, size), fill=(25, 40, 90))
        y += size + 8
    return y


def eid_front(p: Person, seed: int = 0) -> Image.Image:
    rng = random.Random(seed)
    img = _background(CARD, rng, (222, 232, 226))
    d = ImageDraw.Draw(img)
    y = _header(d, ["BELGIË  BELGIQUE  BELGIEN  BELGIUM",
                    "IDENTITEITSKAART  CARTE D'IDENTITÉ", "PERSONALAUSWEIS  IDENTITY CARD"],
                40, 26, (30, 24, 24))
    _photo(img, (40, y + 20, 300, y + 340))
    _fields(d, 340, y + 16, [
        ("Naam / Nom / Name / Surname", p.surname.title()),
        ("Voornamen / Prénoms / Vornamen / Given names", p.given),
        ("Geslacht / Sexe / Geschlecht / Sex      Nationaliteit / Nationality",
         f"{p.sex}              Belg"),
        ("Geboortedatum / Date de naissance / Date of birth", f"{p.birth:%d %m %Y}"),
        ("Kaartnummer / N° de carte / Card no.", _dashed(p.card_number)),
        ("Geldig tot / Valable jusqu'au / Valid until", f"{p.expiry:%d.%m.%Y}"),
    ], value_size=26, gap=10)
    return img


def eid_back(p: Person, seed: int = 0, code: str = "ID",
             title: str = "") -> Image.Image:
    rng = random.Random(seed)
    img = _background(CARD, rng, (226, 230, 236))
    d = ImageDraw.Draw(img)
    y = 30
    if title:
        y = _header(d, [title], 40, y, (24,))
    nn = p.national_number
    _fields(d, 40, y, [
        ("Geboorteplaats / Lieu de naissance / Place of birth", "Voorbeeldstad"),
        ("Rijksregisternr. / N° registre national / National Register No.",
         f"{nn[0:2]}.{nn[2:4]}.{nn[4:6]}-{nn[6:9]}.{nn[9:11]}"),
        ("Afgegeven te / Délivrée à / Issued in", "Testgemeente  01.02.2025"),
    ], value_size=26, gap=10)
    _mrz(d, td1(p, code=code), 55, 420, 900)
    return img


def residence_front(p: Person, seed: int = 0) -> Image.Image:
    rng = random.Random(seed)
    img = _background(CARD, rng, (236, 226, 214))
    d = ImageDraw.Draw(img)
    y = _header(d, ["BELGIË  BELGIQUE  BELGIEN  BELGIUM",
                    "VERBLIJFSTITEL  TITRE DE SÉJOUR", "AUFENTHALTSTITEL  RESIDENCE PERMIT"],
                40, 26, (30, 24, 24))
    _photo(img, (40, y + 20, 300, y + 340))
    _fields(d, 340, y + 16, [
        ("Naam / Nom / Name / Surname", p.surname.title()),
        ("Voornamen / Prénoms / Given names", p.given),
        ("Nationaliteit / Nationalité / Nationality", "UTO"),
        ("Type kaart / Type de carte / Card type", "A  EU+"),
        ("Kaartnummer / N° de carte / Card no.", _dashed(p.card_number)),
        ("Geldig tot / Valable jusqu'au / Valid until", f"{p.expiry:%d.%m.%Y}"),
    ], value_size=26, gap=10)
    return img


def residence_back(p: Person, seed: int = 0) -> Image.Image:
    return eid_back(replace(p, nationality="UTO"), seed, code="IR",
                    title="VERBLIJFSTITEL / TITRE DE SÉJOUR / RESIDENCE PERMIT")


def passport_page(p: Person, seed: int = 0) -> Image.Image:
    rng = random.Random(seed)
    img = _background(PASSPORT, rng, (232, 226, 238))
    d = ImageDraw.Draw(img)
    y = _header(d, ["KONINKRIJK BELGIË  ROYAUME DE BELGIQUE  KÖNIGREICH BELGIEN",
                    "PASPOORT  PASSEPORT  REISEPASS  PASSPORT"], 50, 30, (30, 30))
    _photo(img, (50, y + 30, 400, y + 480))
    nn = p.national_number
    _fields(d, 450, y + 20, [
        ("Type / Type   Code / Code   Paspoortnr. / Passport No.",
         f"P        BEL        {p.passport_number}"),
        ("Naam / Nom / Surname", p.surname.title()),
        ("Voornamen / Prénoms / Given names", p.given),
        ("Nationaliteit / Nationalité / Nationality", "BELG / BELGE"),
        ("Geboortedatum / Date de naissance / Date of birth", f"{p.birth:%d %m %Y}"),
        ("Geslacht / Sexe / Sex", p.sex),
        ("Vervaldatum / Date d'expiration / Date of expiry", f"{p.expiry:%d %m %Y}"),
        ("Rijksregisternr. / Personal No.", f"{nn[:6]} {nn[6:9]}-{nn[9:]}"),
    ], value_size=28, gap=8)
    _mrz(d, td3(p), 70, 830, 1330)
    return img


def licence_front(p: Person, seed: int = 0) -> Image.Image:
    rng = random.Random(seed)
    img = _background(CARD, rng, (240, 222, 228))
    d = ImageDraw.Draw(img)
    d.rectangle((30, 30, 110, 110), fill=(30, 50, 150))
    d.text((50, 52), "BE", font=_font(DEJAVU_BOLD, 34), fill=(250, 220, 40))
    _header(d, ["RIJBEWIJS  PERMIS DE CONDUIRE", "FÜHRERSCHEIN  DRIVING LICENCE"],
            140, 34, (30, 26))
    _photo(img, (40, 160, 290, 470))
    nn = p.national_number
    font = _font(DEJAVU_BOLD, 27)
    rows = [
        f"1. {p.surname.upper()}",
        f"2. {p.given.upper()}",
        f"3. {p.birth:%d.%m.%Y}  Voorbeeldstad",
        f"4a. 01.02.2025   4b. {p.expiry:%d.%m.%Y}",
        "4c. Testgemeente",
        f"4d. {nn[0:2]}.{nn[2:4]}.{nn[4:6]}-{nn[6:9]}.{nn[9:11]}",
        f"5. {p.licence_number}",
        "9. AM/B",
    ]
    for i, row in enumerate(rows):
        d.text((320, 165 + i * 52), row, font=font, fill=(15, 15, 25))
    return img


def licence_back(p: Person, seed: int = 0) -> Image.Image:
    rng = random.Random(seed)
    img = _background(CARD, rng, (240, 228, 232))
    d = ImageDraw.Draw(img)
    font = _font(DEJAVU, 24)
    d.text((40, 30), "9.      10.          11.          12.", font=font, fill=(20, 20, 30))
    for i, cat in enumerate(("AM", "A1", "A2", "A", "B1", "B", "C1", "C", "D1", "D", "BE")):
        y = 70 + i * 48
        d.line((30, y - 11, 980, y - 11), fill=(150, 150, 160), width=1)
        valid = "01.02.2025    01.02.2035" if cat in ("AM", "B") else ""
        d.text((40, y), f"{cat:<6} {valid}", font=font, fill=(20, 20, 30))
    return img


def _dashed(number: str) -> str:
    return f"{number[:3]}-{number[3:10]}-{number[10:]}"


# --- variants: how people send a card ------------------------------------------------------

def rotate(img: Image.Image, degrees: float) -> Image.Image:
    """Rotated counter-clockwise; right angles exactly, other angles on a white surround."""
    if degrees % 90 == 0:
        return img.rotate(degrees, expand=True)
    return img.rotate(degrees, expand=True, resample=Image.BICUBIC, fillcolor=(255, 255, 255))


def noisy(img: Image.Image, seed: int = 0, sigma: float = 18.0) -> Image.Image:
    """A poor phone photo: slight blur, uneven light and grain."""
    rng = random.Random(seed)
    out = img.convert("RGB").filter(ImageFilter.GaussianBlur(0.9))
    w, h = out.size
    noise = np.random.default_rng(seed).normal(128, sigma * 3, (h, w))
    grain = Image.fromarray(np.clip(noise, 0, 255).astype(np.uint8)).convert("RGB")
    out = Image.blend(out, grain, 0.18)
    light = Image.linear_gradient("L").resize((w, h)).point(lambda v: 200 + v * 55 // 255)
    if rng.random() < 0.5:
        light = light.transpose(Image.FLIP_LEFT_RIGHT)
    dark = Image.new("RGB", (w, h), (40, 40, 40))
    return Image.composite(out, dark, light)


def on_table(img: Image.Image, seed: int = 0, skew: float = 0.0) -> Image.Image:
    """The card photographed on a dark table, a little skewed, the frame larger than the card."""
    rng = random.Random(seed)
    card = rotate(img.convert("RGBA"), skew) if skew else img.convert("RGBA")
    w, h = card.size
    table = Image.new("RGB", (int(w * 1.5), int(h * 1.7)), (92, 64, 42))
    d = ImageDraw.Draw(table)
    for y in range(0, table.size[1], 9):
        shade = 80 + rng.randrange(25)
        d.line((0, y, table.size[0], y + rng.randrange(-4, 5)), fill=(shade, shade - 25, 30))
    # the corners a rotation adds stay transparent: the table shows there
    mask = Image.new("L", img.size, 255).rotate(skew, expand=True) if skew else None
    table.paste(card.convert("RGB"), ((table.size[0] - w) // 2, (table.size[1] - h) // 2), mask)
    return table


def scan_page(images: Sequence[Image.Image], seed: int = 0) -> Image.Image:
    """An A4 scan at 300 dpi with the given card sides one under the other."""
    rng = random.Random(seed)
    page = Image.new("RGB", A4_300, (250, 250, 248))
    y = 250
    for img in images:
        x = 300 + rng.randrange(120)
        page.paste(img.convert("RGB"), (x, y))
        y += img.size[1] + 150
    return page


def encode(img: Image.Image, fmt: str = "JPEG", quality: int = 85) -> bytes:
    buf = io.BytesIO()
    if fmt == "JPEG":
        img.convert("RGB").save(buf, "JPEG", quality=quality)
    elif fmt == "PDF":
        img.convert("RGB").save(buf, "PDF", resolution=300.0)
    else:
        img.save(buf, fmt)
    return buf.getvalue()


def image_pdf(pages: Sequence[Image.Image], resolution: float = 300.0) -> bytes:
    """A "scanned" PDF: one JPEG image per page, no text layer."""
    buf = io.BytesIO()
    first, *rest = [p.convert("RGB") for p in pages]
    first.save(buf, "PDF", resolution=resolution, save_all=True, append_images=rest, quality=80)
    return buf.getvalue()


def text_pdf(pages: Sequence[Sequence[str]]) -> bytes:
    """A born-digital PDF with a text layer (Helvetica, WinAnsi), one list of lines per page."""
    objects: list[bytes] = [b"", b"", b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
                            b"/Encoding /WinAnsiEncoding >>"]
    kids = []
    for lines in pages:
        ops = ["BT /F1 11 Tf 14 TL 60 790 Td"]
        for line in lines:
            safe = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"({safe}) '")
        ops.append("ET")
        stream = "\n".join(ops).encode("cp1252", "replace")
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        content = len(objects)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 3 0 R >> >> >>" % content)
        kids.append(len(objects))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    from tests.mailgen import pdf_file

    return pdf_file(objects)


# --- decoys --------------------------------------------------------------------------------

def cat_photo(seed: int = 0) -> Image.Image:
    """Something cat-shaped on a cushion: no text at all."""
    rng = random.Random(seed)
    img = Image.new("RGB", (1200, 900), (170 + rng.randrange(30), 150, 130))
    d = ImageDraw.Draw(img)
    d.ellipse((200, 500, 1000, 880), fill=(120, 90, 160))  # cushion
    fur = (220, 140 + rng.randrange(40), 60)
    d.ellipse((330, 380, 860, 760), fill=fur)  # body
    d.ellipse((620, 200, 900, 470), fill=fur)  # head
    d.polygon([(640, 260), (660, 140), (720, 230)], fill=fur)
    d.polygon([(800, 230), (860, 140), (880, 270)], fill=fur)
    for ex in (700, 800):
        d.ellipse((ex, 290, ex + 36, 330), fill=(60, 160, 60))
        d.ellipse((ex + 13, 295, ex + 23, 325), fill=(0, 0, 0))
    for k in range(3):
        d.line((760, 380 + k * 10, 620, 360 + k * 25), fill=(250, 250, 250), width=2)
        d.line((780, 380 + k * 10, 930, 360 + k * 25), fill=(250, 250, 250), width=2)
    for _ in range(40):  # stripes
        x, y = rng.randrange(360, 820), rng.randrange(420, 720)
        d.arc((x, y, x + 80, y + 40), 200, 340, fill=(170, 90, 30), width=6)
    return noisy(img, seed, sigma=10)


CV_LINES = [
    "Curriculum vitae",
    "",
    "Jan Testpersoon",
    "Voorbeeldstraat 1, 9999 Testgemeente",
    "Geboortedatum: 30/07/1985   Nationaliteit: Belg   Rijbewijs: B",
    "E-mail: jan.testpersoon@example.be   Telefoon: 0499 00 00 00",
    "",
    "Werkervaring",
    "2019 - heden   Beleidsmedewerker, Voorbeeldorganisatie",
    "2012 - 2019    Projectleider, Testbedrijf nv",
    "",
    "Opleiding",
    "2008 - 2012    Master Bestuurskunde, Voorbeelduniversiteit",
    "",
    "Talen: Nederlands, Frans, Engels, Duits",
]

INVOICE_LINES = [
    "FACTUUR 2026-0137",
    "",
    "Testbedrijf nv, Voorbeeldlaan 5, 9999 Testgemeente",
    "BTW BE 0403.170.701    RPR Gent",
    "IBAN BE68 5390 0754 7034   BIC TESTBEBB",
    "",
    "Factuurdatum: 12/03/2026      Vervaldatum: 11/04/2026",
    "Klantnummer: 85073003361",
    "",
    "Omschrijving                          Aantal     Prijs      Totaal",
    "Opleiding gegevensbescherming             1    450,00      450,00",
    "Syllabus                                  2     25,00       50,00",
    "",
    "Totaal excl. btw                                           500,00",
    "Btw 21%                                                    105,00",
    "Te betalen                                                 605,00",
]


def letter_lines(p: Person) -> list[str]:
    nn = p.national_number
    return [
        f"{p.display_name}",
        "Voorbeeldstraat 1",
        "9999 Testgemeente",
        "",
        "Aan de functionaris voor gegevensbescherming",
        "",
        "Testgemeente, 12 maart 2026",
        "",
        "Betreft: inzage in mijn persoonsgegevens",
        "",
        "Geachte,",
        "",
        "Graag had ik inzage gekregen in de persoonsgegevens die u over mij",
        "verwerkt. Een kopie van mijn identiteitskaart volgt later per post.",
        f"Mijn rijksregisternummer is {nn[:2]}.{nn[2:4]}.{nn[4:6]}-{nn[6:9]}.{nn[9:]}.",
        "",
        "Met vriendelijke groeten,",
        "",
        f"{p.display_name}",
    ]


def scanned_text(lines: Sequence[str], seed: int = 0, dpi: int = 150) -> Image.Image:
    """A page of typed text as a scanner delivers it (A4, grey, slightly noisy)."""
    rng = random.Random(seed)
    w, h = round(8.27 * dpi), round(11.69 * dpi)
    img = Image.new("L", (w, h), 245)
    d = ImageDraw.Draw(img)
    font = _font(DEJAVU_SERIF, round(dpi * 0.15))
    y = round(dpi * 1.0)
    for line in lines:
        d.text((round(dpi * 0.9) + rng.randrange(3), y), line, font=font, fill=30)
        y += round(dpi * 0.26)
    return img.convert("RGB").filter(ImageFilter.GaussianBlur(0.4))


# --- bad input -----------------------------------------------------------------------------

@functools.lru_cache(maxsize=4)
def png_bomb(width: int = 40_000, height: int = 40_000) -> bytes:
    """A tiny 1-bit PNG that decodes to width × height pixels (200 MB at the default size)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row * 1000) for _ in range(height // 1000)) + comp.flush()
    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([1, 0, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def encrypted_pdf(password: str = "geheim") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf([["Vertrouwelijk"]]))))
    writer.encrypt(user_password=password, algorithm="AES-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def truncated(data: bytes, keep: float = 0.5) -> bytes:
    return data[: int(len(data) * keep)]


# --- the evaluation set --------------------------------------------------------------------

@dataclass(frozen=True)
class Sample:
    """One attachment of the evaluation set and what it truly is."""

    name: str
    content_type: str
    make: Callable[[], bytes] = field(repr=False)
    document: str | None  # be_eid | passport | driving_licence | residence_permit | None (decoy)
    side: str | None = None
    person: Person | None = None
    variant: str = ""


def _jpeg(img_fn: Callable[[], Image.Image], quality: int = 85) -> Callable[[], bytes]:
    return lambda: encode(img_fn(), "JPEG", quality)


def _png(img_fn: Callable[[], Image.Image]) -> Callable[[], bytes]:
    return lambda: encode(img_fn(), "PNG")


def evaluation_set(people: int = 3) -> list[Sample]:
    """Every document type in several variants for `people` invented holders, plus decoys."""
    out: list[Sample] = []
    sides = {
        "be_eid": (("front", eid_front), ("back", eid_back)),
        "residence_permit": (("front", residence_front), ("back", residence_back)),
        "driving_licence": (("front", licence_front), ("back", licence_back)),
        "passport": (("data_page", passport_page),),
    }
    for k in range(people):
        p = make_person(100 + k)
        for doc, variants in sides.items():
            for side, draw in variants:
                def base(draw=draw, p=p, k=k) -> Image.Image:
                    return draw(p, k)

                stem = f"{doc}-{k}-{side}"
                out += [
                    Sample(f"{stem}.jpg", "image/jpeg", _jpeg(base), doc, side, p, "clean jpeg"),
                    Sample(f"{stem}.png", "image/png", _png(base), doc, side, p, "png"),
                    Sample(f"{stem}-noisy.jpg", "image/jpeg",
                           _jpeg(lambda b=base, k=k: noisy(b(), k), 60), doc, side, p, "noisy"),
                    Sample(f"{stem}-photo.jpg", "image/jpeg",
                           _jpeg(lambda b=base, k=k: noisy(on_table(b(), k, 3 - 2 * k), k)),
                           doc, side, p, "photo, skewed"),
                ]
                for angle in (90, 180, 270):
                    out.append(Sample(f"{stem}-rot{angle}.jpg", "image/jpeg",
                                      _jpeg(lambda b=base, a=angle: rotate(b(), a)),
                                      doc, side, p, f"rotated {angle}"))
            if len(variants) == 2:
                (_, front), (_, back) = variants
                out.append(Sample(
                    f"{doc}-{k}-scan.pdf", "application/pdf",
                    lambda f=front, b=back, p=p, k=k: image_pdf([scan_page([f(p, k), b(p, k)], k)]),
                    doc, "both", p, "front and back scanned on one A4 page"))
            else:
                out.append(Sample(
                    f"{doc}-{k}-scan.pdf", "application/pdf",
                    lambda p=p, k=k: image_pdf([scan_page([passport_page(p, k)], k)]),
                    doc, "data_page", p, "scanned on A4"))
    p = make_person(7)
    out += [
        Sample("identiteitskaart.jpg", "image/jpeg", _jpeg(lambda: cat_photo(1)), None,
               variant="cat photo named like an ID"),
        Sample("paspoort.png", "image/png", _png(lambda: cat_photo(2)), None, variant="cat"),
        Sample("cv.pdf", "application/pdf", lambda: text_pdf([CV_LINES]), None, variant="CV"),
        Sample("factuur.pdf", "application/pdf", lambda: text_pdf([INVOICE_LINES]), None,
               variant="invoice (text PDF)"),
        Sample("factuur-scan.pdf", "application/pdf",
               lambda: image_pdf([scanned_text(INVOICE_LINES, 3)], 150), None,
               variant="invoice (scanned)"),
        Sample("brief.jpg", "image/jpeg", _jpeg(lambda: scanned_text(letter_lines(p), 4)), None,
               variant="scanned letter that quotes a national number and 'identiteitskaart'"),
        Sample("brief-scan.pdf", "application/pdf",
               lambda: image_pdf([scanned_text(letter_lines(p), 5)], 150), None,
               variant="scanned letter in a PDF"),
        Sample("cv-scan.jpg", "image/jpeg", _jpeg(lambda: scanned_text(CV_LINES, 6)), None,
               variant="scanned CV"),
    ]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--people", type=int, default=3)
    args = parser.parse_args(argv)
    args.outdir.mkdir(parents=True, exist_ok=True)
    for sample in evaluation_set(args.people):
        (args.outdir / sample.name).write_bytes(sample.make())
    print(f"wrote {len(evaluation_set(args.people))} files to {args.outdir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
