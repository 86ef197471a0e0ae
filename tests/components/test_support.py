"""The component-test support itself: inputs made outside a plan survive an earlier asyncio.run()."""

from __future__ import annotations

import asyncio

import pulumi

from tests.components.support import known


def test_a_known_input_can_be_made_after_asyncio_run_left_no_loop():
    asyncio.run(asyncio.sleep(0))  # leaves the main thread without a current event loop
    assert isinstance(known("modelfleet-test"), pulumi.Output)
