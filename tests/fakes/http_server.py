"""A local JSON-over-HTTP server on 127.0.0.1: the base of the fakes that speak providers' protocols."""

import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


def parse_body(content_type: str, raw: bytes):
    """JSON as a dict, a form as a dict (repeated keys as lists), anything else as bytes."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        pairs = parse_qs(raw.decode(), keep_blank_values=True)
        return {k: v[0] if len(v) == 1 else v for k, v in pairs.items()}
    if not raw or content_type.startswith("application/json"):
        return json.loads(raw or b"{}")
    return raw


class BackgroundServer:
    """A socketserver on a free loopback port, served from a daemon thread inside ``with``."""

    def _serve(self, server) -> int:
        server.daemon_threads = True
        self.server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        return server.server_address[1]

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class LocalJsonServer(BackgroundServer):
    """Serves ``respond(method, path, headers, body) -> (status, json)`` on a free port until closed.

    Every request is kept in ``calls`` as (method, path, headers, body).
    """

    def __init__(self, respond):
        self.respond = respond
        self.calls: list[tuple[str, str, dict, dict]] = []
        self.raw_bodies: list[bytes] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                fake.raw_bodies.append(raw)
                body = parse_body(self.headers.get("Content-Type", ""), raw)
                request = (self.command, self.path, dict(self.headers), body)
                fake.calls.append(request)
                status, answer = fake.respond(*request)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if status == 429:
                    self.send_header("Retry-After", "0")
                self.end_headers()
                # The client may have given up already (a timeout test).
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _answer  # noqa: N815 - the stdlib's names

            def log_message(self, *args):
                pass

        port = self._serve(ThreadingHTTPServer(("127.0.0.1", 0), Handler))
        self.url = f"http://127.0.0.1:{port}"


class Receiver(LocalJsonServer):
    """A CRM (or Slack) endpoint: answers ``status`` and keeps what it got."""

    def __init__(self, status=200):
        self.status = status
        super().__init__(lambda method, path, headers, body: (self.status, {"ok": self.status < 300}))

    def events(self):
        return [body["event"] for _, _, _, body in self.calls if isinstance(body, dict) and "event" in body]
