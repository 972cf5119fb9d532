"""The forge builds a release with the Go toolchain it names when the host's go is too old."""

from __future__ import annotations

import pytest

from clusters.kind.forge import toolchain

_GOMOD = "module k8s.io/kubernetes\n\ngo 1.27.0\n\ngodebug default=go1.27\n"


def test_the_hosts_go_builds_what_its_version_allows():
    assert toolchain.needed(_GOMOD, "1.27.3\n", host="1.27.0") is None
    assert toolchain.needed(_GOMOD.replace("1.27.0", "1.26.0"), "1.26.10", host="1.26.8") is None


def test_a_newer_go_mod_gets_the_go_version_kubernetes_builds_with():
    assert toolchain.needed(_GOMOD, "1.27.3\n", host="1.26.8") == "go1.27.3"


@pytest.mark.parametrize(("gomod", "go_version", "expected"), [
    (_GOMOD + "toolchain go1.27.2\n", None, "go1.27.2"),   # no .go-version: the toolchain line
    (_GOMOD, None, "go1.27.0"),                            # neither: the go line's minimum
    (_GOMOD, "devel", "go1.27.0"),                         # a .go-version no proxy serves
    (_GOMOD, "1.26.9", "go1.27.0"),                        # one older than the go line
])
def test_without_a_usable_go_version_the_go_mod_decides(gomod, go_version, expected):
    assert toolchain.needed(gomod, go_version, host="1.26.8") == expected


def test_a_go_mod_without_go_line_needs_nothing():
    assert toolchain.needed("module x\n", None, host="1.20.0") is None


@pytest.mark.parametrize(("text", "parsed"), [("go1.27.3", (1, 27, 3)), ("1.27", (1, 27, 0)),
                                              ("1.100.1", (1, 100, 1))])
def test_versions_compare_as_numbers(text, parsed):
    assert toolchain.parse(text) == parsed
