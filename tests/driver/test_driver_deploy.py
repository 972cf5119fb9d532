from __future__ import annotations

from drivers.fake_gpu.deploy.manifests import instance_name, render


def by_kind(objs: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for o in objs:
        out.setdefault(o["kind"], []).append(o)
    return out


def test_render_one_instance() -> None:
    objs = render("gpu.fake.dra-conformance.io", "dra-x", image="img:1", profile="mixed",
                  options={"gpu": {"count": 2, "consumable": True}}, capabilities="partitionableDevices=false")
    kinds = by_kind(objs)
    assert [o["kind"] for o in objs][:4] == ["ServiceAccount", "ClusterRole", "ClusterRoleBinding",
                                             "ValidatingAdmissionPolicy"]
    assert sorted(c["metadata"]["name"] for c in kinds["DeviceClass"]) == [
        "gpu-partition.gpu.fake.dra-conformance.io", "gpu.fake.dra-conformance.io",
        "gpu.gpu.fake.dra-conformance.io", "nic.gpu.fake.dra-conformance.io"]
    rules = kinds["ClusterRole"][0]["rules"]
    driver_rule = next(r for r in rules if r["resources"] == ["resourceclaims/driver"])
    assert driver_rule["resourceNames"] == ["gpu.fake.dra-conformance.io"]
    assert set(driver_rule["verbs"]) == {"associated-node:patch", "associated-node:update"}
    assert not any("resourceclaims/binding" in r["resources"] for r in rules)
    assert next(r for r in rules if r["resources"] == ["resourceclaims"])["verbs"] == ["get", "list"]
    ds = kinds["DaemonSet"][0]
    c = ds["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in c["env"]}
    assert env["NODE_NAME"] == {"fieldRef": {"fieldPath": "spec.nodeName"}}
    assert env["PROFILE_OPTIONS"] == "gpu.count=2,gpu.consumable=true"
    assert env["CAPABILITIES"] == "partitionableDevices=false"
    assert {v["mountPath"] for v in c["volumeMounts"]} == {
        "/var/lib/kubelet/plugins_registry", "/var/lib/kubelet/plugins", "/var/run/cdi"}
    assert ds["spec"]["template"]["metadata"]["labels"]["app"] == instance_name("gpu.fake.dra-conformance.io")
    vap = kinds["ValidatingAdmissionPolicy"][0]["spec"]
    assert "dra-x:" + instance_name("gpu.fake.dra-conformance.io") in vap["matchConditions"][0]["expression"]
    assert "authentication.kubernetes.io/node-name" in vap["variables"][0]["expression"]


def test_two_instances_do_not_share_any_object() -> None:
    a = render("a.fake.io", "ns", image="i")
    b = render("b.fake.io", "ns", image="i")
    names = lambda objs: {(o["kind"], o["metadata"]["name"]) for o in objs}  # noqa: E731
    assert not names(a) & names(b)
    assert len(render("a.fake.io", "ns", image="i", node_restriction=False)) == len(a) - 2
