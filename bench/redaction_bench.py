"""Redaction benchmark: what burning pages (and restoring an OCR layer) costs per page.

A generated text PDF (full Letter pages of Helvetica, a few numbers per page boxed) is
redacted with OCR on and off at 150 and 200 dpi. The baseline, measured in the same run on
the same machine, is rendering alone (PDFium to an image: no boxes, no encoding, no OCR), so
the ratios say what the rest of the pipeline adds. No database is involved.

    .venv/bin/python bench/redaction_bench.py            (one to two minutes: OCR dominates)
    .venv/bin/python bench/redaction_bench.py --pages 10 --dpi 200
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def sample_pdf(pages: int) -> bytes:
    from tests.documents.redaction_samples import PageSpec, Run, build_pdf

    sentence = (
        "the records request was received by the clerk and forwarded to the department "
        "for review under the public records act with a response due in ten business days"
    )
    words = sentence.split(" ")
    specs = []
    for number in range(pages):
        runs = [Run(72, 60, f"Report page {number + 1}", size=14)]
        for line in range(40):  # a full page of 11 pt text
            start = (number * 7 + line * 3) % len(words)
            text = " ".join((words * 2)[start : start + 14])
            if line % 9 == 4:
                text = f"Claimant SSN 4{number % 10}{line % 10}-{line:02d}-{1000 + number} " + text
            runs.append(Run(60, 90 + line * 16.5, text[:88], size=11))
        specs.append(PageSpec(runs=runs))
    return build_pdf(specs)


def baseline(pdf: bytes, dpi: int) -> tuple[float, list[float]]:
    """Rendering alone, page by page (the floor under any rasterising redaction)."""
    from documents.redaction import rendering

    document = rendering.open_pdf(pdf)
    times = []
    started = time.perf_counter()
    try:
        for index in range(len(document)):
            t = time.perf_counter()
            page = rendering.load_page(document, index)
            rendering.render(page, rendering.scale_for(page, dpi))
            page.close()
            times.append((time.perf_counter() - t) * 1000)
    finally:
        document.close()
    return time.perf_counter() - started, times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--dpi", type=int, action="append", help="repeatable; 150 and 200")
    parser.add_argument("--workers", type=int, default=None, help="OCR processes at once")
    args = parser.parse_args()
    dpis = args.dpi or [150, 200]

    from documents.redaction import engine, ocr, page_search

    pdf = sample_pdf(args.pages)
    boxes = [box for box, _ in page_search.find_pattern_boxes(pdf, {"ssn": r"\d{3}-\d{2}-\d{4}"})]
    print(f"Redaction: {args.pages} text pages ({len(pdf) // 1024} KiB), {len(boxes)} boxes")
    print(f"  tesseract: {shutil.which('tesseract') or 'not installed (OCR runs are skipped)'}")
    rss_start = peak_rss_mb()

    for dpi in dpis:
        base_seconds, base_pages = baseline(pdf, dpi)
        base_rate = args.pages / base_seconds
        print(f"\n  {dpi} dpi")
        print(
            f"  {'render only (baseline)':<28} {base_rate:6.1f} pages/s  "
            f"p50 {percentile(base_pages, 0.5):7.1f} ms/page   1.00x"
        )
        variants = [
            ("redact, OCR off", {"ocr": False}),
            ("redact, OCR off, bilevel", {"ocr": False, "bilevel": True}),
            ("redact, OCR on", {"ocr": True}),
        ]
        for label, options in variants:
            if options["ocr"] and not ocr.ocr_available():
                continue
            per_page: list[float] = []
            last = [time.perf_counter()]

            def tick(done, total, per_page=per_page, last=last):
                now = time.perf_counter()
                per_page.append((now - last[0]) * 1000)
                last[0] = now

            started = time.perf_counter()
            last[0] = started
            result = engine.redact(
                pdf, boxes, dpi=dpi, ocr_workers=args.workers, on_page=tick, **options
            )
            seconds = time.perf_counter() - started
            rate = args.pages / seconds
            # Wall time between progress calls: with OCR, pages are OCRed a few at a time,
            # so this is the steady-state cost of a page, not one Tesseract run.
            print(
                f"  {label:<28} {rate:6.1f} pages/s  "
                f"p50 {percentile(per_page, 0.5):7.1f} ms/page  "
                f"{base_rate / rate:5.2f}x slower  "
                f"output {len(result.pdf) / args.pages / 1024:5.0f} KiB/page"
                + (f"  OCR pages {len(result.ocr_pages)}" if options["ocr"] else "")
            )

    grew = peak_rss_mb() - rss_start
    print(f"\n  peak RSS {peak_rss_mb():.0f} MiB (grew {grew:.0f} MiB during the runs)")


if __name__ == "__main__":
    main()
