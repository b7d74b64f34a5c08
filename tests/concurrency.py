"""Running work in real threads against the database, for race tests on PostgreSQL."""

import threading

from django.db import connection


def run_at_once(count: int, work) -> list:
    """Run `work(i)` in `count` threads released together; each thread closes its own connection.

    Returns what each thread returned, or the exception it raised.
    """
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def worker(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # the test asserts on what each thread got
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results
