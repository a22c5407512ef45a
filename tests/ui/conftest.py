"""The real Airflow UI in a real browser: tests of the manual DAGs' trigger forms.

A session fixture starts Airflow's components (the same four `airflow standalone` runs: api-server,
scheduler, dag-processor, triggerer; LocalExecutor, SQLite metadata DB, SimpleAuthManager) against
the local topology — the `AIRFLOW_CONN_*` of ``tools.topology.connection_env()`` like `make airflow`,
except that the `alertmanager` connection points at the session's test Alertmanager, so a page the
DAG sends reaches the ``webhook`` fixture. DAGs are built as deployed (deadlines on). Playwright
drives Debian's chromium (``/usr/bin/chromium``; tools/install-system-deps.sh installs it).

One Airflow per test session, started on first use and stopped at the end: every process it started
(and their children) is ended by pid. Only the DAG files the collected UI tests name are parsed
(symlinked into a folder of their own), with a 2-second DAG-processor refresh.

Writing a form test
-------------------
Put it in tests/ui/, name the DAG files it needs with the ``airflow_dags`` marker (stems of files
in dags/; without the marker the whole dags/ folder is parsed), and use the ``airflow_ui`` fixture
plus a logged-in ``ui_page``::

    import pytest

    pytestmark = pytest.mark.airflow_dags("kill_switch")

    def test_engage_from_the_form(airflow_ui, ui_page):
        airflow_ui.open_trigger_form(ui_page, "kill_switch")
        airflow_ui.fill_params(ui_page, action="engage", reason="...", confirm="STOP ALL WAREHOUSE WRITES")
        run_id = airflow_ui.submit_trigger(ui_page, "kill_switch")
        assert airflow_ui.wait_for_run("kill_switch", run_id) == "success"
        # then assert what the run did: rows in the databases, alerts at the webhook ...

- ``fill_params`` types into the form field of each Param by its name (a string field, or the
  select of a Param with ``enum``); ``params_error(page)`` returns what the dialog says is wrong
  and ``trigger_enabled(page)`` whether the Trigger button can be pressed (the form disables it
  while a required field is empty or too short).
- ``submit_trigger`` presses Trigger and returns the id of the run the form created;
  ``submit_trigger_refused`` presses it expecting a refusal, asserts no run was created and returns
  the error shown (Airflow checks ``pattern`` and the like on the server: ``Invalid input for param
  confirm: ...``).
- ``wait_for_run`` polls the REST API until the run is success/failed and returns that state;
  ``task_instances(dag_id, run_id)`` and ``api(method, path, body)`` reach the rest of the API
  (``/api/v2/...``) with the admin's token.
- Leave shared state as you found it (the topology is shared by the whole test session).

Settings: ``AIRFLOW_UI_PORT`` (else ``AIRFLOW_PORT``, else a free port) for the api-server;
worker/trigger log servers on ``DA_PORT_BASE`` + 7001 / + 7002. Logs of each component are in
``.local/airflow-ui/logs/<component>.log`` (printed when start-up fails).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from tests.conftest import REPO

UI_HOME = REPO / ".local" / "airflow-ui"
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START_TIMEOUT = 240.0  # migrate + four components + first parse on a busy 2-core machine
RUN_TIMEOUT = 180.0
FINAL_STATES = {"success", "failed"}


def pytest_configure(config):
    config.addinivalue_line("markers", "airflow_dags(*stems): DAG files of dags/ the airflow_ui fixture must parse")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ui_port() -> int:
    value = os.environ.get("AIRFLOW_UI_PORT") or os.environ.get("AIRFLOW_PORT")
    return int(value) if value else _free_port()


@dataclass
class AirflowUI:
    """A running Airflow (api-server + scheduler + dag-processor + triggerer) and helpers to drive it."""

    base_url: str
    username: str
    password: str
    home: Path
    dag_files: tuple[str, ...]
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    _token: str | None = None

    # -- REST API ------------------------------------------------------------------------------

    def token(self) -> str:
        if self._token is None:
            body = json.dumps({"username": self.username, "password": self.password}).encode()
            request = urllib.request.Request(
                f"{self.base_url}/auth/token", data=body, headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                self._token = json.load(response)["access_token"]
        return self._token

    def api(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        """Call the REST API (``path`` like ``/api/v2/dags``) as the admin: (HTTP status, JSON body)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.base_url}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.token()}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                raw = response.read()
                return response.status, (json.loads(raw) if raw else {})
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                return exc.code, json.loads(raw)
            except ValueError:
                return exc.code, {"detail": raw.decode(errors="replace")}

    def run_ids(self, dag_id: str) -> set[str]:
        status, body = self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns?limit=100&order_by=-run_after")
        assert status == 200, body
        return {run["dag_run_id"] for run in body["dag_runs"]}

    def run_state(self, dag_id: str, run_id: str) -> str:
        status, body = self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}")
        assert status == 200, body
        return body["state"]

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = RUN_TIMEOUT) -> str:
        """Poll until the run is success or failed; return that state."""
        deadline = time.monotonic() + timeout
        while (state := self.run_state(dag_id, run_id)) not in FINAL_STATES:
            if time.monotonic() > deadline:
                raise AssertionError(f"{dag_id} run {run_id} still {state} after {timeout}s")
            self._check_alive()
            time.sleep(0.5)
        return state

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        quoted = urllib.parse.quote(run_id, safe="")
        status, body = self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{quoted}/taskInstances")
        assert status == 200, body
        return body["task_instances"]

    # -- browser -------------------------------------------------------------------------------

    def login(self, page) -> None:
        page.goto(f"{self.base_url}/auth/login")
        page.fill("input[name=username]", self.username)
        page.fill("input[name=password]", self.password)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/auth/login" not in url)

    def open_trigger_form(self, page, dag_id: str) -> None:
        """Open the DAG's page and its Trigger dialog (the Params form)."""
        page.goto(f"{self.base_url}/dags/{dag_id}")
        page.get_by_role("button", name="Trigger").first.click()
        dialog = page.get_by_role("dialog")
        dialog.wait_for(state="visible")

    def fill_params(self, page, **values: str) -> None:
        """Type each value into its Param's field (select the option of an enum Param)."""
        dialog = page.get_by_role("dialog")
        for name, value in values.items():
            element = dialog.locator(f"#element_{name}")
            element.wait_for(state="visible")
            tag = element.evaluate("e => e.tagName.toLowerCase()")
            role = element.get_attribute("role") or ""
            if tag == "select":
                element.select_option(value)
            elif tag in {"input", "textarea"} and role != "combobox":
                element.fill(value)
            else:  # a custom select (combobox): open it and pick the option
                element.click()
                page.get_by_role("option", name=value, exact=True).click()

    def trigger_button(self, page):
        return page.get_by_role("dialog").get_by_role("button", name="Trigger", exact=True)

    def trigger_enabled(self, page) -> bool:
        return self.trigger_button(page).is_enabled()

    def params_error(self, page) -> str:
        """What the dialog says is wrong: per-field messages and the error the server returned for
        a trigger it refused (empty when it shows none)."""
        dialog = page.get_by_role("dialog")
        texts = dialog.locator("[data-part=error-text], [data-testid=error-alert]").all_inner_texts()
        return "\n".join(t.strip() for t in texts if t.strip())

    def _press_trigger(self, page, dag_id: str, timeout: float) -> tuple[set[str], str]:
        """Press Trigger; wait until a run appears or the dialog shows an error: (new run ids, error)."""
        before = self.run_ids(dag_id)
        self.trigger_button(page).click()
        alert = page.get_by_role("dialog").locator("[data-testid=error-alert]")
        deadline = time.monotonic() + timeout
        while True:
            new = self.run_ids(dag_id) - before
            if new or alert.count():
                return new, self.params_error(page)
            if time.monotonic() > deadline:
                return new, ""
            time.sleep(0.3)

    def submit_trigger(self, page, dag_id: str, timeout: float = 30.0) -> str:
        """Press Trigger in the open dialog; return the id of the run it created."""
        new, error = self._press_trigger(page, dag_id, timeout)
        if len(new) != 1:
            raise AssertionError(f"pressing Trigger created runs {sorted(new)} of {dag_id}; dialog says: {error!r}")
        return new.pop()

    def submit_trigger_refused(self, page, dag_id: str, timeout: float = 30.0) -> str:
        """Press Trigger expecting a refusal: assert no run was created; return the dialog's error."""
        new, error = self._press_trigger(page, dag_id, timeout)
        assert not new, f"the form accepted the input: runs {sorted(new)} of {dag_id} created"
        assert error, f"no run of {dag_id} and no error shown after {timeout}s"
        return error

    # -- processes -----------------------------------------------------------------------------

    def _check_alive(self) -> None:
        dead = {name: proc.returncode for name, proc in self.processes.items() if proc.poll() is not None}
        if dead:
            raise AssertionError(f"Airflow components exited: {dead}\n{self.log_tails()}")

    def log_tails(self, lines: int = 30) -> str:
        out = []
        for name in self.processes:
            path = self.home / "logs" / f"{name}.log"
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"--- {path} (last {lines} lines)\n" + "\n".join(tail))
        return "\n".join(out)

    def stop(self) -> None:
        """End every process started (each in its own session), and every child they left behind."""
        procs: list[psutil.Process] = []
        for popen in self.processes.values():
            try:
                parent = psutil.Process(popen.pid)
                procs += [parent, *parent.children(recursive=True)]
            except psutil.NoSuchProcess:
                pass
            with contextlib.suppress(ProcessLookupError):
                os.killpg(popen.pid, signal.SIGTERM)
        for proc in procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.terminate()
        _, alive = psutil.wait_procs(procs, timeout=15)
        for proc in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
        psutil.wait_procs(alive, timeout=5)
        for popen in self.processes.values():
            try:
                popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                popen.kill()


def _requested_dag_files(session) -> tuple[str, ...]:
    stems: set[str] = set()
    for item in session.items:
        for mark in item.iter_markers("airflow_dags"):
            stems.update(mark.args)
    return tuple(sorted(stems))


def _dags_folder(stems: tuple[str, ...]) -> Path:
    """dags/ itself, or a folder of symlinks to just the requested DAG files."""
    if not stems:
        return REPO / "dags"
    folder = UI_HOME / "dags"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for stem in stems:
        source = REPO / "dags" / f"{stem}.py"
        if not source.exists():
            raise pytest.UsageError(f"airflow_dags marker names {stem!r}, but {source} does not exist")
        (folder / source.name).symlink_to(source)
    return folder


def _environment(port: int, dags_folder: Path, connections: dict[str, str], alertmanager_url: str) -> dict[str, str]:
    from tools import topology

    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW") and k != "DATAACUITY_DEADLINES"}
    env.update(connections)
    base = topology.port_base()
    env.update(
        {
            "AIRFLOW_CONN_ALERTMANAGER": alertmanager_url,
            "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
            "PYTHONPATH": f"{REPO / 'plugins'}:{REPO}",
            "AIRFLOW_HOME": str(UI_HOME),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(base + 7001),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(base + 7002),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "2",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__BUNDLE_REFRESH_CHECK_INTERVAL": "1",
            "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
            # form tests trigger runs; a scheduled DAG (rtbf_cascade's daily sweep) unpaused here would
            # otherwise start its latest interval at once and hold the form's run behind it
            # (max_active_runs=1): in CI a sweep of every open request, 3.5 minutes
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        }
    )
    return env


def _migrate(env: dict[str, str]) -> None:
    from airflow import __version__ as airflow_version

    marker = UI_HOME / f".migrated-{airflow_version}"
    if marker.exists():
        return
    result = subprocess.run(["airflow", "db", "migrate"], env=env, capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"airflow db migrate failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    marker.touch()


def _wait_until_parsed(ui: AirflowUI, timeout: float) -> None:
    """Every requested DAG file has a DAG in the API (or its import error fails the session)."""
    wanted = set(ui.dag_files)
    deadline = time.monotonic() + timeout
    while True:
        ui._check_alive()
        try:
            status, body = ui.api("GET", "/api/v2/dags?limit=1000")
            if status == 200:
                seen = {Path(d["fileloc"]).stem for d in body["dags"]}
                if (wanted and wanted <= seen) or (not wanted and seen):
                    return
                _, errors = ui.api("GET", "/api/v2/importErrors")
                if errors.get("import_errors"):
                    raise RuntimeError(f"DAG import errors: {errors['import_errors']}")
        except (urllib.error.URLError, ConnectionError, OSError):
            ui._token = None
        if time.monotonic() > deadline:
            raise RuntimeError(f"DAGs {sorted(wanted)} not parsed after {timeout}s\n{ui.log_tails()}")
        time.sleep(0.5)


@pytest.fixture(scope="session")
def airflow_ui(request, topology, alertmanager):
    """A running Airflow against the topology (see the module docstring); stopped after the session."""
    from tools import topology as topo

    dag_files = _requested_dag_files(request.session)
    (UI_HOME / "logs").mkdir(parents=True, exist_ok=True)
    port = _ui_port()
    env = _environment(port, _dags_folder(dag_files), topo.connection_env(), alertmanager)
    password = secrets.token_urlsafe(16)
    (UI_HOME / "simple_auth_manager_passwords.json.generated").write_text(json.dumps({"admin": password}) + "\n")
    _migrate(env)
    ui = AirflowUI(f"http://127.0.0.1:{port}", "admin", password, UI_HOME, dag_files)
    try:
        for name in COMPONENTS:
            log = open(UI_HOME / "logs" / f"{name}.log", "w")  # noqa: SIM115 - the child writes it until stop()
            ui.processes[name] = subprocess.Popen(
                ["airflow", name], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
            log.close()
        _wait_until_parsed(ui, START_TIMEOUT)
        yield ui
    finally:
        ui.stop()


@pytest.fixture(scope="session")
def ui_browser():
    """Debian's chromium under Playwright, headless, for the session."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: run tools/install-system-deps.sh (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def ui_page(airflow_ui, ui_browser):
    """A fresh browser context, logged in as the admin."""
    context = ui_browser.new_context()
    context.set_default_timeout(90_000)  # a busy 2-core machine renders slowly
    page = context.new_page()
    airflow_ui.login(page)
    yield page
    context.close()
