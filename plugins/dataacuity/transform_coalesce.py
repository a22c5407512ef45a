"""One transform DAG run per extract cycle (issue 11): the Asset events a run's dbt build already
covered do not create another run.

How Airflow 3.3 schedules the transform (`schedule=AssetAny(<every raw table>)`,
`max_active_runs=1`): every Asset event queues an `AssetDagRunQueue` (ADRQ) row for the DAG; the
first one creates a run; while that run is active the scheduler defers the DAG ("at max_active_runs,
deferring") and the rest of the cycle's events keep their ADRQ rows. When the run ends, those rows
create a second run, although the first run's `dbt build` (which started after the cycle settled,
see dataacuity.transform_cycle) already built what they announced.

This module is an Airflow listener (registered by plugins/dataacuity_listeners.py, so it runs in the
scheduler, in the scheduler's own transaction, right when the run is marked successful). It consumes
the queued events the run covered:

- the cut is the start of the run's `dbt build` (the watcher producer task): an Asset event is
  registered after its extract committed, so every event timestamped at or before the cut
  announced rows that the build read;
- an ADRQ row is removed only when EVERY event of its Asset since the run was created is at or
  before the cut (a later event, e.g. the next cycle's extract of that table while the build ran,
  keeps the row, so that data still sets off a run);
- the covered events are added to the run's consumed events (the UI's "Asset events" of the run
  lists what it built);
- a run that found nothing new to build (`writes_allowed` skipped it after the cycle settled,
  dataacuity.transform_cycle) records when it checked (XCom `nothing_new_as_of`): that is its cut;
- any other run consumes nothing: a failed build, a kill-switch refusal or a skip during a salt
  rotation leaves the queue as it was, and the scheduler starts the next run as before;
- when the next run starts, the events an earlier run already consumed are taken off its list
  (the scheduler picks a new run's events by time since the previous run was created, which
  would list the coalesced ones twice): each event is listed by the one run that built it.

The next cycle's first event creates the next run. Nothing here runs at DAG-parse time.
"""

from __future__ import annotations

import logging
from datetime import datetime

from airflow.listeners import hookimpl

log = logging.getLogger(__name__)

TRANSFORM_DAG_ID = "transform"
BUILD_TASK_ID = "dbt.dbt_producer_watcher"  # Cosmos watcher producer: the run's one `dbt build`
CHECK_TASK_ID = "writes_allowed"  # the run's first task: kill switch, rotation, anything new?
NOTHING_NEW_XCOM_KEY = "nothing_new_as_of"  # ISO time before the "anything new?" query found nothing


def build_started_at(dag_run, session, task_id: str = BUILD_TASK_ID) -> datetime | None:
    """When the run's build task started, if it succeeded (else None: nothing was built)."""
    ti = dag_run.get_task_instance(task_id, session=session)
    if ti is None or ti.start_date is None or ti.state != "success":
        return None
    return ti.start_date


def nothing_new_as_of(dag_run, session) -> datetime | None:
    """When the run's check found nothing new to build (XCom of CHECK_TASK_ID), if it did."""
    from airflow.models.xcom import XComModel
    from sqlalchemy import select

    row = session.scalars(
        select(XComModel).where(
            XComModel.dag_run_id == dag_run.id,
            XComModel.task_id == CHECK_TASK_ID,
            XComModel.key == NOTHING_NEW_XCOM_KEY,
        )
    ).first()
    if row is None:
        return None
    value = XComModel.deserialize_value(row)
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def consume_covered_events(dag_run, session, cut: datetime) -> list[int]:
    """Remove the DAG's queued-event rows whose every event is at or before `cut`, and add those
    events to the run's consumed events. Returns the Asset ids whose queue rows were removed."""
    from airflow.models.asset import AssetDagRunQueue, AssetEvent
    from sqlalchemy import func, select

    queued = session.scalars(
        select(AssetDagRunQueue).where(
            AssetDagRunQueue.target_dag_id == dag_run.dag_id, AssetDagRunQueue.created_at <= cut
        )
    ).all()
    covered = []
    for row in queued:
        later = session.scalar(
            select(func.count())
            .select_from(AssetEvent)
            .where(AssetEvent.asset_id == row.asset_id, AssetEvent.timestamp > cut)
        )
        if not later:
            covered.append(row)
    if not covered:
        return []
    asset_ids = [row.asset_id for row in covered]
    already = {event.id for event in dag_run.consumed_asset_events}
    events = session.scalars(
        select(AssetEvent)
        .where(
            AssetEvent.asset_id.in_(asset_ids),
            AssetEvent.timestamp > dag_run.run_after,
            AssetEvent.timestamp <= cut,
        )
        .order_by(AssetEvent.timestamp, AssetEvent.id)
    ).all()
    dag_run.consumed_asset_events.extend(event for event in events if event.id not in already)
    for row in covered:
        session.delete(row)
    session.flush()
    return asset_ids


def coalesce(dag_run, session) -> list[int]:
    """The listener's work for one finished transform run (see the module doc)."""
    cut = build_started_at(dag_run, session) or nothing_new_as_of(dag_run, session)
    if cut is None:
        return []
    asset_ids = consume_covered_events(dag_run, session, cut)
    if asset_ids:
        log.info(
            "%s %s: %d queued Asset(s) were built by this run (events up to %s): no run for them",
            dag_run.dag_id,
            dag_run.run_id,
            len(asset_ids),
            cut.isoformat(),
        )
    return asset_ids


@hookimpl
def on_dag_run_success(dag_run, msg: str):
    if dag_run.dag_id != TRANSFORM_DAG_ID:
        return
    from sqlalchemy.orm import object_session

    session = object_session(dag_run)
    if session is None:  # not attached to a metadata-DB session (not the scheduler): nothing to do
        return
    coalesce(dag_run, session)


def drop_events_consumed_earlier(dag_run, session) -> int:
    """Take off `dag_run`'s consumed events those an earlier run of its DAG consumed already."""
    from airflow.models.asset import association_table
    from airflow.models.dagrun import DagRun
    from sqlalchemy import select

    mine = list(dag_run.consumed_asset_events)
    if not mine:
        return 0
    seen = set(
        session.scalars(
            select(association_table.c.event_id)
            .join(DagRun, DagRun.id == association_table.c.dag_run_id)
            .where(
                DagRun.dag_id == dag_run.dag_id,
                DagRun.id < dag_run.id,
                association_table.c.event_id.in_([event.id for event in mine]),
            )
        )
    )
    twice = [event for event in mine if event.id in seen]
    for event in twice:
        dag_run.consumed_asset_events.remove(event)
    if twice:
        session.flush()
    return len(twice)


@hookimpl
def on_dag_run_running(dag_run, msg: str):
    if dag_run.dag_id != TRANSFORM_DAG_ID:
        return
    from sqlalchemy.orm import object_session

    session = object_session(dag_run)
    if session is not None:
        drop_events_consumed_earlier(dag_run, session)
