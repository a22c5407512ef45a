"""``python -m tools.seed``: see tools/seed/cli.py."""

import sys

from tools.seed.cli import main

sys.exit(main())
