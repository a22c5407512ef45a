"""The alert model: what an alert is, and the identity contract its labels must keep.

Identity of an alert is its label set (alertname, severity, dag_id | source_db + table | app).
Everything that changes between evaluations -- figures, run ids, timestamps, URLs -- goes into
annotations, never into labels (each distinct label set is a new alert in Alertmanager).
Standard library only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

# One constant: every runbook_url (here and in the docs) starts
# with it. Pages live in docs/runbooks/<AlertName>.md.
RUNBOOK_BASE = "https://git.dataacuity.internal/data-platform/bi-pipeline/-/blob/main/docs/runbooks"

SEVERITIES = ("P1", "P2")

# Labels that name the object an alert is about (shared with the inhibit rules and group_by in
# config/alertmanager/alertmanager.yml).
OBJECT_LABELS = ("source_db", "table", "dag_id", "app")

# The alertnames the platform emits; each has docs/runbooks/<name>.md.
KNOWN_ALERTNAMES = (
    "SourceStale",
    "ExtractDeadlineMissed",
    "TransformDeadlineMissed",
    "TaskFailed",
    "PIITestFailed",
    "KillSwitchEngaged",
    "PushBackStale",
    "RTBFSlaAtRisk",
    "RTBFResidualFound",
    "DbtTestFailed",
    "DbtNightlyTestsFailed",
    "SourceQuiet",
    "AlertsUndelivered",
)

_LABEL_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# Label keys that always carry per-run / per-evaluation data.
_FORBIDDEN_LABEL_KEYS = frozenset(
    {
        "run_id",
        "dag_run_id",
        "run",
        "try_number",
        "map_index",
        "batch_id",
        "extract_batch_id",
        "value",
        "values",
        "ts",
        "timestamp",
        "time",
        "date",
        "logical_date",
        "execution_date",
        "data_interval_start",
        "data_interval_end",
        "lag",
        "count",
        "rows",
        "url",
    }
)
_FORBIDDEN_KEY_RE = re.compile(
    r"(^run_|_run_id$|_ts$|_at$|_time$|_date$|_timestamp$|_value$|_seconds$|_minutes$|_count$|_url$)"
)
# Label values that look like timestamps, run ids, UUIDs or measured figures.
_FORBIDDEN_VALUE_RES = (
    ("a date/timestamp", re.compile(r"\d{4}-\d{2}-\d{2}|\d{2}:\d{2}:\d{2}|\d{8}T\d{4,6}")),
    (
        "an Airflow run id",
        re.compile(r"^(manual|scheduled|backfill|dataset_triggered|asset_triggered)__"),
    ),
    (
        "a UUID",
        re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I),
    ),
    ("a number (figures belong in annotations)", re.compile(r"^[-+]?\d+(\.\d+)?([eE][-+]?\d+)?$")),
)


class AlertValidationError(ValueError):
    """An alert whose labels/annotations break the identity contract."""


def runbook_url(name: str) -> str:
    """URL of docs/runbooks/<name>.md."""
    return f"{RUNBOOK_BASE}/{name}.md"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _rfc3339(dt: datetime) -> str:
    if dt.tzinfo is None:
        raise AlertValidationError(f"naive datetime {dt!r}: pass a timezone-aware datetime")
    return dt.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def validate_labels(labels: Mapping[str, str]) -> None:
    """Raise AlertValidationError unless ``labels`` is a valid identity label set."""
    if not isinstance(labels, Mapping):
        raise AlertValidationError(f"labels must be a mapping, got {type(labels).__name__}")
    problems: list[str] = []
    for key, value in labels.items():
        if not isinstance(key, str) or not _LABEL_NAME_RE.match(key) or key.startswith("__"):
            problems.append(f"label name {key!r} is not a valid Prometheus label name")
            continue
        lowered = key.lower()
        if lowered in _FORBIDDEN_LABEL_KEYS or _FORBIDDEN_KEY_RE.search(lowered):
            problems.append(
                f"label {key!r} carries per-run data (run ids, timestamps, values, URLs): put it in annotations"
            )
            continue
        if not isinstance(value, str):
            problems.append(f"label {key!r} must be a string, got {type(value).__name__}")
            continue
        if value == "":
            problems.append(f"label {key!r} is empty (Alertmanager treats it as absent): omit it")
            continue
        if key in ("alertname", "severity"):
            continue
        for what, pattern in _FORBIDDEN_VALUE_RES:
            if pattern.search(value):
                problems.append(
                    f"label {key}={value!r} looks like {what}: labels are the alert's identity, "
                    "put per-run data in annotations"
                )
                break
    alertname = labels.get("alertname")
    if not isinstance(alertname, str) or not _LABEL_NAME_RE.match(alertname or ""):
        problems.append(f"label 'alertname' is required (CamelCase identifier), got {alertname!r}")
    if labels.get("severity") not in SEVERITIES:
        problems.append(f"label 'severity' must be one of {SEVERITIES}, got {labels.get('severity')!r}")
    if "table" in labels and "source_db" not in labels:
        problems.append("label 'table' needs 'source_db' (a table name alone is ambiguous)")
    if problems:
        raise AlertValidationError("invalid alert labels: " + "; ".join(problems))


@dataclasses.dataclass(frozen=True)
class Alert:
    """One alert. ``labels`` = identity; ``annotations`` = summary, figures, runbook_url, run URL.

    ``runbook_url`` defaults to ``runbook_url(alertname)``. ``starts_at`` is optional: when
    omitted Alertmanager uses the time it first saw the alert.
    """

    labels: Mapping[str, str]
    annotations: Mapping[str, str] = dataclasses.field(default_factory=dict)
    generator_url: str = ""
    starts_at: datetime | None = None

    def __post_init__(self) -> None:
        validate_labels(self.labels)
        annotations = dict(self.annotations)
        for key, value in annotations.items():
            if not isinstance(key, str) or not _LABEL_NAME_RE.match(key):
                raise AlertValidationError(f"annotation name {key!r} is not a valid label name")
            if not isinstance(value, str):
                raise AlertValidationError(
                    f"annotation {key!r} must be a string, got {type(value).__name__} (format figures into the text)"
                )
        if not annotations.get("summary"):
            raise AlertValidationError(f"alert {self.labels['alertname']}: annotation 'summary' is required")
        annotations.setdefault("runbook_url", runbook_url(self.labels["alertname"]))
        if not isinstance(self.generator_url, str):
            raise AlertValidationError("generator_url must be a string")
        if self.starts_at is not None and self.starts_at.tzinfo is None:
            raise AlertValidationError("starts_at must be timezone-aware")
        object.__setattr__(self, "labels", dict(sorted(self.labels.items())))
        object.__setattr__(self, "annotations", annotations)

    @property
    def alertname(self) -> str:
        return self.labels["alertname"]

    @property
    def fingerprint(self) -> str:
        """Stable id of the label set (sha256 of the sorted labels, first 16 hex)."""
        blob = json.dumps(self.labels, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def to_payload(self, *, ends_at: datetime | None = None, starts_at: datetime | None = None) -> dict[str, Any]:
        """The API v2 postable alert. No ``endsAt`` unless given (a firing, re-sendable alert)."""
        payload: dict[str, Any] = {
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
        }
        if self.generator_url:
            payload["generatorURL"] = self.generator_url
        start = starts_at or self.starts_at
        if start is not None:
            payload["startsAt"] = _rfc3339(start)
        if ends_at is not None:
            payload["endsAt"] = _rfc3339(ends_at)
        return payload
