"""The Alertmanager API v2 client: the only code that talks HTTP to Alertmanager.

Retries connection errors, timeouts, 429 and 5xx (``AlertmanagerUnavailable`` after the last
try); a 4xx is ``AlertmanagerRejected`` at once. Standard library only (the Airflow connection
is read through dataacuity.connections when asked for).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from base64 import b64encode
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from dataacuity.alerting.model import _LABEL_NAME_RE, Alert, _utcnow


class AlertmanagerError(RuntimeError):
    """Alertmanager did not accept the request."""


class AlertmanagerUnavailable(AlertmanagerError):
    """Connection error, timeout or 5xx after all retries: worth retrying later."""


class AlertmanagerRejected(AlertmanagerError):
    """4xx: the request itself is wrong; retrying the same payload will not help."""


def _matcher(key: str, value: str) -> str:
    if not _LABEL_NAME_RE.match(key):
        raise ValueError(f"invalid label name in filter: {key!r}")
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{key}="{escaped}"'


class AlertmanagerClient:
    """Small Alertmanager API v2 client with retries on connection errors, timeouts and 5xx.

    ``retries`` is the number of extra attempts; the waits are ``backoff * 2**n`` seconds.
    """

    def __init__(
        self,
        base_url: str,
        timeout: float = 5,
        retries: int = 3,
        backoff: float = 0.5,
        *,
        auth: tuple[str, str] | None = None,
    ) -> None:
        if not base_url or "://" not in base_url:
            raise ValueError(f"base_url must be an absolute http(s) URL, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.backoff = backoff
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if auth:
            token = b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            self._headers["Authorization"] = f"Basic {token}"

    def __repr__(self) -> str:
        return f"AlertmanagerClient({self.base_url!r})"

    @classmethod
    def from_connection(cls, conn_id: str = "alertmanager", **kwargs: Any) -> AlertmanagerClient:
        """Client for an Airflow connection (basic auth from login/password when set)."""
        conn = _get_airflow_connection(conn_id)
        if conn.login and "auth" not in kwargs:
            kwargs["auth"] = (conn.login, conn.password or "")
        return cls(_base_url_of(conn), **kwargs)

    # -- transport ---------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: Any = None) -> Any:
        url = f"{self.base_url}{path}"
        data = None if body is None else json.dumps(body).encode()
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            req = urllib.request.Request(url, data=data, method=method, headers=self._headers)
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    raw = resp.read()
                return json.loads(raw) if raw.strip() else None
            except urllib.error.HTTPError as exc:
                detail = exc.read().decode(errors="replace")[:500]
                if exc.code >= 500 or exc.code == 429:
                    last = AlertmanagerUnavailable(f"{method} {url}: HTTP {exc.code}: {detail}")
                    continue
                raise AlertmanagerRejected(f"{method} {url}: HTTP {exc.code}: {detail}") from exc
            except (urllib.error.URLError, OSError) as exc:
                # URLError wraps refused/unresolvable; TimeoutError and ConnectionError are OSErrors
                reason = getattr(exc, "reason", exc)
                last = AlertmanagerUnavailable(f"{method} {url}: {reason}")
        assert last is not None
        raise last

    # -- API ---------------------------------------------------------------------------------
    def post_payloads(self, payloads: Sequence[Mapping[str, Any]]) -> None:
        if payloads:
            self._request("POST", "/api/v2/alerts", list(payloads))

    def fire(self, alerts: Iterable[Alert]) -> None:
        """POST the alerts as firing (no endsAt). Re-send while the condition holds."""
        self.post_payloads([a.to_payload() for a in alerts])

    def resolve(self, alerts: Iterable[Alert], ends_at: datetime | None = None) -> None:
        """POST the same labels with endsAt in the past (now by default), full annotations."""
        end = ends_at or _utcnow()
        self.post_payloads([a.to_payload(ends_at=end) for a in alerts])

    def active_alerts(
        self,
        filter: Mapping[str, str] | None = None,
        *,
        silenced: bool = True,
        inhibited: bool = True,
        unprocessed: bool = True,
        receiver: str | None = None,
    ) -> list[dict[str, Any]]:
        """GET /api/v2/alerts (active ones; inhibited show ``status.state == "suppressed"``)."""
        params: list[tuple[str, str]] = [
            ("active", "true"),
            ("silenced", str(silenced).lower()),
            ("inhibited", str(inhibited).lower()),
            ("unprocessed", str(unprocessed).lower()),
        ]
        params += [("filter", _matcher(k, v)) for k, v in sorted((filter or {}).items())]
        if receiver:
            params.append(("receiver", receiver))
        return self._request("GET", "/api/v2/alerts?" + urllib.parse.urlencode(params)) or []

    def ready(self) -> bool:
        """True when GET /-/ready answers 200 (one attempt, no retries)."""
        try:
            with urllib.request.urlopen(f"{self.base_url}/-/ready", timeout=self.timeout) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError):
            return False


# -- Airflow connection ------------------------------------------------------------------------
def _get_airflow_connection(conn_id: str) -> Any:
    from dataacuity.connections import airflow_connection

    return airflow_connection(conn_id)


def _base_url_of(conn: Any) -> str:
    host = (conn.host or "").strip()
    if not host:
        raise ValueError(f"Airflow connection {conn.conn_id!r} has no host")
    if "://" in host:  # host given as a full URL (HttpHook convention)
        return host.rstrip("/")
    conn_type = (conn.conn_type or "").lower()
    schema = (conn.schema or "").strip("/")
    if schema in ("http", "https"):  # HttpHook convention: schema = URL scheme
        scheme, prefix = schema, ""
    else:  # URI form http://host:port/prefix puts the path in schema
        scheme = "https" if conn_type == "https" else "http"
        prefix = f"/{schema}" if schema else ""
    port = f":{conn.port}" if conn.port else ""
    return f"{scheme}://{host}{port}{prefix}"


def base_url_from_connection(conn_id: str = "alertmanager") -> str:
    """Base URL from the Airflow connection (locally AIRFLOW_CONN_ALERTMANAGER=http://...)."""
    return _base_url_of(_get_airflow_connection(conn_id))
