"""dra-conformance: end-to-end conformance harness for Kubernetes DRA."""
