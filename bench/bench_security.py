"""Wall time of the adversarial suite (tests/security/, issue 10: target < 60 s, so it runs in every CI).

Runs the suite in a fresh pytest process against the already-running topology, exactly as CI would
run it (`make test PYTEST_ARGS=tests/security`), and reports the wall time and the test count.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_S = 60.0


def run() -> list[dict]:
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'plugins'}:{REPO}"}
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/security", "-q", "-p", "no:cacheprovider"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.monotonic() - started
    summary = (out.stdout.strip().splitlines() or [""])[-1]
    passed = int(m.group(1)) if (m := re.search(r"(\d+) passed", summary)) else 0
    return [
        {
            "name": f"adversarial suite tests/security ({passed} tests passed, exit {out.returncode})",
            "value": round(seconds, 1),
            "unit": "s",
            "baseline": TARGET_S,
            "ratio": round(seconds / TARGET_S, 2),
            "target": "< 60 s",
            "meets_target": seconds < TARGET_S and out.returncode == 0,
            "note": f"wall time of a fresh `pytest tests/security` process (imports included); {summary}",
        }
    ]
