"""Device metadata (KEP-5304) over the real gRPC socket: files, CDI mounts, cleanup."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivers.fake_gpu import config as driver_config
from drivers.fake_gpu.control_client import ControlError
from drivers.fake_gpu.metadata import CONTAINER_DIR, POD_CLAIM_ANNOTATION
from tests.driver.rig import Rig, ref, result


def _mounts(rig: Rig, device_ids: list[str]) -> dict[str, str]:
    """containerPath -> hostPath of the metadata CDI devices among `device_ids`."""
    out = {}
    for spec_file in rig.cfg.cdi_root.glob(f"{rig.driver_name}_metadata_*.json"):
        spec = json.loads(spec_file.read_text())
        assert spec["kind"] == f"{rig.driver_name}/metadata"
        for dev in spec["devices"]:
            if f"{spec['kind']}={dev['name']}" in device_ids:
                [m] = dev["containerEdits"]["mounts"]
                assert m["options"] == ["ro", "bind"]
                out[m["containerPath"]] = m["hostPath"]
    return out


def _stream(path: str) -> list[dict]:
    text, objs, at = Path(path).read_text(), [], 0
    decoder = json.JSONDecoder()
    while text[at:].strip():
        obj, end = decoder.raw_decode(text, at)
        objs.append(obj)
        at = end + 1
    return objs


def test_each_request_gets_a_file_naming_its_devices_in_every_version(rig: Rig) -> None:
    d = rig.driver_name
    claim = rig.add("meta", [result("a", "gpu-0", d), result("a", "gpu-1", d), result("b/small", "gpu-2", d)])
    uid = claim["metadata"]["uid"]
    devs = rig.kubelet.prepare([ref(claim)]).claims[uid].devices
    ids = [i for x in devs for i in x.cdi_device_ids]
    assert [list(x.cdi_device_ids)[1:] for x in devs] == [[f"{d}/metadata={uid}_a"], [], [f"{d}/metadata={uid}_b"]]
    mounts = _mounts(rig, ids)
    base = f"{CONTAINER_DIR}/resourceclaims/meta"
    assert sorted(mounts) == [f"{base}/a/{d}-metadata.json", f"{base}/b/{d}-metadata.json"]
    docs = _stream(mounts[f"{base}/a/{d}-metadata.json"])
    assert [o["apiVersion"] for o in docs] == ["metadata.resource.k8s.io/v1beta1", "metadata.resource.k8s.io/v1alpha1"]
    assert docs[0] == {**docs[1], "apiVersion": docs[0]["apiVersion"]}
    doc = docs[0]
    assert doc["kind"] == "DeviceMetadata" and "podClaimName" not in doc
    assert doc["metadata"] == {"name": "meta", "namespace": "ns", "uid": uid, "generation": 1}
    [req] = doc["requests"]
    inventory = {x["spec"]["name"]: x for x in rig.control.state()["inventory"]["devices"]}
    assert req["name"] == "a" and [(x["driver"], x["pool"], x["name"]) for x in req["devices"]] == [
        (d, "node-a", "gpu-0"), (d, "node-a", "gpu-1")]
    assert req["devices"][0]["attributes"] == inventory["gpu-0"]["spec"]["attributes"]
    [sub] = _stream(mounts[f"{base}/b/{d}-metadata.json"])[0]["requests"]
    assert sub["name"] == "b/small"  # the file is the base request's, the entry names the subrequest


def test_a_claim_from_a_template_is_found_by_its_pod_claim_name(rig: Rig) -> None:
    d = rig.driver_name
    claim = rig.add("pod-gpu-x1y2z", [result("gpu", "gpu-0", d)])
    claim["metadata"]["annotations"] = {POD_CLAIM_ANNOTATION: "gpu"}
    uid = claim["metadata"]["uid"]
    devs = rig.kubelet.prepare([ref(claim)]).claims[uid].devices
    [(path, host)] = _mounts(rig, list(devs[0].cdi_device_ids)).items()
    assert path == f"{CONTAINER_DIR}/resourceclaimtemplates/gpu/gpu/{d}-metadata.json"
    doc = _stream(host)[0]
    assert doc["podClaimName"] == "gpu" and doc["metadata"]["name"] == "pod-gpu-x1y2z"


def test_unprepare_removes_the_files_and_a_lost_cdi_spec_comes_back(rig: Rig) -> None:
    d = rig.driver_name
    claim = rig.add("gone", [result("gpu", "gpu-0", d)])
    uid = claim["metadata"]["uid"]
    devs = rig.kubelet.prepare([ref(claim)]).claims[uid].devices
    [host] = _mounts(rig, list(devs[0].cdi_device_ids)).values()
    for spec in rig.cfg.cdi_root.glob(f"{d}_metadata_*.json"):  # a reboot empties /var/run/cdi
        spec.unlink()
    again = rig.kubelet.prepare([ref(claim)]).claims[uid].devices
    assert list(_mounts(rig, list(again[0].cdi_device_ids)).values()) == [host]
    assert rig.kubelet.unprepare([ref(claim)]).claims[uid].error == ""
    assert not Path(host).exists() and not list(rig.cfg.cdi_root.glob(f"{d}_metadata_*.json"))


def test_no_versions_no_metadata(rig_factory) -> None:
    rig = rig_factory(metadata_versions=[]).start()
    claim = rig.add("plain", [result("gpu", "gpu-0", rig.driver_name)])
    uid = claim["metadata"]["uid"]
    [dev] = rig.kubelet.prepare([ref(claim)]).claims[uid].devices
    assert list(dev.cdi_device_ids) == [f"{rig.driver_name}/claim={uid}-0"]


@pytest.mark.parametrize("versions", ["v1alpha1", "v1alpha1,v1beta1", "v1beta1,v2"])
def test_metadata_versions_start_with_v1beta1(versions: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        driver_config.parse_args(["--node-name", "n", "--metadata-versions", versions])
    assert "--metadata-versions" in capsys.readouterr().err


def test_control_switches_the_versions_for_claims_prepared_next(rig: Rig) -> None:
    d = rig.driver_name
    assert rig.control.set_metadata_versions(["v1beta1"]) == {"versions": ["v1beta1"]}
    one = rig.add("one", [result("gpu", "gpu-0", d)])
    devs = rig.kubelet.prepare([ref(one)]).claims[one["metadata"]["uid"]].devices
    [host] = _mounts(rig, list(devs[0].cdi_device_ids)).values()
    assert [o["apiVersion"] for o in _stream(host)] == ["metadata.resource.k8s.io/v1beta1"]
    rig.control.set_metadata_versions([])
    none = rig.add("none", [result("gpu", "gpu-1", d)])
    [dev] = rig.kubelet.prepare([ref(none)]).claims[none["metadata"]["uid"]].devices
    assert list(dev.cdi_device_ids) == [f"{d}/claim={none['metadata']['uid']}-0"]
    assert rig.control.state()["metadata"] == {"versions": []}
    with pytest.raises(ControlError) as err:
        rig.control.set_metadata_versions(["v1alpha1"])
    assert err.value.status == 400
