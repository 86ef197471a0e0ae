"""``python -m infra.cli``: the same command as ``modelfleet`` (and what older revisions run too)."""

import sys

from infra.cli.commands import main

sys.exit(main())
