"""Landmarks have names of their own (WCAG 1.3.1 / axe's landmark-unique): a screen reader's
list of regions must not offer two with the same name. A named <section> wrapping a scrolling
table region labelled by the same heading makes exactly that pair, which the browser
journeys found on the support-access pages; this catches it in every template at once."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAMED_SECTION = re.compile(r'<section\b[^>]*\baria-labelledby="([^"]+)"')
NAMED_REGION = re.compile(r'\brole="region"[^>]*\baria-labelledby="([^"]+)"')


def test_no_template_names_two_landmarks_after_the_same_heading():
    doubled = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text()
        sections = NAMED_SECTION.findall(text)
        regions = NAMED_REGION.findall(text)
        labels = sections + regions
        doubled += [
            f"{path.relative_to(ROOT)}: {label}"
            for label in sorted(set(labels))
            if labels.count(label) > 1
        ]
    assert doubled == []
