"""An e-mail backend for the real-worker test: the first message stalls, so the test can kill the
worker child sending it; every later one is "sent" by appending its subject to a file."""

import os
import time
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend


class StallingEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        folder = Path(os.environ["KNOWPAY_TEST_MAIL_DIR"])
        started = folder / "stalled_pid"
        if not started.exists():
            started.write_text(str(os.getpid()))
            time.sleep(120)
        with (folder / "sent").open("a") as sent:
            for message in email_messages:
                sent.write(f"{message.subject}\n")
        return len(email_messages)
