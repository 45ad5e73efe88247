"""A real HTTP receiver for webhook tests: records what arrives, answers what it is told."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: str
    at: float = field(default_factory=time.time)


class Receiver:
    """Listens on 127.0.0.1 (at `port`, or a free one) until stop(); `status` is what it answers."""

    def __init__(self, status: int = 200, *, port: int = 0) -> None:
        self.status = status
        self.received: list[Received] = []
        self.seen = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                with receiver.seen:
                    receiver.received.append(Received(self.path, dict(self.headers.items()), body))
                    receiver.seen.notify_all()
                reply = b'{"ok": true}' if 200 <= receiver.status < 300 else b"receiver says no"
                self.send_response(receiver.status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            # The default listen backlog is 5: a drain opening 16 connections at once on a
            # loaded machine overflowed it, and the connects dropped past it failed the sends.
            request_queue_size = 128

        self.server = Server(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hooks") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        with self.seen:
            self.seen.wait_for(lambda: len(self.received) >= count, timeout=timeout)
        return list(self.received)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    """A port nothing listens on (a receiver that is down)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
