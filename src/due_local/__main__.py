"""``python -m due_local``: deploy one template locally and push your own input through it."""

import sys

from due_local.local_run import main

sys.exit(main())
