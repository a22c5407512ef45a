"""The transform's Cosmos watcher mode, made cheap per model (issue 11: a run within 1.5x of one
`dbt build` while keeping a task per model and per model's tests).

Cosmos 1.15 `ExecutionMode.WATCHER` runs ONE `dbt build` (the producer task) and renders a sensor
task per model and per model's tests that reports dbt's status for that node. Stock, each sensor
starts on a worker (a process that parses the DAG file), defers, and resumes on a worker: two task
starts per node, about 250 on this project, which on 2 cores costs more than the build itself.

`make_consumers_cheap()` turns every sensor of the task group into a *start-from-trigger* task: the
scheduler hands it straight to the triggerer, where `NodeStatusTrigger` reads the node's status
from the producer's XCom and ends the task there (TaskSuccessEvent / TaskSkippedEvent) with no
worker at all. Only a failure goes back to a worker (Cosmos' execute_complete raises it, so
on_failure_callback, retries and TaskFailed work as for any task), and a retry (try 2+) falls back
to Cosmos' own `dbt run/test --select <node>` on a worker, as in LOCAL mode.

The sensors are released while the build runs (no producer -> sensor dependency): the root ones
start with the producer and each level of the dbt graph ends in the triggerer soon after dbt
finished its node, so when the build ends only its last levels remain (measured in
bench/bench_pipeline.py: with the producer upstream of the roots, ~12 graph levels of ~6 s each came
AFTER the build). A waiting trigger polls one XCom every `poke_interval` and the producer's state
every few polls. Sensors still follow the dbt graph, so a failed model or test leaves everything
downstream upstream_failed (never retried on top of data that failed its tests). `dag.test()` runs
one task at a time on its own worker: a sensor it picks before the producer has run is rescheduled
(`wait_for_build_start`), so the producer runs first there too.

The triggerer deserialises the task's whole DAG for every start-from-trigger task it starts (Airflow
3.3 TriggerRunner.create_runtime_ti): ~0.16 s for this DAG at load 5, in the trigger runner's event
loop, ~130 times per run. `cache_trigger_runner_dags` keeps the last few deserialised DAGs there,
keyed by the serialised DAG's content.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import OrderedDict
from typing import Any

PRODUCER_TASK_ID = "dbt_producer_watcher"  # cosmos.constants.PRODUCER_WATCHER_TASK_ID
TRIGGER_CLASSPATH = "dataacuity.transform_watch.NodeStatusTrigger"
POKE_INTERVAL = 5.0  # seconds between a waiting sensor's XCom reads (in the triggerer)
PRODUCER_STATE_EVERY = 3  # ...and the producer's state every 3rd poll (a failed or finished build)
NOT_STARTED = frozenset({None, "none", "scheduled", "queued"})  # producer states before the build ran


def _watcher_trigger_base():
    from cosmos.operators._watcher.triggerer import WatcherTrigger

    return WatcherTrigger


class NodeStatusTrigger(_watcher_trigger_base()):  # type: ignore[misc]
    """Cosmos' WatcherTrigger, started by the scheduler (start_from_trigger) and ending the task in
    the triggerer when the node succeeded or was skipped. run_id and map_index come from the task
    instance the triggerer attaches, so the trigger's kwargs are static (serialised with the DAG)."""

    def __init__(
        self,
        model_unique_id: str,
        producer_task_id: str,
        dag_id: str,
        run_id: str | None = None,
        map_index: int | None = None,
        poke_interval: float = POKE_INTERVAL,
        is_test_sensor: bool = False,
        **kwargs: Any,
    ):
        super().__init__(
            model_unique_id=model_unique_id,
            producer_task_id=producer_task_id,
            dag_id=dag_id,
            run_id=run_id,  # type: ignore[arg-type]
            map_index=map_index,
            poke_interval=poke_interval,
            is_test_sensor=is_test_sensor,
        )

    def serialize(self) -> tuple[str, dict[str, Any]]:
        _, kwargs = super().serialize()
        return TRIGGER_CLASSPATH, kwargs

    async def _node_status(self) -> str | None:
        """The node's final dbt status from the producer's XCom: ONE read. (Cosmos' own poll also
        reads the producer's state and the compiled SQL each time; the triggerer runs every XCom read
        of every trigger in one thread, so with ~130 sensors starting together those extra reads
        were most of the time from the end of the build to the end of the run.)"""
        if self.is_test_sensor:
            from cosmos.operators._watcher.aggregation import get_tests_status_xcom_key

            return await self.get_xcom_val(get_tests_status_xcom_key(self.model_unique_id))
        return await self._get_node_status()

    async def run(self):
        import asyncio

        from airflow.triggers.base import TaskSkippedEvent, TaskSuccessEvent, TriggerEvent
        from cosmos.listeners.dag_run_listener import EventStatus
        from cosmos.operators._watcher.state import (
            ProducerTaskState,
            is_dbt_node_status_failed,
            is_dbt_node_status_skipped,
            is_dbt_node_status_success,
        )
        from cosmos.operators._watcher.triggerer import WatcherEventReason

        terminal_states = (
            ProducerTaskState.SUCCESS,
            ProducerTaskState.FAILED,
            ProducerTaskState.SKIPPED,
            "upstream_failed",
            "removed",
        )
        ti = getattr(self, "task_instance", None)
        if self.run_id is None and ti is not None:
            self.run_id = ti.run_id
            self.map_index = getattr(ti, "map_index", -1)
        try_number = getattr(ti, "try_number", 1) or 1
        if try_number > 1 and await self._get_producer_task_status() in terminal_states:
            # A retry or a clear from the UI: run the node on a worker (Cosmos' fallback).
            yield TriggerEvent({"status": EventStatus.FAILED, "reason": WatcherEventReason.PRODUCER_SKIPPED})
            return
        polls = 0
        while True:
            status = await self._node_status()
            if is_dbt_node_status_success(status):
                self.log.info("dbt node %s: %s", self.model_unique_id, status)
                yield TaskSuccessEvent()
                return
            if is_dbt_node_status_skipped(status):
                self.log.info("dbt node %s was skipped by dbt", self.model_unique_id)
                yield TaskSkippedEvent()
                return
            if is_dbt_node_status_failed(status):
                yield TriggerEvent({"status": EventStatus.FAILED, "reason": WatcherEventReason.NODE_FAILED})
                return
            polls += 1
            if polls % PRODUCER_STATE_EVERY != 1:  # the node's status is what ends it on the common path
                await asyncio.sleep(self.poke_interval)
                continue
            producer_state = await self._get_producer_task_status()  # no status: did the build end?
            if producer_state == ProducerTaskState.FAILED:
                yield TriggerEvent({"status": EventStatus.FAILED, "reason": WatcherEventReason.PRODUCER_FAILED})
                return
            if producer_state == ProducerTaskState.SUCCESS:  # not run by dbt (ephemeral, empty, tests-less)
                yield TaskSuccessEvent()
                return
            if producer_state in terminal_states:  # the producer never ran (kill switch, upstream failure)
                self.log.info(
                    "producer %s is %s: nothing ran for %s", self.producer_task_id, producer_state, self.model_unique_id
                )
                yield TaskSkippedEvent()
                return
            await asyncio.sleep(self.poke_interval)


# dbt events the producer stores per node (XCom `<node>_dbt_event`): Cosmos 1.15 pushes NodeStart,
# NodeCompiling, NodeExecuting and NodeFinished, each a synchronous XCom write (an Execution API call,
# under one lock shared by dbt's threads), and the key keeps only the last one. Measured under the
# scheduler (bench/bench_pipeline.py, load average ~9): the build's nodes took 624 s of thread time
# inside the producer for a project that one `dbt build` runs in 142 s; the per-event writes were
# most of the difference. What the per-node tasks read: the node's status (`<node>_status`, and
# `<model>_tests_status` for its tests) in the triggerer, and dbt's event only when the node did not
# succeed (the task resumes on a worker, which logs it). Nobody reads a node's compiled SQL (Cosmos'
# own trigger returns it for the task's rendered template; NodeStatusTrigger ends successful tasks
# in the triggerer). So the producer writes, per node: its status, and dbt's final event or error
# only when it did not succeed; no compiled SQL (one XCom write per node fewer, the SQL stays out
# of XCom). Measured again with bench/bench_pipeline.py (README, transform benchmark).
FINAL_NODE_EVENTS = frozenset({"NodeFinished"})


def push_final_node_events_only() -> None:
    """Keep the producer's per-node XCom writes to what the per-node tasks read (see above)."""
    from cosmos.operators._watcher import base
    from cosmos.operators._watcher.state import is_dbt_node_status_success

    needed = (
        "_DBT_EVENT_ALLOWLIST",
        "_DBT_ERROR_EVENTS_TYPES",
        "_process_dbt_log_event",
        "store_compiled_sql_for_model",
    )
    if not all(hasattr(base, name) for name in needed):
        raise RuntimeError("cosmos.operators._watcher.base changed: review push_final_node_events_only()")
    base._DBT_EVENT_ALLOWLIST = base._DBT_ERROR_EVENTS_TYPES | FINAL_NODE_EVENTS
    base.store_compiled_sql_for_model = _no_compiled_sql
    stock = base._process_dbt_log_event
    if getattr(stock, "_dataacuity_wrapped", None) is not None:
        return

    def events_of_unsuccessful_nodes(task_instance, dbt_log):
        node_info = (dbt_log.get("data") or {}).get("node_info") or {}
        if is_dbt_node_status_success(node_info.get("node_status")):
            return None  # a successful node's task ends in the triggerer: nobody reads its event
        return stock(task_instance, dbt_log)

    events_of_unsuccessful_nodes._dataacuity_wrapped = stock
    base._process_dbt_log_event = events_of_unsuccessful_nodes


def _no_compiled_sql(*args, **kwargs) -> None:
    """Replaces Cosmos' store_compiled_sql_for_model in the producer (see above)."""


def make_consumers_cheap(task_group, poke_interval: float = POKE_INTERVAL) -> int:
    """Start every watcher sensor of `task_group` from the triggerer, released while the build runs
    (see the module doc); have the producer store each node's final dbt event only
    (push_final_node_events_only). Returns how many sensors were changed."""
    from airflow.sdk.bases.operator import BaseOperator  # noqa: F401  (Airflow first, then Cosmos)
    from airflow.triggers.base import StartTriggerArgs
    from cosmos.operators._watcher.base import BaseConsumerSensor

    push_final_node_events_only()

    producer = None
    sensors = []
    for task in task_group.children.values() if hasattr(task_group, "children") else []:
        for leaf in _walk(task):
            if leaf.task_id.endswith(PRODUCER_TASK_ID):
                producer = leaf
            elif isinstance(leaf, BaseConsumerSensor):
                sensors.append(leaf)
    if producer is None:
        raise ValueError(f"no {PRODUCER_TASK_ID} task in {task_group.group_id}: is the execution mode WATCHER?")
    for sensor in sensors:
        sensor.start_from_trigger = True
        sensor.start_trigger_args = StartTriggerArgs(
            trigger_cls=TRIGGER_CLASSPATH,
            trigger_kwargs={
                "model_unique_id": sensor.model_unique_id,
                "producer_task_id": producer.task_id,
                "dag_id": sensor.dag_id,
                "poke_interval": poke_interval,
                "is_test_sensor": sensor.is_test_sensor,
            },
            next_method="execute_complete",
            next_kwargs=None,
            timeout=None,
        )
        if not hasattr(sensor, "_pre_execute_hook"):
            raise RuntimeError("BaseOperator changed (no _pre_execute_hook): review make_consumers_cheap()")
        sensor._pre_execute_hook = wait_for_build_start
    return len(sensors)


def wait_for_build_start(context) -> None:
    """pre_execute of every watcher sensor: reschedule a sensor that reached a worker before the
    producer ran. Under the scheduler the sensors start in the triggerer and reach a worker only to
    fail or retry (the build has run by then); `dag.test()` runs one task at a time and may pick a
    sensor before the producer, whose trigger would then wait forever."""
    from datetime import UTC, datetime

    from airflow.sdk.exceptions import AirflowRescheduleException
    from cosmos.operators._watcher.state import build_producer_state_fetcher

    ti = context["ti"]
    task = ti.task
    fetch = build_producer_state_fetcher(
        airflow_version=_airflow_version(),
        dag_id=ti.dag_id,
        run_id=ti.run_id,
        producer_task_id=task.producer_task_id,
        logger=task.log,
    )
    state = fetch() if fetch else None
    if state in NOT_STARTED:
        task.log.info("producer %s is %s: rescheduled until the build has run", task.producer_task_id, state)
        raise AirflowRescheduleException(datetime.now(UTC))


def _airflow_version():
    from cosmos.constants import AIRFLOW_VERSION

    return AIRFLOW_VERSION


class _DagCache:
    """The last few DAGs the trigger runner deserialised, by the serialised DAG's content."""

    size = 8

    def __init__(self, deserialise):
        self.deserialise = deserialise
        self.dags: OrderedDict[str, Any] = OrderedDict()

    def from_dict(self, serialized: dict):
        key = hashlib.blake2b(json.dumps(serialized, sort_keys=True, default=str).encode(), digest_size=16).hexdigest()
        if key in self.dags:
            self.dags.move_to_end(key)
            return self.dags[key]
        dag = self.dags[key] = self.deserialise(serialized)
        while len(self.dags) > self.size:
            self.dags.popitem(last=False)
        return dag


def cache_trigger_runner_dags() -> bool:
    """In the triggerer's runner process: deserialise each DAG version once, not once per trigger
    (see the module doc). Returns whether it is installed. Only where the triggerer is already
    imported (this module is imported there to load NodeStatusTrigger); nothing anywhere else."""
    runner = sys.modules.get("airflow.jobs.triggerer_job_runner")
    if runner is None:
        return False
    current = getattr(runner, "DagSerialization", None)
    if current is None or not hasattr(current, "from_dict"):
        raise RuntimeError("airflow.jobs.triggerer_job_runner changed: review cache_trigger_runner_dags()")
    if isinstance(getattr(current, "_dataacuity_cache", None), _DagCache):
        return True
    cache = _DagCache(current.from_dict)
    runner.DagSerialization = type(
        "CachedDagSerialization",
        (current,),
        {"from_dict": staticmethod(cache.from_dict), "_dataacuity_cache": cache},
    )
    return True


def _walk(node):
    children = getattr(node, "children", None)
    if children is None:
        yield node
        return
    for child in children.values():
        yield from _walk(child)


cache_trigger_runner_dags()
