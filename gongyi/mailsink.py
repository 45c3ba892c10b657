"""A local SMTP server that accepts every message into a Maildir: e-mail in embedded mode and tests.

``gongyi run`` starts it as a child process when ``GONGYI_SMTP_URL`` is unset, so the console's
confirmations, invitations and notifications can be read in ``<data_dir>/mail`` without a real
mail server. aiosmtpd runs on asyncio, which must not share a process with eventlet's patches:
hence a process of its own.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import mailbox
import os
import time
from pathlib import Path


def read_maildir(path: str | Path) -> list[email.message.EmailMessage]:
    """Every message in the sink's Maildir, oldest first (keys start with the delivery time)."""
    if not Path(path, "new").exists():
        return []
    box = mailbox.Maildir(str(path), create=False)
    return [email.message_from_bytes(box.get_bytes(k), policy=email.policy.default) for k in sorted(box.keys())]


class MaildirHandler:
    def __init__(self, path: str) -> None:
        self.path = path

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802 - aiosmtpd's hook name
        # opened per message: a folder removed meanwhile (a cleaned data dir) is made again
        for sub in ("tmp", "new", "cur"):  # Maildir(create=True) makes them only for a new folder
            Path(self.path, sub).mkdir(parents=True, exist_ok=True)
        mailbox.Maildir(self.path, create=False).add(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def main() -> None:
    parser = argparse.ArgumentParser(description="SMTP sink into a Maildir")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--parent-pid", type=int, default=0, help="exit when this process is gone")
    args = parser.parse_args()
    from aiosmtpd.controller import Controller

    Path(args.maildir).mkdir(parents=True, exist_ok=True)
    controller = Controller(MaildirHandler(args.maildir), hostname="127.0.0.1", port=args.port)
    controller.start()
    try:
        while True:
            time.sleep(0.5)
            if args.parent_pid and not _alive(args.parent_pid):
                break
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


if __name__ == "__main__":
    main()
