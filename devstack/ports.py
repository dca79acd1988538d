"""Free TCP ports for throwaway servers started by tests, benchmarks and ``make dev``."""

from __future__ import annotations

import socket


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was unused a moment ago.

    Binding to port 0 makes the kernel pick an unused ephemeral port. The socket is
    closed before returning, so another process may take the port before the caller
    binds it: servers started on an auto-picked port should retry with a new one
    when their bind fails.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
