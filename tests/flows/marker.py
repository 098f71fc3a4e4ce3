"""A task for the scale-out test: it notes which node ran it, and how often, in the log."""

import os
import time

from audit.models import Decision


def mark(n: int) -> int:
    time.sleep(0.05)  # long enough that one node cannot drain the queue before the other polls
    Decision.objects.create(step=Decision.Step.NOTIFY, reasoning=f"task {n}", output={"node": os.environ["NODE"]})
    return n
