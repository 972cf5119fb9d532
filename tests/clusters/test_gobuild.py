"""A forge build that fails because the Go module proxy lacks a module says which."""

from __future__ import annotations

from clusters.kind.forge import gobuild

_LOG = """\
go: downloading k8s.io/api v0.99.0
go: module example.com/gone: reading file:///p/example.com/gone/@v/list: 403 Forbidden
\tserver response: This module version is not available.
x.go:2:2: example.com/gone@v0.99.0: reading file:///p/example.com/gone/@v/v0.99.0.zip: 403 Forbidden
z.go:3:2: example.com/x/v7@v7.0.1: reading file:///p/example.com/x/v7/@v/v7.0.1.zip: 404 Not Found
/m/k8s.io/k@v1.99.0/w.go:3:2: example.com/gone@v0.99.0: reading file:///p/gone.zip: 403 Forbidden
pkg/q.go:1:1: syntax error: unexpected newline
"""


def test_unserved_modules_are_named_once_each():
    assert gobuild.unserved(_LOG) == ["example.com/gone@v0.99.0", "example.com/x/v7@v7.0.1"]


def test_a_compile_error_names_no_module():
    assert gobuild.unserved("pkg/q.go:1:1: syntax error: unexpected newline\n") == []
