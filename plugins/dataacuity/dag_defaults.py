"""What every DataAcuity DAG carries (DESIGN §5), in one place; the DAG policy tests enforce it."""

from __future__ import annotations

from datetime import timedelta

OWNER = "data-platform"
# The one list of DAG tags (what the UI filters on). A DAG gets them through tags(); the extract
# factory adds its source database and app, which come from the registry.
TAGS = ("extract", "transform", "compliance", "monitoring", "foundation", "pushback")
ALLOWED_TAGS = frozenset(TAGS)


def tags(*names: str, registry_names: tuple[str, ...] = ()) -> list[str]:
    """DAG tags from TAGS (a name not in it fails the DAG file's import, naming the list),
    followed by ``registry_names`` (a source database and its app)."""
    unknown = [name for name in names if name not in ALLOWED_TAGS]
    if unknown or not names:
        raise ValueError(f"DAG tags {unknown or '(none)'}: every DAG takes at least one tag from {TAGS}")
    return [*names, *registry_names]


def default_args(**overrides) -> dict:
    """default_args for a DataAcuity DAG: owner, retries with backoff, failure alerting."""
    from dataacuity.alert_callbacks import task_failure_alert

    args = {
        "owner": OWNER,
        "retries": 2,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=5),
        "on_failure_callback": task_failure_alert,
    }
    args.update(overrides)
    return args
