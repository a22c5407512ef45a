"""Real-Alertmanager test support: a webhook receiver and a session Alertmanager running the
production routing rendered with local webhook URLs (registered as fixtures by tests/conftest.py)."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from dataacuity.alerting import AlertmanagerClient
from tools import alertmanager_local as aml

AM_PORTS = range(59193, 59293)  # never the topology's 59093
TIMEOUT = 15.0  # bound for every poll (a notification normally arrives in ~1-2 s)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        pytest.fail(f"{name} not found: apt-get update && apt-get install -y prometheus-alertmanager")
    return path


def _free_port(exclude: set[int] = frozenset()) -> int:
    for port in AM_PORTS:
        if port in exclude:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.fail(f"no free port in {AM_PORTS}")


def poll(predicate: Callable[[], object], timeout: float = TIMEOUT, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


# ---------------------------------------------------------------------------------------------
# webhook receiver


class WebhookReceiver:
    """Collects Alertmanager webhook (v4) payloads per path: /pager, /ticket."""

    def __init__(self) -> None:
        self.payloads: list[tuple[str, dict]] = []
        self.cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.cond:
                    receiver.payloads.append((self.path, json.loads(body)))
                    receiver.cond.notify_all()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def alerts(self, path: str | None = None, status: str | None = None, **labels: str) -> list[dict]:
        """Alerts (from every notification so far) at `path` with `status` and these labels."""
        with self.cond:
            payloads = list(self.payloads)
        found = []
        for got_path, payload in payloads:
            if path and got_path != path:
                continue
            for alert in payload["alerts"]:
                if status and alert["status"] != status:
                    continue
                if all(alert["labels"].get(k) == v for k, v in labels.items()):
                    found.append({**alert, "_path": got_path, "_payload": payload})
        return found

    def wait(self, path: str, status: str = "firing", **labels: str) -> list[dict]:
        return poll(lambda: self.alerts(path, status, **labels), what=f"{status} notification at {path} for {labels}")


@pytest.fixture(scope="session")
def webhook():
    receiver = WebhookReceiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture(scope="session")
def local_config(tmp_path_factory, webhook) -> Path:
    path = tmp_path_factory.mktemp("am-config") / "alertmanager.local.yml"
    aml.render_local_config(webhook.url("/pager"), webhook.url("/ticket"), business_hours_always=True, path=path)
    return path


@pytest.fixture(scope="session")
def alertmanager(tmp_path_factory, local_config):
    """A real Alertmanager on a free 59193+ port for the session; yields its base URL."""
    state = tmp_path_factory.mktemp("am-state")
    port = _free_port()
    aml.start_alertmanager(state, port, local_config)
    yield f"http://127.0.0.1:{port}"
    aml.stop_alertmanager(state)
    assert not aml.is_running(state)


@pytest.fixture
def fresh_alertmanager(tmp_path, local_config):
    """Another real Alertmanager (same routing, same webhooks) for one test: its notification log
    is empty, so an alert an earlier test already paged with the same labels (re-notified only
    after repeat_interval by the session's Alertmanager) pages again at once."""
    state = tmp_path / "am-state"
    port = _free_port()
    aml.start_alertmanager(state, port, local_config)
    yield f"http://127.0.0.1:{port}"
    aml.stop_alertmanager(state)


@pytest.fixture
def client(alertmanager) -> AlertmanagerClient:
    return AlertmanagerClient(alertmanager, timeout=2, retries=2, backoff=0.1)
