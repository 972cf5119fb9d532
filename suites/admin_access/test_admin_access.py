"""Admin access (KEP-5018): only namespaces labelled for it may ask for devices in use by others."""

from __future__ import annotations

import pytest

from dra_conformance.waiting import wait_for
from fixtures import builders as b
from fixtures import reservation, waits
from fixtures.kubeapi import ApiError

pytestmark = pytest.mark.feature("admin_access")

LABEL = "resource.kubernetes.io/admin-access"
REJECTED = ("admin access to devices requires the `resource.kubernetes.io/admin-access: true` label "
            "on the containing namespace")


def _admin_spec(cls: str) -> dict:
    return b.claim_spec([b.request("admin", cls, admin_access=True)])


@pytest.mark.parametrize("kind", ["ResourceClaim", "ResourceClaimTemplate"])
def test_unlabelled_namespace_rejects_admin_access(kit, kind: str) -> None:
    spec = _admin_spec(kit.driver.class_name("gpu"))
    build = b.resource_claim if kind == "ResourceClaim" else b.claim_template
    with pytest.raises(ApiError) as info:
        kit.api.create(build(kit.name("admin"), kit.ns, spec))
    assert REJECTED in info.value.message, info.value


def _label(kit) -> None:
    kit.api.patch("Namespace", kit.ns, {"metadata": {"labels": {LABEL: "true"}}})


@pytest.mark.prepares
@pytest.mark.capability("admin-access")
def test_labelled_namespace_allows_admin_access(kit) -> None:
    _label(kit)
    claim = kit.claim(_admin_spec(kit.driver.class_name("gpu"))["devices"]["requests"])
    kit.running(kit.pod({"admin": b.from_claim(claim)}))
    (result,) = kit.allocated(claim)["status"]["allocation"]["devices"]["results"]
    assert result.get("adminAccess") is True


@pytest.mark.prepares
@pytest.mark.capability("admin-access")
def test_admin_claim_gets_an_already_allocated_device(kit) -> None:
    # One drawing on shared counters is refused (suites/partitionable_devices, known_issues.yaml).
    cls, device = kit.pin("gpu", among=lambda d: not d.spec.get("consumesCounters"))
    user = kit.claim([b.request("gpu", cls)])
    kit.running(kit.pod({"gpu": b.from_claim(user)}))
    (taken,) = kit.allocated(user)["status"]["allocation"]["devices"]["results"]
    assert taken["device"] == device.name
    _label(kit)
    admin = kit.claim([b.request("admin", cls, admin_access=True)])
    running = kit.running(kit.pod({"admin": b.from_claim(admin)}))
    (result,) = kit.allocated(admin)["status"]["allocation"]["devices"]["results"]
    assert (result["pool"], result["device"], result.get("adminAccess")) == (device.pool, device.name, True)
    assert running["spec"]["nodeName"] == device.node
    if kit.driver.profile.has("cdi-env"):
        env = kit.env(running["metadata"]["name"])
        assert kit.driver.profile.cdi.devices(env) == {device.name}
        admin = kit.driver.profile.cdi.admin_env
        assert {k: env.get(k) for k in admin} == admin


@pytest.mark.prepares
@pytest.mark.capability("admin-access")
def test_daemonset_gets_admin_access_on_every_node(kit) -> None:
    """A monitoring DaemonSet: one pod per node, each with admin access to a device of its node, in
    use by others or not (nodes another test reserved are left out)."""
    taken = reservation.reserved(kit.api)
    nodes = [n for n in kit.driver.nodes("gpu") if taken.get(n, kit.ns) == kit.ns]
    if not nodes:
        pytest.skip("every node with gpu devices is reserved by a disruptive test")
    _label(kit)
    template = kit.template([b.request("admin", kit.driver.class_name("gpu"), admin_access=True)])
    pod = b.pod("monitor", kit.ns, [kit.container("ctr", claims=["admin"])],
                claims={"admin": b.from_template(template)}, restart_policy="Always",
                affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": nodes}]}]}}})
    labels = {"app": "monitor"}
    kit.create({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "monitor", "namespace": kit.ns},
                "spec": {"selector": {"matchLabels": labels},
                         "template": {"metadata": {"labels": labels}, "spec": pod["spec"]}}})

    def probe() -> tuple[bool, object]:
        pods = kit.api.list("Pod", kit.ns, labels="app=monitor")
        running = {p["spec"].get("nodeName"): p for p in pods if (p.get("status") or {}).get("phase") == "Running"}
        return set(running) == set(nodes), running if set(running) == set(nodes) else [
            waits.describe_pod(kit.api, p) for p in pods]
    for node, p in wait_for(f"a running monitor pod on each of {nodes}", probe, "pod_running").items():
        kit.started(p)
        claim = kit.allocated(kit.generated(p["metadata"]["name"], "admin"))
        [result] = claim["status"]["allocation"]["devices"]["results"]
        assert result.get("adminAccess") is True, result
        assert result["device"] in {d.name for d in kit.driver.devices("gpu", node)}, (node, result)
