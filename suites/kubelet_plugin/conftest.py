"""Fixtures of the kubelet-contract suite: a node reserved for a disruptive test, its kind node
container, and the driver's per-claim ledger."""

from __future__ import annotations

from typing import Any

import pytest

from fixtures.claim_ledger import ClaimLedger
from fixtures.driver import wait_registered, wait_slices
from fixtures.node_ops import KindNode


def _healthy_again(kit: Any, node: str) -> None:
    """What the next test on the node relies on: the plugin registered and its pool complete."""
    wait_slices(kit.driver, [node], "driver_restart")
    if kit.driver.profile.has("control"):
        wait_registered(kit.driver, [node], "driver_restart")


@pytest.fixture
def reserved_node(kit: Any) -> Any:
    """A node no other test uses while this one disrupts its plugin."""
    node = kit.reserve()
    yield node
    _healthy_again(kit, node)


@pytest.fixture
def kind_node(kit: Any) -> Any:
    """The reserved node's kind container, for kubelet and node restarts (skips off kind)."""
    ops = KindNode.of(kit.api, kit.reserve())
    yield ops
    if not ops.kubelet_healthy():  # a test that failed with the kubelet stopped
        ops.start_kubelet()
    _healthy_again(kit, ops.name)


@pytest.fixture
def ledger(kit: Any) -> Any:
    """ledger(node) -> the driver's per-claim counts on that node (None checks without `control`)."""
    return lambda node: ClaimLedger(kit, node)
