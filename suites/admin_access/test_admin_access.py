"""Admin access (KEP-5018): only namespaces labelled for it may ask for devices in use by others."""

from __future__ import annotations

import pytest

from fixtures import builders as b
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
    cls, device = kit.pin("gpu")
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
