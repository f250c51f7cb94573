"""``python -m schemas.generate [--check]``."""

import sys

from schemas.generate import main

sys.exit(main())
