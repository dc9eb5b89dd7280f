"""The KPI report as a CSV file for spreadsheets (columns: docs/kpis.md): the API's export and the
KPI dashboard's download."""
from __future__ import annotations

import csv
import io

from cases.kpis.figures import BUCKETS, Kpis, Report

RATIOS = ("first_response_within_sla", "resolution_within_sla", "resolution_rate", "reopen_rate", "self_service",
          "csat", "complaint_acknowledged_within_sla", "complaint_resolved_within_sla")
COLUMNS = (
    ["scope", "group_by", "group", "from", "to", "cases", "complaints", "first_responses", "first_response_average_seconds",
     "first_response_p90_seconds"]
    + [f"{name}{suffix}" for name in RATIOS for suffix in ("", "_numerator", "_denominator", "_target", "_met")]
    + ["satisfaction_average", "feedback_volume", "feedback_volume_target", "feedback_volume_met", "backlog"]
    + [f"backlog_{name}" for name, _ in BUCKETS])


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _row(report: Report, scope: str, key: str | None, k: Kpis) -> list[str]:
    values = [scope, report.group_by, key, report.first.isoformat(), report.last.isoformat(), k.cases.value,
              k.complaints.value, k.first_response_average_seconds.count, k.first_response_average_seconds.value,
              k.first_response_p90_seconds.value]
    for name in RATIOS:
        ratio = getattr(k, name)
        values += [ratio.value, ratio.numerator, ratio.denominator, ratio.target, ratio.met]
    values += [k.satisfaction_average.value, k.feedback_volume.value, k.feedback_volume.target, k.feedback_volume.met,
               k.backlog.value] + [k.backlog.buckets[name] for name, _ in BUCKETS]
    return [_cell(v) for v in values]


def as_csv(report: Report) -> str:
    """One row per group, then the totals; a byte order mark first, so that Excel reads UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for group in report.groups:
        writer.writerow(_row(report, "group", group.key, group.kpis))
    writer.writerow(_row(report, "total", None, report.totals))
    return "\ufeff" + out.getvalue()


def filename(report: Report) -> str:
    return f"kpis_{report.first:%Y-%m-%d}_{report.last:%Y-%m-%d}_{report.group_by}.csv"
