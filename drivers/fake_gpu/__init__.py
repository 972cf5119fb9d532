"""The bundled fake GPU/NIC DRA kubelet plugin (see README.md): real sockets, test-controlled hardware."""
