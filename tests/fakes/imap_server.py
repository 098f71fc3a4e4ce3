"""A local IMAP4rev1 server with one mailbox: enough of the protocol for imaplib's LOGIN, SELECT and UID commands."""

import re
import socketserver

from tests.fakes.http_server import BackgroundServer


class Mailbox:
    def __init__(self, user: str, password: str):
        self.user, self.password = user, password
        self.messages: dict[int, bytes] = {}
        self.seen: set[int] = set()

    def add(self, raw: bytes) -> int:
        uid = len(self.messages) + 1
        self.messages[uid] = raw
        return uid


class ImapServer(BackgroundServer):
    """Serves ``mailbox`` on a free loopback port; ``url`` is the imap:// URL poll_mailbox takes."""

    def __init__(self, user="leads@example.com", password="s3cret"):
        self.mailbox = Mailbox(user, password)
        mailbox = self.mailbox

        class Handler(socketserver.StreamRequestHandler):
            def send(self, line: str | bytes):
                self.wfile.write(line if isinstance(line, bytes) else line.encode() + b"\r\n")

            def handle(self):
                self.send("* OK [CAPABILITY IMAP4rev1] fake IMAP ready")
                authed = False
                while line := self.rfile.readline():
                    tag, _, rest = line.decode().strip().partition(" ")
                    command, _, args = rest.partition(" ")
                    command = command.upper()
                    if command == "CAPABILITY":
                        self.send("* CAPABILITY IMAP4rev1")
                    elif command == "LOGIN":
                        user, password = [a.strip('"') for a in args.split(" ", 1)]
                        authed = (user, password) == (mailbox.user, mailbox.password)
                        if not authed:
                            self.send(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials")
                            continue
                    elif command == "LOGOUT":
                        self.send("* BYE")
                        self.send(f"{tag} OK LOGOUT completed")
                        return
                    elif not authed:
                        self.send(f"{tag} BAD not authenticated")
                        continue
                    elif command == "SELECT":
                        self.send(f"* {len(mailbox.messages)} EXISTS")
                    elif command == "UID":
                        self.uid(args)
                    self.send(f"{tag} OK {command} completed")

            def uid(self, args: str):
                sub, _, rest = args.partition(" ")
                sub = sub.upper()
                if sub == "SEARCH":
                    unseen = [str(u) for u in mailbox.messages if u not in mailbox.seen]
                    self.send("* SEARCH " + " ".join(unseen))
                elif sub == "FETCH":
                    uid = int(rest.split()[0])
                    raw = mailbox.messages[uid]
                    self.send(f"* {uid} FETCH (UID {uid} RFC822 {{{len(raw)}}}".encode() + b"\r\n" + raw + b")\r\n")
                elif sub == "STORE":
                    uid = int(rest.split()[0])
                    if re.search(r"\\Seen", rest):
                        mailbox.seen.add(uid)
                    self.send(f"* {uid} FETCH (UID {uid} FLAGS (\\Seen))")

        port = self._serve(socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler))
        self.url = f"imap://{user.replace('@', '%40')}:{password}@127.0.0.1:{port}/INBOX"
