"""Offline artefacts for kind clusters, each built from a registry (Go module proxy, Debian, PyPI)
and cached by version outside the repo. One module per artefact."""
