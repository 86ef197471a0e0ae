"""The two ways a day-2 command fails on purpose, each with its own exit code.

Every module of the day-2 tools raises these, the drivers included; only the
command line (``infra.ops.cli``) turns them into a message and an exit code.
"""

from __future__ import annotations


class OpsError(Exception):
    """The operation failed, timed out or was refused: exit 1."""


class InvalidInput(Exception):
    """Unknown stack, model or variant, bad flags, a capability not supported: exit 2, nothing touched."""


class Refused(OpsError):
    """Checked and refused before anything changed (exit 1, as any failure): the history tells it apart."""


class RolledBack(OpsError):
    """The change was undone: every copy, or all traffic, is back on the previous version (exit 1)."""
