"""The load generator of `python -m bench api`: standard library only, one process per client.

Each client opens a new loopback connection per request (gunicorn's sync workers close every
connection after its answer, as they do behind a reverse proxy) and times the whole exchange:
connect, send, read the complete answer.
"""

import http.client
import multiprocessing
import time


def _client(host, port, calls, start, results):
    times, statuses = [], {}
    start.wait()
    for method, path, body, headers in calls:
        began = time.perf_counter()
        connection = http.client.HTTPConnection(host, port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
        except OSError as error:
            status = type(error).__name__
        finally:
            connection.close()
        times.append(time.perf_counter() - began)
        statuses[status] = statuses.get(status, 0) + 1
    results.put((times, statuses))


def hammer(host: str, port: int, calls: list, concurrency: int) -> dict:
    """Send ``calls`` (method, path, body bytes or None, headers) from ``concurrency`` client
    processes sharing them round-robin; returns the latencies, the wall time and the statuses."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(concurrency + 1)
    results = context.Queue()
    clients = [
        context.Process(target=_client, args=(host, port, calls[n::concurrency], start, results))
        for n in range(concurrency)
    ]
    for client in clients:
        client.start()
    start.wait()
    began = time.perf_counter()
    times, statuses = [], {}
    for _ in clients:
        some, counted = results.get()
        times += some
        for status, count in counted.items():
            statuses[status] = statuses.get(status, 0) + count
    wall = time.perf_counter() - began
    for client in clients:
        client.join()
    return {"times": times, "wall": wall, "statuses": statuses}
