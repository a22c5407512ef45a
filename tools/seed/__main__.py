"""``python -m tools.seed``: see tools/seed/cli.py."""

import sys

from tools.seed.ddl import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "plugins"))  # dataacuity.registry, when run without the Makefile's PYTHONPATH

from tools.seed.cli import main

sys.exit(main())
