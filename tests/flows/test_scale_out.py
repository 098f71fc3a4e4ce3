"""Scale-out: two qcluster processes (two machines, as far as they know) share one Redis broker; both take
work and no task runs twice."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
import redis

from audit.models import Decision
from tests.flows.test_worker import ROOT, database_url

pytestmark = pytest.mark.django_db(transaction=True)
REDIS_URL = "redis://127.0.0.1:6379/15"  # a database of its own, emptied first
TASKS = 60


def redis_up() -> bool:
    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


@pytest.mark.skipif(not redis_up(), reason="Redis is not running on 127.0.0.1:6379")
def test_two_clusters_on_redis_share_the_work_and_run_each_task_once():
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {**os.environ, "DATABASE_URL": database_url(), "REDIS_URL": REDIS_URL, "Q_SYNC": "false", "Q_WORKERS": "1"}
    nodes = [
        subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env={**env, "NODE": name},
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for name in ("a", "b")
    ]
    try:
        enqueue = (
            f"from django_q.tasks import async_task\nfor n in range({TASKS}): async_task('tests.flows.marker.mark', n)"
        )
        subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", enqueue], cwd=ROOT, env=env, check=True, capture_output=True
        )
        deadline = time.monotonic() + 60
        while Decision.objects.filter(step="notify").count() < TASKS and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)  # a task run twice would show up by now
    finally:
        for node in nodes:
            node.send_signal(signal.SIGTERM)
        errors = [node.communicate(timeout=30)[1] for node in nodes]
    runs = Counter(Decision.objects.filter(step="notify").values_list("reasoning", flat=True))
    by_node = Counter(Decision.objects.filter(step="notify").values_list("output__node", flat=True))
    assert len(runs) == TASKS, f"{len(runs)} of {TASKS} tasks ran"
    assert set(runs.values()) == {1}, "no task runs twice"
    assert set(by_node) == {"a", "b"} and min(by_node.values()) > 0, f"both nodes took work: {by_node}"
    assert not any(b"Traceback" in e for e in errors), b"".join(errors).decode()[-2000:]
