"""One transform run per extract cycle (issue 11), as plain functions the transform DAG calls.

The transform is scheduled on every raw table's Asset. An extract cycle (18 sources on the same
5-minute tick) emits its events over a minute or so; the first one creates a transform run, and
with max_active_runs=1 the scheduler holds back the rest until that run ends. So:

1. `wait_for_extract_cycle`: the run's first task waits (up to a bound) until no extract__* DAG
   run is queued or running, so its one `dbt build` reads everything the cycle landed;
2. dataacuity.transform_coalesce (a scheduler listener): when the run succeeds, the held-back
   events its build covered are consumed by it, so they create no second run;
3. `has_changes_since_last_build`: a run created anyway (after a failed build, or for events of
   the next cycle) finds no extract batch newer than the last build and skips itself in seconds
   (no dbt, no push-back) when there is nothing to do.

bench/bench_pipeline.py counts transform runs per extract cycle and how many of them built.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from dataacuity import sqlfiles

log = logging.getLogger(__name__)


def wait_for_extract_cycle(
    extract_dag_ids: list[str],
    count_active: Callable[[str], int],
    *,
    timeout: float = 240.0,
    poll: float = 3.0,
    sleep: Callable[[float], None] = time.sleep,
) -> float:
    """Block until no extract DAG run is queued/running (or `timeout`). Returns the seconds waited."""
    started = time.monotonic()
    while True:
        active = [dag_id for dag_id in extract_dag_ids if count_active(dag_id)]
        waited = time.monotonic() - started
        if not active:
            log.info("extract cycle settled after %.1fs", waited)
            return waited
        if waited >= timeout:
            log.warning("extract runs still active after %.0fs (%s): building what has landed", waited, active)
            return waited
        sleep(poll)


def has_changes_since_last_build(monitor_conn) -> bool:
    """True when an extract landed or changed rows after the last transform build started."""
    last_change, last_build = monitor_conn.execute(sqlfiles.query("transform/changes_since_last_build.sql")).fetchone()
    log.info("last extract change %s, last build started %s", last_change, last_build)
    return last_build is None or (last_change is not None and last_change > last_build)


def dbt_ran_in(monitor_conn, airflow_run_id: str) -> bool:
    """Did this transform DAG run invoke dbt (dbt_artifacts.invocations)?"""
    return monitor_conn.execute(sqlfiles.query("transform/invocations_of_run.sql"), (airflow_run_id,)).fetchone()[0] > 0
