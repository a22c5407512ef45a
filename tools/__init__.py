"""Developer tooling (local topology, synthetic data, demo, pipeline runner); not deployed.

The pipeline package lives in plugins/ (where Airflow puts it on sys.path); make it importable
for `python -m tools.<x>` too.
"""

import sys
from pathlib import Path

_PLUGINS = str(Path(__file__).resolve().parent.parent / "plugins")
if _PLUGINS not in sys.path:
    sys.path.insert(0, _PLUGINS)
