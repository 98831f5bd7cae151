"""Benchmark and evaluation of the ID-copy detector on the generated set (tests/idgen.py): per
document type precision and recall, and seconds per card image and per PDF page, one core.

    .venv/bin/python bench/identity.py [--people 3] [--json]

Every file of `idgen.evaluation_set` (cards front/back, passports, licences, residence permits
as clean JPEG/PNG, noisy, photographed skewed on a table, rotated 90/180/270, scanned into a PDF;
and decoys) goes through `IdDocumentDetector.examine`, one at a time in this process, with
Tesseract limited to one thread. Times are wall seconds and CPU seconds (this process plus its
Tesseract children): on a busy machine the CPU figure is the one to compare.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["OMP_THREAD_LIMIT"] = "1"

from intake.identity.id_documents import IdDocumentDetector  # noqa: E402
from intake.identity.images import Source  # noqa: E402
from tests import idgen  # noqa: E402

DOCUMENTS = ("be_eid", "passport", "driving_licence", "residence_permit")


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def pdf_pages(data: bytes) -> int:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        return len(pdf)
    finally:
        pdf.close()


def run(people: int) -> dict[str, object]:
    detector = IdDocumentDetector(number_salt=b"bench")
    rows = []
    for sample in idgen.evaluation_set(people):
        data = sample.make()
        source = Source(sample.name, hashlib.sha256(data).hexdigest(), data, sample.content_type)
        sender = sample.person.display_name if sample.person else "Jan Testpersoon"
        cpu, wall = cpu_seconds(), time.perf_counter()
        found = detector.examine(source, sender)
        wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
        copies = [e for e in found if e.status == "id_copy"]
        rows.append({
            "name": sample.name, "truth": sample.document, "side": sample.side,
            "variant": sample.variant, "pdf": sample.name.endswith(".pdf"),
            "pages": pdf_pages(data) if sample.name.endswith(".pdf") else 1,
            "found": [e.document for e in copies],
            "found_side": [e.side for e in copies],
            "name_match": [e.name_match for e in copies],
            "flagged": bool(found),
            "wall": wall, "cpu": cpu,
        })
    return {"rows": rows, "scores": scores(rows), "times": times(rows)}


def scores(rows: list[dict]) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for doc in DOCUMENTS:
        truth = [r for r in rows if r["truth"] == doc]
        tp = sum(doc in r["found"] for r in truth)
        fp = sum(doc in r["found"] for r in rows if r["truth"] != doc)
        flagged = sum(r["flagged"] for r in truth)
        sides = sum(r["side"] in r["found_side"] for r in truth if doc in r["found"])
        names = sum(True in r["name_match"] for r in truth if doc in r["found"])
        out[doc] = {
            "files": len(truth), "tp": tp, "fp": fp, "fn": len(truth) - tp,
            "precision": tp / (tp + fp) if tp + fp else None,
            "recall": tp / len(truth) if truth else None,
            "flagged_recall": flagged / len(truth) if truth else None,
            "side_ok": sides, "name_match_true": names,
            "missed": [r["name"] for r in truth if doc not in r["found"]],
        }
    out["wrong_type"] = [f"{r['name']} as {'/'.join(r['found'])}" for r in rows
                         if r["found"] and r["truth"] not in r["found"]]
    decoys = [r for r in rows if r["truth"] is None]
    out["decoys"] = {"files": len(decoys), "id_copy": sum(bool(r["found"]) for r in decoys),
                     "flagged": sum(r["flagged"] for r in decoys)}
    return out


def _stats(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return {"n": len(values), "median": statistics.median(values), "p95": p95,
            "max": values[-1]}


def times(rows: list[dict]) -> dict[str, dict[str, dict[str, float]]]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        if r["pdf"]:
            groups["per PDF page"].append(r)
        elif r["truth"]:
            groups["per card image"].append(r)
            if r["variant"] in ("clean jpeg", "png"):
                groups["per card image, upright"].append(r)
        else:
            groups["per decoy image"].append(r)
    return {name: {"wall": _stats([r["wall"] / r["pages"] for r in rs]),
                   "cpu": _stats([r["cpu"] / r["pages"] for r in rs])}
            for name, rs in groups.items()}


def _pct(value: object) -> str:
    return "–" if value is None else f"{100 * float(value):.0f}%"


def report(result: dict[str, object]) -> str:
    s = result["scores"]
    lines = ["| document | files | found (TP) | false (FP) | precision | recall | flagged | "
             "side right | name match |", "|---|---|---|---|---|---|---|---|---|"]
    for doc in DOCUMENTS:
        d = s[doc]
        lines.append(f"| {doc} | {d['files']} | {d['tp']} | {d['fp']} | {_pct(d['precision'])} "
                     f"| {_pct(d['recall'])} | {_pct(d['flagged_recall'])} | {d['side_ok']} "
                     f"| {d['name_match_true']} |")
    dec = s["decoys"]
    lines.append(f"\ndecoys: {dec['files']} files, {dec['id_copy']} id_copy findings, "
                 f"{dec['flagged']} flagged for a look")
    if s["wrong_type"]:
        lines.append(f"found as another document type: {', '.join(s['wrong_type'])}")
    for doc in DOCUMENTS:
        if s[doc]["missed"]:
            lines.append(f"missed {doc}: {', '.join(s[doc]['missed'])}")
    lines += ["", "| seconds | n | CPU median | CPU p95 | wall median | wall p95 |",
              "|---|---|---|---|---|---|"]
    for name, t in result["times"].items():
        lines.append(f"| {name} | {t['cpu']['n']} | {t['cpu']['median']:.2f} | "
                     f"{t['cpu']['p95']:.2f} | {t['wall']['median']:.2f} | "
                     f"{t['wall']['p95']:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=3, help="invented holders (default 3)")
    parser.add_argument("--json", action="store_true", help="print the raw results as JSON")
    args = parser.parse_args(argv)
    result = run(args.people)
    print(json.dumps(result, indent=1) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
