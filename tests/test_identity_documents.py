"""The ID-copy detector: MRZ parsing, document rules, masking, and real Tesseract on generated
cards, passports, licences, residence permits, decoys and hostile files (tests/idgen.py)."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import hashlib
import hmac
import io
import random
import shutil
import zipfile
from email.message import EmailMessage

import pytest

from intake.identity import IdentityChecker
from intake.identity.documents import analyse, card_numbers, name_match, national_numbers
from intake.identity.id_documents import IdDocumentDetector
from intake.identity.images import Limits, Problem, Source, kind_of, pages
from intake.identity.mrz import check_digit, find_mrz
from intake.identity.numbers import (
    mask_card_number,
    mask_document_number,
    mask_national_number,
    number_hash,
)
from intake.message import Attachment, parse_message
from tests import idgen, mailgen

SALT = b"test-salt-not-a-secret"
PERSON = idgen.make_person(100)  # Anne-Lise Mustermann, fictional
SENDER = (PERSON.display_name, "anne-lise.mustermann@example.be")
needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None,
                                     reason="tesseract-ocr is not installed")


def _message(*attachments: tuple[str, str, bytes], sender: tuple[str, str] = SENDER):
    raw = mailgen.request("access", "nl", sender=sender, attachments=list(attachments), seed=4)
    return parse_message(raw)


def _attachment(name: str, content_type: str, data: bytes) -> Attachment:
    return Attachment(name, content_type, len(data), data, hashlib.sha256(data).hexdigest())


@pytest.fixture(scope="module")
def detector() -> IdDocumentDetector:
    return IdDocumentDetector(number_salt=SALT)


# --- MRZ ---------------------------------------------------------------------------------

def test_check_digit_matches_icao_example() -> None:
    # ICAO 9303 part 3 worked example: document number L898902C3 has check digit 6.
    assert check_digit("L898902C3") == 6
    assert check_digit("740812") == 2


@pytest.mark.parametrize("make, fmt", [(idgen.td1, "TD1"), (idgen.td2, "TD2"), (idgen.td3, "TD3")])
def test_clean_mrz_parses_with_every_check(make, fmt) -> None:
    mrz = find_mrz(make(PERSON))
    assert mrz is not None and mrz.format == fmt
    assert {"birth_date", "expiry_date", "document_number", "composite"} <= set(mrz.checks)
    assert mrz.failed == ()
    assert mrz.birth_date == f"{PERSON.birth:%y%m%d}"
    assert mrz.surname == "MUSTERMANN"
    assert mrz.valid()


def test_td1_long_card_number_spills_into_optional_data() -> None:
    mrz = find_mrz(idgen.td1(PERSON))
    assert mrz.document_number == PERSON.card_number  # 12 digits, not the first 9


def test_misread_fillers_and_inserted_junk_do_not_lose_the_card() -> None:
    line1, line2, line3 = idgen.td1(PERSON)
    damaged = [
        line1[:-4] + "K<X<",  # fillers read as letters
        line2[:18] + "/" + line2[18:],  # an inserted character
        line3.replace("<<", "<K", 1) + "¢",
    ]
    mrz = find_mrz(damaged)
    assert mrz is not None and mrz.valid()
    assert "document_number" in mrz.checks and "birth_date" in mrz.checks


def test_line_two_alone_validates_with_the_national_number() -> None:
    _, line2, _ = idgen.td1(PERSON)
    mrz = find_mrz(["76150855<<<<SKSSSSS", line2])
    assert mrz is not None
    assert set(mrz.checks) == {"birth_date", "expiry_date"}
    assert not mrz.valid()  # two check digits are not enough on their own …
    assert mrz.valid(national_number_ok=True)  # … with the mod-97 national number they are
    assert analyse(["76150855<<<<SKSSSSS", line2]).validated


def test_a_wrong_birth_date_digit_fails_its_check() -> None:
    line1, line2, line3 = idgen.td1(PERSON)
    wrong = str((int(line2[3]) + 1) % 10)
    mrz = find_mrz([line1, line2[:3] + wrong + line2[4:], line3])
    assert mrz is None or "birth_date" in mrz.failed


def test_a_td3_line_is_not_read_as_a_lucky_td1_window() -> None:
    mrz = find_mrz(idgen.td3(PERSON))
    assert mrz.format == "TD3"
    assert find_mrz(["ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<<<<<<<<"]) is None


# --- numbers, masks, hashes --------------------------------------------------------------

def test_national_and_card_numbers_need_their_checks() -> None:
    nn = PERSON.national_number
    text = f"Rijksregisternr. {nn[:2]}.{nn[2:4]}.{nn[4:6]}-{nn[6:9]}.{nn[9:]}"
    assert national_numbers(text) == [nn]
    bad = nn[:-1] + str((int(nn[-1]) + 1) % 10)
    assert national_numbers(bad) == []
    card = PERSON.card_number
    assert card_numbers(f"{card[:3]}-{card[3:10]}-{card[10:]}") == [card]
    assert card_numbers(card[:-1] + str((int(card[-1]) + 1) % 10)) == []


def test_masks_hide_counter_checks_and_most_of_a_document_number() -> None:
    assert mask_national_number("79082517910") == "79.08.25-***.**"
    assert mask_card_number("591586761085") == "***-***7610-**"
    assert mask_document_number("EM454572") == "*****572"


def test_number_hash_is_an_hmac_of_the_salt_and_absent_without_one() -> None:
    nn = PERSON.national_number
    expected = hmac.new(SALT, nn.encode(), hashlib.sha256).hexdigest()
    assert number_hash(SALT, f"{nn[:6]}-{nn[6:]}") == expected
    assert number_hash(b"other", nn) != expected
    assert number_hash(None, nn) is None
    assert number_hash(SALT, "EM454572", kind="passport") != number_hash(SALT, "EM454572")


@pytest.mark.parametrize("display, names, expected", [
    ("Anne-Lise Mustermann", "MUSTERMANN  ANNE LISE", True),
    ("Mustermann, Anne-Lise (DWSE)", "MUSTERMANN  ANNE KLISE", True),  # misread filler
    ("Anne-Lise Mustermann", "MUSTERMANNS ANNESLISE", True),  # fillers read as S
    ("Piet Anders", "MUSTERMANN  ANNE LISE", False),
    ("Anne-Lise Voorbeeld", "MUSTERMANN  ANNE LISE", False),
    ("Anne", "MUSTERMANN  ANNE LISE", None),  # one word says too little
    ("Anne-Lise Mustermann", "", None),  # no name read from the document
])
def test_name_match(display, names, expected) -> None:
    assert name_match(display, names) is expected


# --- document rules on text -----------------------------------------------------------------

def test_card_texts_and_a_valid_card_number_make_a_front() -> None:
    card = PERSON.card_number
    reading = analyse([
        "BELGIË BELGIQUE BELGIEN BELGIUM", "IDENTITEITSKAART CARTE D'IDENTITÉ",
        "Naam / Nom / Name / Surname", "Mustermann", "Voornamen / Prénoms / Given names",
        "Anne-Lise", f"Kaartnummer {card[:3]}-{card[3:10]}-{card[10:]}",
    ])
    assert reading.validated and reading.document == "be_eid"
    assert reading.sides == {"front"}
    assert "card number check ok" in reading.checks
    assert name_match(PERSON.display_name, reading.names)


def test_card_texts_without_a_number_are_only_possible() -> None:
    reading = analyse(["BELGIË BELGIQUE BELGIEN BELGIUM", "IDENTITEITSKAART CARTE D'IDENTITÉ"])
    assert reading is not None and not reading.validated
    assert reading.signals


@pytest.mark.parametrize("lines", [
    idgen.letter_lines(PERSON), idgen.CV_LINES, idgen.INVOICE_LINES,
], ids=["letter quoting a national number", "CV", "invoice"])
def test_letters_cvs_and_invoices_are_not_documents(lines) -> None:
    assert analyse(lines) is None


# --- files: kinds, limits, hostile input (no OCR needed) ------------------------------------

def _source(name: str, ctype: str, data: bytes) -> Source:
    return Source(name, hashlib.sha256(data).hexdigest(), data, ctype)


def test_kind_comes_from_content_first() -> None:
    jpeg = idgen.encode(idgen.cat_photo(0))
    assert kind_of(_source("scan.pdf", "application/pdf", jpeg)) == "image"
    assert kind_of(_source("x.bin", "application/octet-stream", idgen.text_pdf([["x"]]))) == "pdf"
    assert kind_of(_source("notes.txt", "text/plain", b"hello")) is None


@pytest.mark.parametrize("name, ctype, data, reason", [
    ("kapot.jpg", "image/jpeg", idgen.truncated(idgen.encode(idgen.eid_back(PERSON)), 0.3),
     "unreadable: damaged image"),
    ("ruis.png", "image/png", random.Random(2).randbytes(5000), "unreadable: not an image"),
    ("bom.png", "image/png", idgen.png_bomb(), "decompression bomb"),
    ("groot.png", "image/png", idgen.png_bomb(9000, 9000), "9000×9000 pixels is over the limit"),
    ("geheim.pdf", "application/pdf", idgen.encrypted_pdf(), "unreadable: encrypted PDF"),
    ("kapot.pdf", "application/pdf", idgen.truncated(idgen.text_pdf([["x"] * 40]), 0.4),
     "unreadable: damaged PDF"),
])
def test_bad_files_give_a_clear_problem(name, ctype, data, reason) -> None:
    items = list(pages(_source(name, ctype, data), Limits()))
    problems = [i.reason for i in items if isinstance(i, Problem)]
    assert problems and reason in problems[0], problems


def test_a_long_text_pdf_is_read_from_its_text_layer_within_the_page_limit() -> None:
    data = idgen.text_pdf([[f"Bladzijde {n}", *idgen.CV_LINES] for n in range(40)])
    items = list(pages(_source("dossier.pdf", "application/pdf", data), Limits()))
    read = [i for i in items if not isinstance(i, Problem)]
    assert len(read) == 30 and all(not p.needs_ocr and "Bladzijde" in p.text for p in read)
    assert items[-1].reason == "partly examined: the first 30 of 40 pages"


# --- the detector on real messages, with Tesseract ------------------------------------------

@needs_tesseract
@pytest.mark.parametrize("name, make, document, side", [
    ("eid-achterkant.jpg", lambda: idgen.encode(idgen.noisy(idgen.eid_back(PERSON, 1), 1), "JPEG",
                                                60), "be_eid", "back"),
    ("eid-voorkant.jpg", lambda: idgen.encode(idgen.rotate(idgen.eid_front(PERSON), 90)),
     "be_eid", "front"),
    ("paspoort.jpg", lambda: idgen.encode(idgen.noisy(idgen.on_table(
        idgen.passport_page(PERSON), 2, -2), 2)), "passport", "data_page"),
    ("verblijf.png", lambda: idgen.encode(idgen.residence_back(PERSON), "PNG"),
     "residence_permit", "back"),
    ("rijbewijs.jpg", lambda: idgen.encode(idgen.rotate(idgen.licence_front(PERSON), 180)),
     "driving_licence", "front"),
    ("scan.pdf", lambda: idgen.image_pdf([idgen.scan_page(
        [idgen.eid_front(PERSON), idgen.eid_back(PERSON)])]), "be_eid", "both"),
])
def test_documents_are_found_with_what_validated(detector, name, make, document, side) -> None:
    data = make()
    ctype = "application/pdf" if name.endswith(".pdf") else f"image/{name.rsplit('.', 1)[1]}"
    msg = _message((name, ctype.replace("jpg", "jpeg"), data))
    finding = IdentityChecker(detectors=[detector]).assess(msg)
    assert finding.status == "id_copy", finding.to_json()
    (ev,) = finding.evidence
    assert (ev.type, ev.document, ev.side, ev.valid) == ("id_copy", document, side, True)
    assert ev.attachment == name and ev.sha256 == hashlib.sha256(data).hexdigest()
    assert ev.detail and ("MRZ" in ev.detail or "mod-97" in ev.detail or "card number" in ev.detail)
    nn = PERSON.national_number
    if ev.masked_number and ev.masked_number.endswith("***.**"):
        assert ev.masked_number == mask_national_number(nn)
        assert ev.number_hash == hmac.new(SALT, nn.encode(), hashlib.sha256).hexdigest()
    else:
        assert ev.masked_number and ev.number_hash
    assert ev.name_match is True
    assert nn not in str(ev.to_json())  # never the whole number


@needs_tesseract
def test_the_name_on_the_card_is_compared_with_the_sender(detector) -> None:
    data = idgen.encode(idgen.eid_back(PERSON), "PNG")
    msg = _message(("id.png", "image/png", data), sender=("Piet Anders", "piet@example.be"))
    (ev,) = detector(msg)
    assert ev.status == "id_copy" and ev.name_match is False


@needs_tesseract
@pytest.mark.parametrize("name, ctype, make", [
    ("identiteitskaart.jpg", "image/jpeg", lambda: idgen.encode(idgen.cat_photo(1))),
    ("cv.pdf", "application/pdf", lambda: idgen.text_pdf([idgen.CV_LINES])),
    ("factuur.pdf", "application/pdf",
     lambda: idgen.image_pdf([idgen.scanned_text(idgen.INVOICE_LINES, 3)], 150)),
    ("brief.jpg", "image/jpeg", lambda: idgen.encode(idgen.scanned_text(
        idgen.letter_lines(PERSON), 4))),
], ids=["cat named identiteitskaart.jpg", "CV", "scanned invoice", "scanned letter"])
def test_decoys_give_no_evidence(detector, name, ctype, make) -> None:
    msg = _message((name, ctype, make()))
    assert detector(msg) == []
    assert IdentityChecker(detectors=[detector]).assess(msg).status == "none"


def _forward(inner: bytes, encode_base64: bool) -> bytes:
    outer = EmailMessage(policy=email.policy.SMTP)
    outer["From"] = f"{SENDER[0]} <{SENDER[1]}>"
    outer["To"] = mailgen.AGO
    outer["Subject"] = "Fwd: inzage"
    outer.set_content("Zie het doorgestuurde bericht.")
    if encode_base64:  # some mailers do this, against RFC 2046
        outer.add_attachment(inner, maintype="message", subtype="rfc822", cte="base64",
                             filename="doorgestuurd.eml")
    else:
        outer.add_attachment(email.message_from_bytes(inner, policy=email.policy.SMTP))
    return outer.as_bytes()


@needs_tesseract
@pytest.mark.parametrize("encode_base64", [False, True], ids=["rfc822", "base64 rfc822"])
def test_an_id_inside_a_forwarded_message_is_found(detector, encode_base64) -> None:
    data = idgen.encode(idgen.eid_back(PERSON), "PNG")
    inner = mailgen.request("access", "nl", sender=SENDER, seed=5,
                            attachments=[("kaart.png", "image/png", data)])
    msg = parse_message(_forward(inner, encode_base64))
    found = [e for e in detector(msg) if e.status == "id_copy"]
    assert len(found) == 1 and found[0].document == "be_eid"
    assert found[0].sha256 == hashlib.sha256(data).hexdigest()
    assert found[0].attachment.endswith("kaart.png")


@needs_tesseract
def test_an_id_pasted_in_a_word_document_is_found(detector) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as docx:
        docx.writestr("[Content_Types].xml", "<Types/>")
        docx.writestr("word/document.xml", "<w:document/>")
        docx.writestr("word/media/image1.png", idgen.encode(idgen.eid_back(PERSON), "PNG"))
    msg = _message(("bewijs.docx", "application/vnd.openxmlformats-officedocument."
                                   "wordprocessingml.document", buf.getvalue()))
    (ev,) = detector(msg)
    assert ev.status == "id_copy" and ev.attachment == "bewijs.docx"


@needs_tesseract
def test_hostile_attachments_each_give_a_note_and_never_an_exception() -> None:
    detector = IdDocumentDetector(SALT, Limits(max_ocr_images=2))
    long_scan = idgen.image_pdf([idgen.scanned_text(idgen.CV_LINES, n, dpi=60)
                                 for n in range(40)], 60)
    msg = _message(
        ("kapot.jpg", "image/jpeg", idgen.truncated(idgen.encode(idgen.eid_back(PERSON)), 0.3)),
        ("bom.png", "image/png", idgen.png_bomb()),
        ("geheim.pdf", "application/pdf", idgen.encrypted_pdf()),
        ("kapot.pdf", "application/pdf", b"%PDF-1.7\n1 0 obj <<>>\ntrailer garbage"),
        ("lang.pdf", "application/pdf", long_scan),
    )
    huge = b"\xff\xd8\xff\xe0" + random.Random(3).randbytes(30 * 1024 * 1024)
    msg = dataclasses.replace(
        msg, attachments=(*msg.attachments, _attachment("scan.jpg", "image/jpeg", huge)))
    found = detector(msg)
    by_name = {e.attachment: e for e in found}
    assert all(e.status == "none" and not e.valid for e in found)
    assert "unreadable: damaged image" in by_name["kapot.jpg"].detail
    assert "decompression bomb" in by_name["bom.png"].detail
    assert "encrypted PDF" in by_name["geheim.pdf"].detail
    assert "damaged PDF" in by_name["kapot.pdf"].detail
    assert "over the limit of 20 MB" in by_name["scan.jpg"].detail
    lang = by_name["lang.pdf"].detail
    assert "not examined: 28 pages/images from page 3 on (limit of 2 images" in lang
    assert "partly examined: the first 30 of 40 pages" in lang
    assert IdentityChecker(detectors=[detector]).assess(msg).status == "none"


def test_without_tesseract_the_finding_says_so(monkeypatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")  # the real lookup fails: no mock involved
    detector = IdDocumentDetector(SALT)
    msg = _message(("id.png", "image/png", idgen.encode(idgen.eid_back(PERSON), "PNG")))
    (ev,) = detector(msg)
    assert ev.status == "none" and "tesseract is not installed" in ev.detail


def test_a_message_without_attachments_costs_nothing(detector) -> None:
    assert detector(_message()) == []
