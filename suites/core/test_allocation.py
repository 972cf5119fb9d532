"""Claims are allocated from published devices, reserved for their pods, and prepared on the right node."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes.utils import parse_quantity

from fixtures import builders as b
from fixtures import devices as dv
from fixtures import waits

pytestmark = pytest.mark.feature("core")


def results(claim: dict[str, Any]) -> list[dict[str, Any]]:
    return claim["status"]["allocation"]["devices"]["results"]


def assert_published(kit: Any, result: dict[str, Any], node: str) -> None:
    """The allocated device is one the driver publishes on the node the pod runs on."""
    assert result["driver"] == kit.driver.name
    on_node = {(d.pool, d.name) for d in kit.driver.devices(None, node)}
    assert (result["pool"], result["device"]) in on_node, f"{result} is not published on {node}"


@pytest.mark.contract  # allocation and prepare
@pytest.mark.prepares
def test_claim_from_template_allocated_reserved_and_running(kit) -> None:
    tmpl = kit.template([kit.pinned_request()])
    pod = kit.pod({"gpu": b.from_template(tmpl)})
    running = kit.running(pod)
    claim_name = kit.generated(pod, "gpu")
    claim = kit.allocated(claim_name)
    assert claim["metadata"]["ownerReferences"][0]["uid"] == running["metadata"]["uid"]
    assert claim["metadata"]["annotations"]["resource.kubernetes.io/pod-claim-name"] == "gpu"
    assert [r["uid"] for r in claim["status"]["reservedFor"]] == [running["metadata"]["uid"]]
    (result,) = results(claim)
    assert result["request"] == "gpu"
    assert_published(kit, result, running["spec"]["nodeName"])


@pytest.mark.contract
@pytest.mark.prepares
@pytest.mark.capability("cdi-env")
def test_container_sees_its_device_through_cdi(kit) -> None:
    tmpl = kit.template([kit.pinned_request()])
    pod = kit.pod({"gpu": b.from_template(tmpl)})
    node = kit.running(pod)["spec"]["nodeName"]
    claim = kit.allocated(kit.generated(pod, "gpu"))
    env = kit.env(pod)
    cdi = kit.driver.profile.cdi
    assert cdi.devices(env) == {results(claim)[0]["device"]}, f"variables matching {cdi.device_env.pattern}"
    expected = cdi.expected_env(kit.driver.name, node)
    assert {k: env.get(k) for k in expected} == expected


@pytest.mark.prepares
def test_external_claim_shared_by_containers(kit) -> None:
    claim = kit.claim([kit.pinned_request()])
    pod = kit.pod({"gpu": b.from_claim(claim)},
                  containers=[kit.container("one", claims=["gpu"]), kit.container("two", claims=["gpu"])])
    running = kit.running(pod)
    allocated = waits.claim_reserved_for(kit.api, kit.ns, claim, running["metadata"]["uid"])
    assert len(results(allocated)) == 1
    if kit.driver.profile.has("cdi-env"):
        assert kit.devices_seen(pod, "one") == kit.devices_seen(pod, "two") == {results(allocated)[0]["device"]}


@pytest.mark.prepares
def test_external_claim_shared_by_pods(kit) -> None:
    claim = kit.claim([kit.pinned_request()])
    pods = [kit.pod({"gpu": b.from_claim(claim)}) for _ in range(2)]
    running = [kit.running(p) for p in pods]
    assert running[0]["spec"]["nodeName"] == running[1]["spec"]["nodeName"], "a shared claim pins its pods to one node"
    for p in running:
        allocated = waits.claim_reserved_for(kit.api, kit.ns, claim, p["metadata"]["uid"])
    assert {r["uid"] for r in allocated["status"]["reservedFor"]} == {p["metadata"]["uid"] for p in running}
    assert_published(kit, results(allocated)[0], running[0]["spec"]["nodeName"])


@pytest.mark.prepares
def test_cel_attribute_selector_places_pod_on_the_devices_node(kit) -> None:
    cls, device = kit.pin("gpu")
    claim = kit.claim([b.request("gpu", cls)])
    pod = kit.pod({"gpu": b.from_claim(claim)})
    running = kit.running(pod)
    (result,) = results(kit.allocated(claim))
    assert (result["pool"], result["device"]) == (device.pool, device.name)
    assert running["spec"]["nodeName"] == device.node


@pytest.mark.prepares
def test_cel_selector_in_claim_request(kit) -> None:
    _, device = kit.pin()  # held for this test, on a node nobody reserved; the claim selects it itself
    selector = dv.unique_selector(kit.driver.name, device, kit.driver.devices(None))
    claim = kit.claim([b.request("gpu", kit.driver.class_name("gpu"), selectors=[b.cel(selector)])])
    pod = kit.pod({"gpu": b.from_claim(claim)})
    assert kit.running(pod)["spec"]["nodeName"] == device.node
    assert results(kit.allocated(claim))[0]["device"] == device.name


def _capacity(kit: Any) -> tuple[str, str]:
    role = kit.driver.profile.role("gpu")
    if role is None or not role.capacity:
        pytest.skip("the driver profile names no capacity for role gpu")
    device = kit.driver.devices("gpu")[0]
    value = (device.capacity.get(role.capacity) or {}).get("value")
    if value is None:
        pytest.skip(f"device {device.name} publishes no capacity {role.capacity}")
    return role.capacity, value


@pytest.mark.prepares
def test_cel_capacity_selector_matches(kit) -> None:
    cap, value = _capacity(kit)
    expr = f'device.capacity["{dv.qualify(kit.driver.name, cap)[0]}"].{cap}.compareTo(quantity("{value}")) >= 0'

    def fits(d: Any) -> bool:
        return parse_quantity((d.capacity.get(cap) or {}).get("value", "0")) >= parse_quantity(value)
    claim = kit.claim([b.request("gpu", kit.device_class(expr), selectors=[kit.pinned_selector(among=fits)])])
    kit.running(kit.pod({"gpu": b.from_claim(claim)}))
    kit.allocated(claim)


def test_cel_capacity_selector_without_match_stays_pending(kit) -> None:
    cap, value = _capacity(kit)
    bigger = f"{int(parse_quantity(value) * 2)}"
    expr = f'device.capacity["{dv.qualify(kit.driver.name, cap)[0]}"].{cap}.compareTo(quantity("{bigger}")) >= 0'
    claim = kit.claim([b.request("gpu", kit.device_class(expr))])
    pod = kit.pod({"gpu": b.from_claim(claim)})
    waits.pod_unschedulable(kit.api, kit.ns, pod, "cannot allocate all claims")
    assert not (kit.api.get("ResourceClaim", claim, kit.ns).get("status") or {}).get("allocation")


def test_cel_selector_without_match_stays_pending(kit) -> None:
    cls = kit.device_class(dv.no_match_selector(kit.driver.name, kit.driver.devices("gpu")[0]))
    pod = kit.pod({"gpu": b.from_template(kit.template([b.request("gpu", cls)]))})
    waits.pod_unschedulable(kit.api, kit.ns, pod, "cannot allocate all claims")


def test_cel_runtime_error_keeps_pod_pending(kit) -> None:
    missing = dv.attr_expr(kit.driver.name, "noSuchAttributeAnywhere")
    claim = kit.claim([b.request("gpu", kit.driver.class_name("gpu"), selectors=[b.cel(f"{missing} == 1")])])
    pod = kit.pod({"gpu": b.from_claim(claim)})
    waits.pod_unschedulable(kit.api, kit.ns, pod, "CEL runtime error", reasons=("SchedulerError", "Unschedulable"))


@pytest.mark.prepares
@pytest.mark.capability("multi-device")
def test_exact_count_allocates_distinct_devices_on_one_node(kit) -> None:
    kit.driver.node_for("gpu", at_least=2)  # skips when no node has two
    claim = kit.claim([b.request("gpu", kit.driver.class_name("gpu"), count=2,
                                 selectors=[kit.pinned_selector(count=2)])])
    running = kit.running(kit.pod({"gpu": b.from_claim(claim)}))
    got = results(kit.allocated(claim))
    assert len(got) == 2 and len({r["device"] for r in got}) == 2
    for r in got:
        assert_published(kit, r, running["spec"]["nodeName"])


@pytest.mark.prepares
@pytest.mark.capability("multi-device")
def test_allocation_mode_all_takes_every_matching_device_of_the_node(kit) -> None:
    """AllocationMode All gets every device its class matches on one node: two devices pinned on a
    node (so the test needs no whole node to itself while others run)."""
    pinned = kit.pin_pair()
    node = pinned[0].node
    cls = kit.class_for(pinned)
    claim = kit.claim([b.request("gpu", cls, mode="All")])
    running = kit.running(kit.pod({"gpu": b.from_claim(claim)}))
    assert running["spec"]["nodeName"] == node
    assert {(r["pool"], r["device"]) for r in results(kit.allocated(claim))} == {(d.pool, d.name) for d in pinned}


@pytest.mark.prepares
@pytest.mark.capability("multi-device")
def test_match_attribute_constraint_satisfied(kit) -> None:
    pinned = kit.pin_pair()
    attr = dv.shared_attribute(pinned)
    if attr is None:
        pytest.skip("no attribute has one value on two gpu devices of a node")
    cls, pair = kit.driver.class_name("gpu"), b.cel(kit.only_cel(pinned))
    claim = kit.claim([b.request("a", cls, selectors=[pair]), b.request("b", cls, selectors=[pair])],
                      constraints=[{"requests": ["a", "b"], "matchAttribute": dv.qualified(kit.driver.name, attr)}])
    kit.running(kit.pod({"gpu": b.from_claim(claim)}))
    got = results(kit.allocated(claim))
    assert sorted(r["request"] for r in got) == ["a", "b"]


@pytest.mark.capability("multi-device")
def test_match_attribute_constraint_unsatisfiable_stays_pending(kit) -> None:
    devices = kit.driver.devices("gpu")
    attr = dv.distinct_attribute(devices)
    if attr is None:
        pytest.skip("no attribute differs between all gpu devices")
    cls = kit.driver.class_name("gpu")
    claim = kit.claim([b.request("a", cls), b.request("b", cls)],
                      constraints=[{"requests": ["a", "b"], "matchAttribute": dv.qualified(kit.driver.name, attr)}])
    pod = kit.pod({"gpu": b.from_claim(claim)})
    waits.pod_unschedulable(kit.api, kit.ns, pod, "cannot allocate all claims")


@pytest.mark.prepares
@pytest.mark.capability("multi-node")
@pytest.mark.serial  # a device on every node: the serial lane holds one node reserved throughout
def test_devices_on_two_nodes_serve_pods_on_their_nodes(kit) -> None:
    nodes = kit.driver.nodes_publishing(2)
    assert len(nodes) >= 2, f"the profile claims multi-node, but only {nodes} publish gpu devices"
    pinned = [kit.pin("gpu", node=node) for node in nodes[:2]]
    pods = [(kit.pod({"gpu": b.from_claim(kit.claim([b.request("gpu", cls)]))}), device) for cls, device in pinned]
    for pod, device in pods:
        assert kit.running(pod)["spec"]["nodeName"] == device.node
