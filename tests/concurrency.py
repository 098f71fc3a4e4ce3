"""Running the same code from several threads at once, each with its own database connection."""

import threading
from collections.abc import Callable, Iterable

from django.db import connection


def run_in_threads(work: Callable, inputs: Iterable) -> list:
    """Call ``work(item)`` for each item, one thread per item, all released at once; return the results.

    Any exception in a thread fails the calling test, so a lost race can't pass unnoticed.
    """
    items = list(inputs)
    barrier = threading.Barrier(len(items))
    results, errors = [], []

    def run(item):
        try:
            barrier.wait()
            results.append(work(item))
        except Exception as exc:  # noqa: BLE001 - re-raised in the calling thread below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(item,)) for item in items]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [], errors
    return results
