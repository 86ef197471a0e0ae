"""The ``modelfleet`` command: argument parsing, dispatch and exit codes (``commands.main``)."""
