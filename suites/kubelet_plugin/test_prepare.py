"""NodePrepareResources as the kubelet drives it: failures it retries, calls that hang past its
timeout, a failing claim among several, claims no container uses, and what reaches which container.

Faults target this test's namespace (the bundled control surface), so these tests share nodes with
the rest; each checks the pod and its events, and the driver's ledger: prepared exactly once.
"""

from __future__ import annotations

import pytest

from fixtures import builders as b
from fixtures import waits

pytestmark = [pytest.mark.feature("core"), pytest.mark.prepares]
control = pytest.mark.capability("control")


@control
@pytest.mark.parametrize("scope", ["call", "claim"])
def test_prepare_fails_then_succeeds_on_the_kubelets_retry(kit, ledger, scope: str) -> None:
    """A failed call (gRPC error) or a claim answered with an error: the kubelet says so in an event
    and retries until the pod runs; the claim is prepared once."""
    claim, device = kit.pinned_claim()
    calls = ledger(device.node)
    calls.control.fail("prepare", count=1, message="injected: device busy", scope=scope, namespace=kit.ns)
    pod = kit.pod({"gpu": b.from_claim(claim)})
    event = kit.prepare_failed(pod)
    assert "injected: device busy" in event["message"], event["message"]
    kit.running_on_retry(pod)
    e = calls.once(calls.uid(claim))
    assert e["errors"]["prepare"] == 1 and e["calls"]["prepare"] >= 2, e


@control
def test_prepare_hanging_past_the_kubelet_timeout_recovers_when_released(kit, ledger) -> None:
    """The kubelet gives up a hung call (45 s): the pod stays ContainerCreating with a deadline error;
    once the driver answers again, the pod runs with its claim prepared once."""
    claim, device = kit.pinned_claim()
    calls = ledger(device.node)
    with calls.hung("prepare"):
        pod = kit.pod({"gpu": b.from_claim(claim)})
        uid = calls.uid(claim)
        calls.in_flight(uid)
        waits.pod_event(kit.api, kit.ns, pod, "FailedPrepareDynamicResources",
                        r"(?i)deadline|timeout|context canceled", key="plugin_call_timeout")
        p = kit.api.get("Pod", pod, kit.ns)
        waiting = ((p["status"].get("containerStatuses") or [{}])[0].get("state") or {}).get("waiting") or {}
        assert p["status"]["phase"] == "Pending" and waiting.get("reason") == "ContainerCreating", \
            waits.describe_pod(kit.api, p)
        assert calls.entry(uid)["prepared"] == 0, "the hung prepare set the claim up"
    kit.running_on_retry(pod)
    calls.once(uid)


@control
@pytest.mark.capability("multi-device")
def test_one_failing_claim_of_a_multi_claim_call(kit, ledger) -> None:
    """Two claims in one call, one answered with an error: the pod waits, the kubelet retries, and in
    the end each claim is prepared once."""
    cls_a, device = kit.pin()
    cls_b, _ = kit.pin(node=device.node)
    bad, good = kit.claim([b.request("gpu", cls_a)]), kit.claim([b.request("gpu", cls_b)])
    calls = ledger(device.node)
    calls.control.fail("prepare", count=1, message="injected: this claim only", scope="claim",
                       namespace=kit.ns, claim=bad)
    pod = kit.pod({"bad": b.from_claim(bad), "good": b.from_claim(good)})
    assert "injected: this claim only" in kit.prepare_failed(pod)["message"]
    kit.running_on_retry(pod)
    e_bad, e_good = calls.once(calls.uid(bad)), calls.once(calls.uid(good))
    if e_bad is not None:
        assert e_bad["errors"]["prepare"] == 1 and e_good["errors"]["prepare"] == 0, (e_bad, e_good)


@pytest.mark.capability("multi-device")
def test_a_claim_no_container_uses_is_prepared(kit, ledger) -> None:
    """The kubelet prepares every claim of the pod, also one that no container references; the
    container sees only the device of its own claim."""
    cls_used, used = kit.pin()
    cls_unused, _ = kit.pin(node=used.node)
    c_used, c_unused = kit.claim([b.request("gpu", cls_used)]), kit.claim([b.request("gpu", cls_unused)])
    pod = kit.pod({"used": b.from_claim(c_used), "unused": b.from_claim(c_unused)}, uses=["used"])
    uid = kit.running(pod)["metadata"]["uid"]
    assert kit.devices_seen(pod) == {used.name}
    waits.claim_reserved_for(kit.api, kit.ns, c_unused, uid)
    calls = ledger(used.node)
    calls.once(calls.uid(c_unused))


@pytest.mark.capability("opaque-config", "multi-device")
def test_configs_and_devices_reach_the_right_containers(kit, ledger) -> None:
    """Two containers, two claims, a config on one: each container sees its own device, and the
    config only where its claim is."""
    cfg = kit.role_config("gpu")
    cls_a, dev_a = kit.pin()
    cls_b, dev_b = kit.pin(node=dev_a.node)
    configured = kit.claim([b.request("gpu", cls_a)], config=[b.opaque(kit.driver.name, cfg.parameters)])
    plain = kit.claim([b.request("gpu", cls_b)])
    pod = kit.pod({"a": b.from_claim(configured), "b": b.from_claim(plain)},
                  containers=[kit.container("with-config", claims=["a"]), kit.container("plain", claims=["b"])])
    kit.running(pod)
    assert kit.devices_seen(pod, "with-config") == {dev_a.name}
    assert kit.devices_seen(pod, "plain") == {dev_b.name}
    assert all(cfg.shown(kit.env(pod, "with-config")).values())
    assert not any(cfg.shown(kit.env(pod, "plain")).values()), "the container without the config shows it"
    calls = ledger(dev_a.node)
    for claim in (configured, plain):
        calls.once(calls.uid(claim))


def test_init_container_uses_an_external_claim(kit, ledger) -> None:
    """An init container with the claim runs to completion first; the app container then starts."""
    claim, device = kit.pinned_claim()
    pod = kit.pod({"gpu": b.from_claim(claim)}, containers=[kit.container("app")],
                  init_containers=[kit.container("init", claims=["gpu"], command="env")])
    kit.running(pod)
    assert kit.devices_seen(pod, "init") == {device.name}
    calls = ledger(device.node)
    calls.once(calls.uid(claim))


@control
def test_slow_prepare_within_the_timeout_is_not_retried(kit, ledger) -> None:
    """A prepare that takes a few seconds but answers in time: one call, no failure event."""
    claim, device = kit.pinned_claim()
    calls = ledger(device.node)
    calls.control.delay("prepare", 5, count=1, namespace=kit.ns)
    pod = kit.pod({"gpu": b.from_claim(claim)})
    kit.running(pod)
    e = calls.once(calls.uid(claim))
    assert e["calls"]["prepare"] == 1 and e["errors"]["prepare"] == 0, e
    assert not [ev for ev in kit.api.events(kit.ns, pod) if ev.get("reason") == "FailedPrepareDynamicResources"]


@control
def test_pod_deleted_while_its_prepare_hangs_leaves_nothing_prepared(kit, ledger) -> None:
    """Deleting a pod whose prepare hangs: the pod goes, its claim is released, and whatever the
    driver set up for it is torn down (prepared as often as unprepared)."""
    claim, device = kit.pinned_claim()
    calls = ledger(device.node)
    with calls.hung("prepare"):
        pod = kit.pod({"gpu": b.from_claim(claim)})
        uid = calls.uid(claim)
        calls.in_flight(uid)
        kit.saw_prepare_call()
        kit.api.delete("Pod", pod, kit.ns)
    waits.gone(kit.api, "Pod", pod, kit.ns, key="kubelet_retry")
    waits.claim_deallocated(kit.api, kit.ns, claim)
    e = calls.wait(uid, "no call in flight and nothing left prepared",
                   lambda e: not e["inflight"] and e["prepared"] == e["unprepared"], "claim_deallocated")
    assert uid not in calls.control.state()["prepared"], e
