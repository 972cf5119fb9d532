"""ResourceSlices across plugin and kubelet restarts: the kubelet wipes a gone plugin's slices after
its 30 s grace period, keeps them for a plugin back in time, and wipes them at its own start-up.

The plugin is stopped and started through the bundled control surface (the sockets go, the process
stays), on a node reserved for the test.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from dra_conformance.waiting import timeout, wait_for
from fixtures.driver import wait_slices

pytestmark = [pytest.mark.feature("core"), pytest.mark.serial, pytest.mark.capability("control")]
WIPING_DELAY = 30  # seconds: the kubelet's defaultWipingDelay (pkg/kubelet/cm/dra)


def _uids(kit, node: str) -> set[str]:
    return {s["metadata"]["uid"] for s in kit.driver.slices(node)}


def _wiped(kit, node: str, what: str) -> None:
    def probe() -> tuple[bool, Any]:
        left = _uids(kit, node)
        return not left, f"{len(left)} slice(s) of {kit.driver.name} on {node}"
    wait_for(what, probe, "slices_gone")


def test_slices_are_removed_after_the_plugin_stops_past_the_grace_period(kit, reserved_node) -> None:
    control = kit.driver.control(reserved_node)
    assert _uids(kit, reserved_node)
    control.stop_serving()
    stopped = time.monotonic()
    try:
        assert _uids(kit, reserved_node), "the slices went at once: no grace period for a restart"
        _wiped(kit, reserved_node, f"the kubelet to remove the slices of the stopped plugin on {reserved_node}")
        waited = time.monotonic() - stopped
        assert waited >= WIPING_DELAY * 0.8, f"slices removed {waited:.0f}s after the plugin stopped"
    finally:
        control.start_serving()
    wait_slices(kit.driver, [reserved_node], "driver_restart")  # the plugin publishes again once registered


def test_slices_are_kept_when_the_plugin_is_back_within_the_grace_period(kit, reserved_node) -> None:
    control = kit.driver.control(reserved_node)
    before = _uids(kit, reserved_node)
    assert before
    control.stop_serving()
    control.start_serving()
    back = time.monotonic()

    def probe() -> tuple[bool, Any]:
        now = _uids(kit, reserved_node)
        if now != before:
            raise AssertionError(f"slices replaced after a quick plugin restart: {sorted(before)} -> {sorted(now)}")
        return time.monotonic() - back > WIPING_DELAY + 5, f"{len(now)} slice(s) unchanged"
    assert timeout("slices_kept") > WIPING_DELAY + 5
    wait_for(f"the slices on {reserved_node} to outlast the wiping delay", probe, "slices_kept")


def test_slices_of_a_gone_plugin_are_removed_at_kubelet_start(kit, kind_node) -> None:
    control = kit.driver.control(kind_node.name)
    control.stop_serving()
    try:
        kind_node.restart_kubelet()  # well within the grace period of the plugin's stop
        _wiped(kit, kind_node.name, f"the restarted kubelet to remove the slices on {kind_node.name}")
    finally:
        control.start_serving()
    wait_slices(kit.driver, [kind_node.name], "driver_restart")
