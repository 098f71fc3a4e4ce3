"""A local SMTP server (aiosmtpd) for tests of the real SMTP path: Django's smtp backend talks to it."""

import email
import socket
from email.message import Message

from aiosmtpd.controller import Controller


class Mailbox:
    """Keeps every accepted message; ``refuse`` (e.g. "550 5.1.1 No such user") answers RCPT instead."""

    def __init__(self):
        self.messages: list[Message] = []
        self.refuse = ""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's name
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    # aiosmtpd's Controller checks its server by connecting to the given port, so port 0 cannot be used.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    def __init__(self):
        self.mailbox = Mailbox()
        self.port = free_port()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self.mailbox

    def __exit__(self, *exc):
        self.controller.stop()
