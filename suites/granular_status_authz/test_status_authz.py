"""Granular status authorization (DRAResourceClaimGranularStatusAuthorization): writing a claim's
status.devices needs `resourceclaims/driver` for the entries' driver, with verb prefix
`associated-node:` for a service account bound to a pod on the claim's node, `arbitrary-node:`
otherwise; status.allocation and status.reservedFor need `resourceclaims/binding`.

Driver-agnostic: the claims are the driver's, allocated on two nodes; the writers are service
accounts of the test, with tokens bound to pods of the test (which puts their node in the token).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from dra_conformance import kube
from fixtures import builders as b
from fixtures.kubeapi import Api, ApiError, path

pytestmark = [pytest.mark.feature("granular_status_authz"), pytest.mark.prepares]

APPLY = "application/apply-patch+yaml"


def _writer(kit, name: str, verbs: list[str], node: str | None) -> Api:
    """An Api as service account `name`, allowed to patch claim status and `verbs` on
    resourceclaims/driver for the driver; its token is bound to a pod on `node` (None: unbound)."""
    kit.create({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}})
    rules = [{"apiGroups": ["resource.k8s.io"], "resources": ["resourceclaims", "resourceclaims/status"],
              "verbs": ["get", "patch", "update"]},
             {"apiGroups": ["resource.k8s.io"], "resources": ["resourceclaims/driver"],
              "resourceNames": [kit.driver.name], "verbs": verbs}]
    kit.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": name},
                "rules": rules})
    kit.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": name},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
                "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": kit.ns}]})
    spec: dict[str, Any] = {"expirationSeconds": 600}
    if node is not None:
        pod = b.pod(kit.name("anchor"), kit.ns, [kit.container("ctr", command="sleep 100000")], node_name=node)
        pod["spec"]["serviceAccountName"] = name
        created = kit.create(pod)
        spec["boundObjectRef"] = {"kind": "Pod", "apiVersion": "v1", "name": created["metadata"]["name"],
                                  "uid": created["metadata"]["uid"]}
    token = kit.api.request("POST", path("ServiceAccount", kit.ns, name, "token"),
                            body={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec})
    return Api(kube.api_client_with_token(kit.driver.target.kubeconfig, token["status"]["token"]))


def _claim_on(kit, node: str | None = None) -> dict[str, Any]:
    """A claim of the driver's, allocated (on `node`, or any) and in use by a running pod. A test that
    does not need a node takes any: a disruptive test may hold one node for minutes."""
    cls, _ = kit.pin(node=node)
    claim = kit.claim([b.request("gpu", cls)])
    kit.running(kit.pod({"gpu": b.from_claim(claim)}))
    return kit.allocated(claim)


def _write_status(api: Api, claim: dict[str, Any], field_manager: str) -> dict[str, Any]:
    """Server-side apply of a status.devices entry for the claim's device."""
    [r] = claim["status"]["allocation"]["devices"]["results"]
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    meta = claim["metadata"]
    entry = {"driver": r["driver"], "pool": r["pool"], "device": r["device"],
             "conditions": [{"type": "dra-conformance.io/checked", "status": "True", "reason": "Test",
                             "message": "", "lastTransitionTime": now}]}
    if r.get("shareID"):
        entry["shareID"] = r["shareID"]
    body = {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim",
            "metadata": {"name": meta["name"], "namespace": meta["namespace"]}, "status": {"devices": [entry]}}
    return api.request("PATCH", path("ResourceClaim", meta["namespace"], meta["name"], "status"), body=body,
                       query={"fieldManager": field_manager, "force": "true"}, content_type=APPLY)


def _forbidden(call: Any, what: str) -> ApiError:
    """Refused for want of `what`: the status strategy reports it as a Forbidden field error,
    which the server sends as 422 Invalid, not 403."""
    with pytest.raises(ApiError) as err:
        call()
    assert err.value.status == 422 and "Forbidden" in err.value.message and what in err.value.message, err.value
    return err.value


@pytest.fixture
def two_nodes(kit) -> tuple[str, str]:
    nodes = kit.driver.nodes_publishing(2)
    if len(nodes) < 2:
        pytest.skip(f"driver {kit.driver.name} publishes gpu devices on fewer than two nodes")
    return nodes[0], nodes[1]


@pytest.mark.capability("multi-node")
@pytest.mark.serial  # a device on every node: the serial lane holds one node reserved throughout
def test_node_bound_writer_may_write_status_on_its_own_node_only(kit, two_nodes) -> None:
    own, other = two_nodes
    here, there = _claim_on(kit, own), _claim_on(kit, other)
    writer = _writer(kit, "node-writer", ["associated-node:patch", "associated-node:update"], own)
    written = _write_status(writer, here, "node-writer")
    assert any(c["type"] == "dra-conformance.io/checked"
               for d in written["status"]["devices"] for c in d.get("conditions") or []), written["status"]
    _forbidden(lambda: _write_status(writer, there, "node-writer"), "resourceclaims/driver")
    assert not any(d.get("conditions") and any(c["type"] == "dra-conformance.io/checked" for c in d["conditions"])
                   for d in kit.api.get("ResourceClaim", there["metadata"]["name"], kit.ns)["status"].get(
                       "devices") or [])


def test_control_plane_writer_needs_arbitrary_node(kit) -> None:
    claim = _claim_on(kit)
    associated = _writer(kit, "only-associated", ["associated-node:patch"], None)
    _forbidden(lambda: _write_status(associated, claim, "only-associated"), "arbitrary-node:patch")
    arbitrary = _writer(kit, "arbitrary", ["arbitrary-node:patch"], None)
    _write_status(arbitrary, claim, "arbitrary")


def test_status_writer_may_not_change_reserved_for(kit) -> None:
    """status.devices rights are not rights to the allocation: reservedFor needs resourceclaims/binding."""
    claim = _claim_on(kit)
    writer = _writer(kit, "arbitrary", ["arbitrary-node:patch"], None)
    meta = claim["metadata"]
    _forbidden(lambda: writer.patch("ResourceClaim", meta["name"], {"status": {"reservedFor": None}},
                                    kit.ns, sub="status"), "resourceclaims/binding")
    assert kit.api.get("ResourceClaim", meta["name"], kit.ns)["status"].get("reservedFor")
