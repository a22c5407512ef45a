"""One extract cycle sets off one transform run (issue 11), on Airflow's own scheduling code.

The transform DAG (dags/transform.py) is written to a real Airflow metadata DB; Asset events are
registered with Airflow's AssetManager (as a finishing extract task does), the asset-triggered run
is created by the scheduler's own `_create_dag_runs_asset_triggered`, the run is finished by
`DagRun.update_state` (which calls the listeners the plugins folder registers, as in the scheduler),
and whether the scheduler would create another run is `DagModel.dags_needing_dagruns`: the
function the scheduler asks every loop. bench/bench_pipeline.py counts the same under the running
scheduler with the real 5-minute schedules.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from tests.conftest import REPO

BUILD = "dbt.dbt_producer_watcher"


@pytest.fixture(scope="module")
def transform_in_db(airflow_db):
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session

    DagBundlesManager().sync_bundles_to_db()
    bag = DagBag(dag_folder=str(REPO / "dags" / "transform.py"))
    assert not bag.import_errors, bag.import_errors
    sync_bag_to_db(bag, "dags-folder", None)
    with create_session() as session:
        session.get(DagModel, "transform").is_paused = False
    return bag.dags["transform"]


@pytest.fixture
def session(transform_in_db):
    from airflow.models.asset import AssetDagRunQueue
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    with create_session() as session:
        session.execute(delete(AssetDagRunQueue).where(AssetDagRunQueue.target_dag_id == "transform"))
        for run in session.query(DagRun).filter(DagRun.dag_id == "transform", DagRun.state.in_(("queued", "running"))):
            run.state = "failed"  # max_active_runs=1: an earlier test's run must not defer this one
        session.commit()
        yield session


def _emit(session, table_index: int):
    """An extract task's outlet event for the n-th raw table the transform is scheduled on."""
    from airflow.assets.manager import AssetManager
    from airflow.models.asset import AssetModel
    from airflow.models.dag import DagModel

    uris = sorted(ref.asset.uri for ref in session.get(DagModel, "transform").schedule_asset_references)
    asset = session.query(AssetModel).filter(AssetModel.uri == uris[table_index]).one()
    event = AssetManager.register_asset_change(asset=asset, session=session)
    session.flush()
    time.sleep(0.01)  # distinct timestamps
    return event


def _scheduler_creates_run(session):
    """What the scheduler does in a loop: find asset-triggered DAGs due, create their runs."""
    from airflow.jobs.job import Job
    from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
    from airflow.models.dag import DagModel

    _, triggered = DagModel.dags_needing_dagruns(session)
    if "transform" not in triggered:
        return None
    runner = SchedulerJobRunner(job=Job(), executors=[])
    runner._create_dag_runs_asset_triggered(dag_models=[session.get(DagModel, "transform")], session=session)
    session.flush()
    from airflow.models.dagrun import DagRun

    return session.query(DagRun).filter(DagRun.dag_id == "transform").order_by(DagRun.id.desc()).first()


def _finish(session, run, build_state: str = "success"):
    """The run's tasks end; the build (the watcher producer) started at the returned cut."""
    from airflow.utils.state import TaskInstanceState

    run.state = "running"
    cut = datetime.now(UTC)
    for ti in run.get_task_instances(session=session):
        ti.state = TaskInstanceState.SUCCESS
        ti.start_date = ti.end_date = cut
        if ti.task_id == BUILD:
            ti.state = build_state
    session.flush()
    time.sleep(0.01)
    return cut


def _start(run):
    """The scheduler starts a queued run and tells the listeners (SchedulerJobRunner._start_queued_dagruns)."""
    run.state = "running"
    run.notify_dagrun_state_changed(msg="started")


def _queued(session) -> set[int]:
    from airflow.models.asset import AssetDagRunQueue

    rows = session.query(AssetDagRunQueue).filter(AssetDagRunQueue.target_dag_id == "transform")
    return {row.asset_id for row in rows}


def _end(session, run):
    """The scheduler's state update of the run (it calls the listeners when the run ends)."""
    from airflow.models.serialized_dag import SerializedDagModel

    run.dag = SerializedDagModel.get_dag("transform", session=session)
    run.update_state(session=session)
    session.flush()


def test_events_of_a_cycle_the_build_covered_create_no_second_run(session, transform_in_db):
    from airflow.models.dag import DagModel

    first = _emit(session, 0)  # the cycle's first extract to finish
    run = _scheduler_creates_run(session)
    assert run is not None and first.id in {e.id for e in run.consumed_asset_events}
    # the rest of the cycle lands while the run waits for the cycle to settle: queued, deferred
    later = [_emit(session, i) for i in (1, 2, 3)]
    assert len(_queued(session)) == 3
    assert not {e.id for e in later} & {e.id for e in run.consumed_asset_events}
    _finish(session, run)  # the build starts after them, reads their rows, and the run succeeds
    _end(session, run)
    assert run.state == "success"

    assert _queued(session) == set()
    _, triggered = DagModel.dags_needing_dagruns(session)
    assert "transform" not in triggered, "a second transform run would be created for the same cycle"
    consumed = {e.id for e in run.consumed_asset_events}
    assert {e.id for e in later} <= consumed, "the run lists the events it built"

    # the next cycle: one run, which lists only its own events (not the ones the first run built)
    following = _emit(session, 4)
    second = _scheduler_creates_run(session)
    _start(second)
    assert {e.id for e in second.consumed_asset_events} == {following.id}


def test_an_event_after_the_build_started_still_sets_off_a_run(session, transform_in_db):
    from airflow.models.dag import DagModel

    _emit(session, 0)
    run = _scheduler_creates_run(session)
    covered = _emit(session, 1)
    early = _emit(session, 2)  # queued before the build started ...
    _finish(session, run)
    late = _emit(session, 2)  # ... and the same table extracted again while the build ran
    after = _emit(session, 3)  # a table first seen after the build started
    _end(session, run)
    assert run.state == "success"

    assert covered.asset_id not in _queued(session)
    assert _queued(session) == {late.asset_id, after.asset_id}, "data the build may not have read keeps its trigger"
    assert early.asset_id == late.asset_id
    _, triggered = DagModel.dags_needing_dagruns(session)
    assert "transform" in triggered
    second = _scheduler_creates_run(session)
    assert {late.id, after.id} <= {e.id for e in second.consumed_asset_events}


def test_a_failed_build_leaves_the_queue_for_the_next_run(session, transform_in_db):
    from airflow.models.dag import DagModel

    _emit(session, 0)
    run = _scheduler_creates_run(session)
    queued = _emit(session, 1)
    _finish(session, run, build_state="failed")
    _end(session, run)  # publish_marts (all_done) is the leaf: the run itself may end "success"
    assert run.state in ("success", "failed")

    assert _queued(session) == {queued.asset_id}
    _, triggered = DagModel.dags_needing_dagruns(session)
    assert "transform" in triggered, "a failed build must not swallow the events it did not build"


@pytest.mark.parametrize("found_nothing_new", [True, False], ids=["nothing-new", "skipped-for-rotation"])
def test_a_run_that_found_nothing_new_consumes_the_events_it_checked(session, transform_in_db, found_nothing_new):
    """A cycle that extracted no changes: the run checks, skips, and the held-back events of the
    same cycle set off no second run. A run skipped for another reason (salt rotation in
    progress: it recorded no check) leaves them queued, so the run after the swap builds."""
    from airflow.models.dag import DagModel
    from airflow.models.xcom import XComModel

    from dataacuity.transform_coalesce import CHECK_TASK_ID, NOTHING_NEW_XCOM_KEY

    _emit(session, 0)
    run = _scheduler_creates_run(session)
    checked = _emit(session, 1)
    cut = _finish(session, run, build_state="skipped")
    if found_nothing_new:  # what writes_allowed records before it skips the run
        XComModel.set(
            NOTHING_NEW_XCOM_KEY,
            cut.isoformat(),
            dag_id="transform",
            task_id=CHECK_TASK_ID,
            run_id=run.run_id,
            session=session,
        )
    after = _emit(session, 2)  # landed after the check: may be new
    _end(session, run)

    _, triggered = DagModel.dags_needing_dagruns(session)
    if found_nothing_new:
        assert _queued(session) == {after.asset_id}
    else:
        assert _queued(session) == {checked.asset_id, after.asset_id}
    assert "transform" in triggered
