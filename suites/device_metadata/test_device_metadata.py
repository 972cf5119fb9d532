"""Device metadata (KEP-5304; no gate, the driver's doing): a container finds, per request of its
claims, a DeviceMetadata file naming the devices it got and their attributes, at
/var/run/kubernetes.io/dra-device-attributes/resourceclaims/<claim>/<request>/<driver>-metadata.json
(resourceclaimtemplates/<pod claim name>/... for a claim made from a template).

The file is a stream of the same document in each API version the driver writes, v1beta1 first.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from fixtures import builders as b
from fixtures import waits

if TYPE_CHECKING:
    from fixtures.objects import Kit

pytestmark = [pytest.mark.feature("core"), pytest.mark.capability("device-metadata"), pytest.mark.prepares]
ROOT = "/var/run/kubernetes.io/dra-device-attributes"
GROUP = "metadata.resource.k8s.io"
LIST = (f"find {ROOT} -type f 2>/dev/null | sort | while read -r f; do echo \"== $f\"; cat \"$f\"; done; "
        "echo METADATA-END; sleep 100000")


def _files(kit: Kit, pod: str, container: str = "ctr") -> dict[str, list[dict[str, Any]]]:
    """In-container path -> the documents of the file, for every metadata file the container sees."""
    waits.log_contains(kit.api, kit.ns, pod, "^METADATA-END", container)
    text = kit.api.pod_log(kit.ns, pod, container)  # whole: the wait returns the log's tail
    files: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("== "):
            current = line[3:]
            files[current] = ""
        elif line != "METADATA-END" and current:
            files[current] += line + "\n"
    return {path: _stream(body) for path, body in files.items()}


def _stream(text: str) -> list[dict[str, Any]]:
    decoder, docs, at = json.JSONDecoder(), [], 0
    while text[at:].strip():
        while text[at].isspace():
            at += 1
        doc, at = decoder.raw_decode(text, at)
        docs.append(doc)
    return docs


def _document(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """The v1beta1 document, after checking the stream: v1beta1 first, the same in every version."""
    assert docs and docs[0].get("apiVersion") == f"{GROUP}/v1beta1", docs
    assert all(d.get("kind") == "DeviceMetadata" and d["apiVersion"] in (f"{GROUP}/v1beta1", f"{GROUP}/v1alpha1")
               and {**d, "apiVersion": None} == {**docs[0], "apiVersion": None} for d in docs), docs
    return docs[0]


def _path(kind: str, name: str, request: str, driver: str) -> str:
    return f"{ROOT}/{kind}/{name}/{request}/{driver}-metadata.json"


def _names_devices(doc: dict[str, Any], request: str, devices: list[Any], driver: str) -> None:
    [req] = doc["requests"]
    assert req["name"] == request, doc
    assert sorted((d["driver"], d["pool"], d["name"]) for d in req["devices"]) == \
        sorted((driver, d.pool, d.name) for d in devices), doc
    for entry in req["devices"]:  # attributes it repeats from the slice say the same
        published = next(d for d in devices if d.name == entry["name"]).attributes
        differ = {k: v for k, v in (entry.get("attributes") or {}).items() if k in published and published[k] != v}
        assert not differ, (entry, published)


def test_a_claims_request_has_a_file_naming_its_device(kit) -> None:
    cls, device = kit.pin()
    claim = kit.claim([b.request("gpu", cls)])
    pod = kit.pod({"gpu": b.from_claim(claim)}, command=LIST)
    kit.running(pod)
    files = _files(kit, pod)
    path = _path("resourceclaims", claim, "gpu", kit.driver.name)
    assert list(files) == [path], files
    doc = _document(files[path])
    uid = kit.api.get("ResourceClaim", claim, kit.ns)["metadata"]["uid"]
    assert doc["metadata"] == {"name": claim, "namespace": kit.ns, "uid": uid, "generation": 1}, doc
    assert "podClaimName" not in doc, doc
    _names_devices(doc, "gpu", [device], kit.driver.name)


def test_a_template_claims_file_is_found_by_the_pod_claim_name(kit) -> None:
    cls, device = kit.pin()
    pod = kit.pod({"accel": b.from_template(kit.template([b.request("gpu", cls)]))}, command=LIST)
    kit.running(pod)
    generated = kit.generated(pod, "accel")
    files = _files(kit, pod)
    path = _path("resourceclaimtemplates", "accel", "gpu", kit.driver.name)
    assert list(files) == [path], files
    doc = _document(files[path])
    assert doc["podClaimName"] == "accel" and doc["metadata"]["name"] == generated, doc
    assert doc["metadata"]["namespace"] == kit.ns, doc
    _names_devices(doc, "gpu", [device], kit.driver.name)


@pytest.mark.capability("control")
def test_a_driver_may_write_v1beta1_alone(kit, driver_metadata) -> None:
    cls, device = kit.pin()
    driver_metadata(device.node, ["v1beta1"])
    claim = kit.claim([b.request("gpu", cls)])
    pod = kit.pod({"gpu": b.from_claim(claim)}, command=LIST)
    kit.running(pod)
    [docs] = _files(kit, pod).values()
    assert [d["apiVersion"] for d in docs] == [f"{GROUP}/v1beta1"], docs
    _names_devices(docs[0], "gpu", [device], kit.driver.name)


def test_each_container_sees_the_files_of_the_requests_it_uses(kit) -> None:
    devices = kit.pin_pair()
    cls = kit.class_for(devices)
    claim = kit.claim([b.request("req0", cls), b.request("req1", cls)])
    containers = [kit.container("all", claims=["gpu"], command=LIST),
                  kit.container("one", claims=[("gpu", "req1")], command=LIST)]
    pod = kit.pod({"gpu": b.from_claim(claim)}, containers=containers)
    kit.running(pod)
    driver = kit.driver.name
    both = {_path("resourceclaims", claim, r, driver) for r in ("req0", "req1")}
    assert set(_files(kit, pod, "all")) == both
    only = _files(kit, pod, "one")
    assert list(only) == [_path("resourceclaims", claim, "req1", driver)], only
    allocated = {r["request"]: r["device"] for r in kit.allocated(claim)["status"]["allocation"]["devices"]["results"]}
    _names_devices(_document(next(iter(only.values()))), "req1",
                   [d for d in devices if d.name == allocated["req1"]], driver)


def test_two_drivers_serving_one_request_write_a_file_each(kit, driver_instance) -> None:
    other = driver_instance(devices=1)
    cls, device = kit.pin(node=other.node)
    mine = " && ".join(f'({sel["cel"]["expression"]})' for sel in kit.api.get("DeviceClass", cls)["spec"]["selectors"])
    either = kit.create(b.device_class(kit.name("either"), selectors=[
        b.cel(f'({mine}) || device.driver == "{other.driver}"')]))["metadata"]["name"]
    claim = kit.claim([b.request("gpu", either, count=2)])
    pod = kit.pod({"gpu": b.from_claim(claim)}, command=LIST)
    kit.running(pod)
    files = _files(kit, pod)
    drivers = {kit.driver.name, other.driver}
    assert set(files) == {_path("resourceclaims", claim, "gpu", d) for d in drivers}, files
    for d in drivers:
        [req] = _document(files[_path("resourceclaims", claim, "gpu", d)])["requests"]
        assert {x["driver"] for x in req["devices"]} == {d}, req  # each lists its own device only
    _names_devices(_document(files[_path("resourceclaims", claim, "gpu", kit.driver.name)]), "gpu", [device],
                   kit.driver.name)
