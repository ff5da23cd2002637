"""Audit event types and page titles of the fee reports (registered from apps.py; the rest of
billing's events are in billing/audit_events.py)."""

from collections.abc import Mapping
from typing import Any

from audit.registry import register, register_page_titles
from billing.audit_events import BILLING

_FORMATS = {"csv": "a spreadsheet (CSV)", "xlsx": "an Excel workbook (XLSX)"}


def _fee_report_exported(ctx: Mapping[str, Any]) -> str:
    kind = _FORMATS.get(str(ctx.get("format", "")), "a file")
    span = f" for {ctx['start']} to {ctx['end']}" if ctx.get("start") and ctx.get("end") else ""
    department = f" ({ctx['department']})" if ctx.get("department") else ""
    return f"{ctx['actor']} downloaded the fee report{span}{department} as {kind}"


FEE_REPORT_EXPORTED = register(
    "billing.fee_report_exported",
    _fee_report_exported,
    label="Downloaded the fee report",
    category=BILLING,
)

register_page_titles({"billing:fee_report": "the fee report"})
