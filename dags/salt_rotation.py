"""salt_rotation: rotate the hashing keys and rebuild everything derived from them, blue/green.

Wiring only: the steps are dataacuity.rotation (plain functions, tested without a scheduler).
"""

from datetime import datetime, timedelta

from airflow.sdk import DAG, Param, task

from dataacuity.compliance import DURABLE_FAMILIES, ROTATING_FAMILIES
from dataacuity.dag_defaults import COMPLIANCE_QUEUE, default_args, tags
from dataacuity.rotation import ALL, CONFIRMATION, MIN_REASON_LENGTH, rotation_failed_alert

DOC = f"""\
### Salt rotation (runbook 11.3) — manual, P1 if it fails

**When to rotate:** annually (runbook 11.3); at once if a hashing key may have been exposed
(a warehouse or .118 superuser credential, a backup of .106/.118 outside its custody, a key found
anywhere in logs or files); when compliance asks for unlinkability with older extracts.
Not for the `{", ".join(DURABLE_FAMILIES)}` family: it is durable by design (tombstones).

**How:** Trigger with `family` (`{ALL}` or one of {", ".join(ROTATING_FAMILIES)}), a `reason`
(≥ {MIN_REASON_LENGTH} characters), `requested_by` (who asked), and type `{CONFIRMATION}` in
`confirm`. A wrong phrase fails the first task before anything changes (no page).

**What happens** (each step is a task; analytics keeps answering on the old generation until 6):
1. `begin` — .118 generates the new key(s) with `gen_random_bytes` (status *pending*); the key never
   leaves PostgreSQL (no key in Airflow, logs or XCom: only salt ids and fingerprints).
2. `load_pending` — the warehouse's protected copy loads the pending generation next to the active
   one. The transform DAG skips its runs from here until the swap (extracts keep running).
3. `build_shadow` — dbt builds every model of intermediate/marts/analytics/ml into
   `<schema>__rotation` with the new key, with all its tests (PII, k-anonymity, keys).
4. `verify` — same relations; row counts equal up to what was extracted meanwhile and what
   right-to-be-forgotten cascades erased in place (a rebuild recomputes it); no pseudonym of
   the old key left; joins between marts match as before.
5. `swap` — one short transaction: live schemas renamed to `<schema>__retired_<id>`, shadows renamed
   in, the new generation made active and the old key deleted from the warehouse. Analysts wait
   at most one lock attempt (≤ 0.5 s) and are never refused; each query sees one generation.
6. `complete` — .118 retires the old generation (who, when, why) and destroys its key bytes.
7. `refresh_pushback` — every app's push-back summaries (analytics_db on .104) are refreshed from
   the new marts by the push-back code itself, PII gate included. They hold app user ids, not
   pseudonyms, so their rows stay the same; the refresh proves the new marts still re-key to the
   apps' users. A gate refusal pages `PushBackRefused` and fails this task (the swap stays done).
8. `drop_retired` — the old pseudonyms are dropped.

**How to tell it worked:** the run is green; `compliance.key_rotation` (.118) has the row with
`status = completed`, `new_salt_ids`, `retired_salt_ids` and the evidence (row counts, swap
blocking time); `compliance.salt_status` shows the new generation active and the old one retired
with `destroyed_at`; `compliance.hash_key_status` on .106 shows the same fingerprints; `make demo`
prints the active generation and the last rotation.

**When it fails** (page `SaltRotationFailed`, P1 — a half-done rotation is an incident):
- before `swap`: analytics is untouched, on the old generation. Fix the cause (the task log names
  the failing model/test/check) and **trigger again with the same family**: it continues the open
  rotation (same pending key, shadow rebuilt from scratch). To give up instead ("start clean"):
  `python -m tools.salt_rotation abandon <rotation_id>` (drops the shadows and the pending key).
- `swap` could not take its locks: a long analyst transaction held them; rerun.
- after `swap` (`complete`, `refresh_pushback`, `drop_retired`), including a crash or a .118
  outage between the swap's commit and `complete` (.118 then still says `building`): analytics
  already runs on the new generation, consistently, and the transform keeps running on it.
  **Trigger again with the same family**: the rerun finds the warehouse swapped, skips to
  `complete` (retires exactly the old generation) and finishes. Such a rotation cannot be
  abandoned (`abandon` refuses: the new key is the warehouse's active key).

**Rolling back:** before `swap`, an abandoned rotation leaves everything as it was. After the
swap there is no going back to the old key — by design its bytes are destroyed; if the new
generation is suspect, rotate again. Runbook: docs/runbooks/SaltRotationFailed.md.
"""

with DAG(
    dag_id="salt_rotation",
    schedule=None,  # manual only
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,  # one rotation at a time (the .118 open-rotation index enforces it too)
    # One quick retry (every step is idempotent: a lock or connection hiccup), then the P1 page.
    default_args=default_args(
        retries=1,
        retry_delay=timedelta(seconds=5),
        retry_exponential_backoff=False,
        on_failure_callback=rotation_failed_alert,
        queue=COMPLIANCE_QUEUE,  # the compliance credentials live on that worker only
    ),
    tags=tags("compliance"),
    doc_md=DOC,
    params={
        "family": Param(
            ALL,
            type="string",
            enum=[ALL, *ROTATING_FAMILIES],
            title="Salt family",
            description=f"'{ALL}' rotates every rotating family; or one family.",
        ),
        "reason": Param(
            type="string",
            minLength=MIN_REASON_LENGTH,
            title="Reason",
            description="Why (kept with the retired key: who, when, why).",
        ),
        "requested_by": Param(type="string", minLength=2, title="Requested by", description="Who asked for it."),
        "confirm": Param(
            type="string",
            pattern=f"^{CONFIRMATION}$",
            title="Confirmation",
            description=f"Type {CONFIRMATION} to rotate.",
        ),
    },
):

    @task
    def begin(**context) -> dict:
        from airflow.sdk.exceptions import AirflowFailException

        from dataacuity import rotation

        try:
            request = rotation.parse_request(context["params"])  # wrong phrase: fails here, nothing changed
        except rotation.RotationRefused as error:
            raise AirflowFailException(str(error)) from error  # no retry, no page
        connectors = rotation.Connectors.from_airflow()
        started = rotation.begin(request, context["run_id"], connect_compliance=connectors.compliance)
        return started.as_xcom()

    def step(name: str):
        @task(task_id=name)
        def run_step(info: dict) -> dict:
            from dataacuity import rotation

            return rotation.dag_step(name, info)

        return run_step

    info = begin()
    for name in ("load_pending", "build_shadow", "verify", "swap", "complete", "refresh_pushback", "drop_retired"):
        info = step(name)(info)
