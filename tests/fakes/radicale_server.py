"""A real Radicale CalDAV server on loopback, its storage in a temporary folder, one user with a password."""

import socket
import subprocess
import sys
import time
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RadicaleServer:
    """``python -m radicale`` as a subprocess until ``stop()``; ``url`` is the server's root."""

    user, password = "sam", "calendar-secret"

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        users = folder / "users"
        users.write_text(f"{self.user}:{self.password}\n")
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "radicale",
                "--server-hosts",
                f"127.0.0.1:{self.port}",
                "--storage-filesystem-folder",
                str(folder / "collections"),
                "--auth-type",
                "htpasswd",
                "--auth-htpasswd-filename",
                str(users),
                "--auth-htpasswd-encryption",
                "plain",
                "--logging-level",
                "error",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Radicale stopped: {self.process.stderr.read().decode()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("Radicale did not start in 20 s")

    def calendar(self, name: str) -> str:
        """Create the user's calendar ``name`` (MKCALENDAR) and return its URL."""
        import caldav

        with caldav.DAVClient(url=self.url, username=self.user, password=self.password) as client:
            calendar = client.principal().make_calendar(name=name, cal_id=name)
            return str(calendar.url)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
