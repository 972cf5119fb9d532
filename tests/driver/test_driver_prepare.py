from __future__ import annotations

import json

import pytest

from drivers.fake_gpu import device_config
from drivers.fake_gpu.cdi import parse_env
from tests.driver.rig import Rig, ref, result


def env_of(rig: Rig, claim: dict, device_ids: list[str]) -> list[dict]:
    """What a container given these CDI device IDs would see (env edits of those devices)."""
    spec = json.loads(rig.spec_file(claim).read_text())
    names = {i.split("=", 1)[1] for i in device_ids}
    lines = [e for d in spec["devices"] if d["name"] in names for e in d["containerEdits"]["env"]]
    return parse_env(lines)


@pytest.mark.parametrize("version", ["v1", "v1beta1"])
def test_prepare_returns_cdi_ids_keyed_by_claim_uid(rig: Rig, version: str) -> None:
    d = rig.driver_name
    claim = rig.add("two-gpus", [result("gpus", "gpu-0", d), result("gpus", "gpu-1", d)])
    uid = claim["metadata"]["uid"]
    resp = rig.kubelet.prepare([ref(claim)], version=version)
    assert list(resp.claims) == [uid] and resp.claims[uid].error == ""
    devs = resp.claims[uid].devices
    assert [(x.device_name, x.pool_name, list(x.request_names)) for x in devs] == [
        ("gpu-0", "node-a", ["gpus"]), ("gpu-1", "node-a", ["gpus"])]
    # the request's device metadata rides on its first device (tests/driver/test_driver_metadata.py)
    assert [list(x.cdi_device_ids) for x in devs] == [[f"{d}/claim={uid}-0", f"{d}/metadata={uid}_gpus"],
                                                      [f"{d}/claim={uid}-1"]]
    spec = json.loads(rig.spec_file(claim).read_text())
    assert spec["kind"] == f"{d}/claim"
    seen = env_of(rig, claim, [i for x in devs for i in x.cdi_device_ids])
    assert [(e["device"], e["request"], e["claim"], e["adminAccess"]) for e in seen] == [
        ("gpu-0", "gpus", "ns/two-gpus", False), ("gpu-1", "gpus", "ns/two-gpus", False)]


def test_share_id_and_admin_access_reach_the_container(rig: Rig) -> None:
    d = rig.driver_name
    share = "8d0f3a1c-0000-4000-8000-000000000001"
    claim = rig.add("shared", [result("nic", "gpu-2", d, shareID=share),
                               result("mon", "gpu-3", d, adminAccess=True)])
    uid = claim["metadata"]["uid"]
    v1 = rig.kubelet.prepare([ref(claim)], version="v1").claims[uid].devices
    assert v1[0].HasField("share_id") and v1[0].share_id == share
    assert not v1[1].HasField("share_id")
    seen = {e["device"]: e for e in env_of(rig, claim, [i for x in v1 for i in x.cdi_device_ids])}
    assert seen["gpu-2"]["shareID"] == share and not seen["gpu-2"]["adminAccess"]
    assert seen["gpu-3"]["adminAccess"]
    spec_env = json.loads(rig.spec_file(claim).read_text())["devices"][1]["containerEdits"]["env"]
    assert "DRA_ADMIN_ACCESS=true" in spec_env
    # v1beta1 has no share_id field at all: same devices, no share id on the wire
    beta = rig.kubelet.prepare([ref(claim)], version="v1beta1").claims[uid].devices
    assert [x.device_name for x in beta] == ["gpu-2", "gpu-3"]


def _typed(env: dict) -> dict:
    return {"apiVersion": device_config.API_VERSION, "kind": device_config.KIND, "env": env}


def test_config_is_filtered_per_request_and_subrequest(rig: Rig) -> None:
    d = rig.driver_name
    config = [
        {"source": "FromClass", "opaque": {"driver": d, "parameters": _typed({"mode": "class"})}},
        {"source": "FromClaim", "requests": ["a"], "opaque": {"driver": d, "parameters": _typed({"x": "for-a"})}},
        {"source": "FromClaim", "requests": ["b/large"], "opaque": {"driver": d, "parameters": _typed({"y": 1})}},
        {"source": "FromClaim", "requests": ["b/small"], "opaque": {"driver": d, "parameters": _typed({"z": 2})}},
        {"source": "FromClaim", "opaque": {"driver": "other.example.com", "parameters": {"no": "pe"}}},
    ]
    claim = rig.add("cfg", [result("a/first", "gpu-0", d), result("b/large", "gpu-1", d)], config=config)
    uid = claim["metadata"]["uid"]
    devs = rig.kubelet.prepare([ref(claim)]).claims[uid].devices
    assert [list(x.request_names) for x in devs] == [["a/first"], ["b/large"]]
    seen = {e["device"]: e for e in env_of(rig, claim, [i for x in devs for i in x.cdi_device_ids])}
    assert seen["gpu-0"]["config"] == [
        {"source": "FromClass", "parameters": _typed({"mode": "class"})},
        {"source": "FromClaim", "parameters": _typed({"x": "for-a"}), "requests": ["a"]}]
    assert seen["gpu-1"]["config"] == [
        {"source": "FromClass", "parameters": _typed({"mode": "class"})},
        {"source": "FromClaim", "parameters": _typed({"y": 1}), "requests": ["b/large"]}]
    env = json.loads(rig.spec_file(claim).read_text())["devices"][1]["containerEdits"]["env"]
    assert "DRA_PARAM_CLASS_MODE=class" in env and "DRA_PARAM_CLAIM_Y=1" in env
    assert not any(e.startswith("DRA_PARAM_CLAIM_Z") or e.split("=")[-1] == "pe" for e in env)


@pytest.mark.parametrize("parameters, reason", [
    ({"apiVersion": "gpu.example.com/v1alpha1", "kind": "GpuConfig", "sharing": {}},
     "unsupported config apiVersion/kind gpu.example.com/v1alpha1/GpuConfig"),
    ({"mode": "untyped"}, "unsupported config apiVersion/kind <none>/<none>"),
    ({**_typed({}), "extra": 1}, "unknown field(s) ['extra']"),
    (_typed({"nested": {"no": 1}}), "env must map names to scalar values"),
])
def test_foreign_or_invalid_config_fails_the_prepare(rig: Rig, parameters: dict, reason: str) -> None:
    d = rig.driver_name
    claim = rig.add("bad", [result("gpu", "gpu-0", d)],
                    config=[{"source": "FromClaim", "opaque": {"driver": d, "parameters": parameters}}])
    uid = claim["metadata"]["uid"]
    got = rig.kubelet.prepare([ref(claim)]).claims[uid]
    assert reason in got.error and "refused" in got.error, got.error
    assert not got.devices and not rig.spec_file(claim).exists()


def test_prepare_is_idempotent_and_restores_a_lost_spec(rig: Rig) -> None:
    claim = rig.add("c", ["gpu-0"])
    uid = claim["metadata"]["uid"]
    first = rig.kubelet.prepare([ref(claim)]).claims[uid]
    spec = rig.spec_file(claim).read_bytes()
    rig.spec_file(claim).unlink()
    second = rig.kubelet.prepare([ref(claim)]).claims[uid]
    assert second == first
    assert rig.spec_file(claim).read_bytes() == spec
    assert list(rig.control.state()["prepared"]) == [uid]


def test_several_claims_in_one_call(rig: Rig) -> None:
    a, b = rig.add("a", ["gpu-0"]), rig.add("b", ["gpu-1"])
    resp = rig.kubelet.prepare([ref(a), ref(b)])
    assert {u: [x.device_name for x in r.devices] for u, r in resp.claims.items()} == {
        a["metadata"]["uid"]: ["gpu-0"], b["metadata"]["uid"]: ["gpu-1"]}


def test_unprepare_removes_spec_checkpoint_entry_and_unknown_claims_spec(rig: Rig) -> None:
    claim = rig.add("c", ["gpu-0"])
    uid = claim["metadata"]["uid"]
    rig.kubelet.prepare([ref(claim)])
    resp = rig.kubelet.unprepare([ref(claim)])
    assert list(resp.claims) == [uid] and resp.claims[uid].error == ""
    assert not rig.spec_file(claim).exists()
    assert rig.control.state()["prepared"] == {}
    assert rig.kubelet.unprepare([ref(claim)]).claims[uid].error == ""  # again: still fine
    # a spec the driver does not remember (e.g. lost checkpoint) is removed too
    stale = rig.add("stale", ["gpu-1"])
    rig.spec_file(stale).write_text("{}")
    assert rig.kubelet.unprepare([ref(stale)]).claims[stale["metadata"]["uid"]].error == ""
    assert not rig.spec_file(stale).exists()


def test_claim_errors_are_reported_per_claim(rig: Rig) -> None:
    d = rig.driver_name
    good = rig.add("good", ["gpu-0"])
    foreign = rig.add("foreign", [result("r", "gpu-1", d, pool="node-b")])
    other = rig.add("other-driver", [result("r", "gpu-1", "other.example.com")])
    unknown = rig.add("unknown-device", [result("r", "gpu-99", d)])
    pending = rig.add("pending", ["gpu-2"])
    pending["status"] = {}
    replaced = ("ns", "good", "not-the-uid")
    missing = ("ns", "missing", "uid-missing")
    resp = rig.kubelet.prepare([ref(good), ref(foreign), ref(other), ref(unknown), ref(pending), replaced,
                                missing])
    errors = {uid: r.error for uid, r in resp.claims.items()}
    assert errors[good["metadata"]["uid"]] == ""
    assert "pool" in errors[foreign["metadata"]["uid"]] and "node-b" in errors[foreign["metadata"]["uid"]]
    assert "no devices of driver" in errors[other["metadata"]["uid"]]
    assert "gpu-99" in errors[unknown["metadata"]["uid"]]
    assert "not allocated" in errors[pending["metadata"]["uid"]]
    assert "not-the-uid" in errors["not-the-uid"]
    assert "not found" in errors["uid-missing"]
    assert not rig.spec_file(foreign).exists()
