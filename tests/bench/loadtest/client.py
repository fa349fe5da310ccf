"""A small HTTP load generator: threads, one short-lived connection per request, standard library only.

Why not locust: it brings gevent, Flask, pyzmq and more into the project for what the benches
need — a bounded number of scripted requests on loopback, timed one by one. Here a scenario is
a function taking a ``Session`` (cookies, a CSRF helper) that makes its requests through it;
``run`` plays many scenarios on a pool of threads, stops starting new ones at a deadline, and
returns every request's timing. ``report`` prints count, errors, median and p95 per endpoint.
"""

import http.client
import re
import statistics
import threading
import time
import urllib.parse
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Timing:
    """One request: the endpoint's name, the status (0 when the connection failed), the time."""

    name: str
    status: int
    seconds: float
    error: str = ""

    @property
    def failed(self) -> bool:
        return self.status == 0 or self.status >= 500


@dataclass
class Response:
    status: int
    headers: dict
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class RequestFailed(Exception):
    """The server answered something the scenario cannot go on from."""


CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Session:
    """One user's cookies, recording each request's timing in ``timings``."""

    base: str
    timings: list = field(default_factory=list)
    cookies: dict = field(default_factory=dict)
    timeout: float = 60
    # Behind a load balancer: each request goes to the next node (no stickiness), the Host header
    # stays the public one (``base``), as a balancer forwards it.
    nodes: "Balancer | None" = None

    def request(self, name: str, method: str, path: str, *, body: bytes = b"", headers=None) -> Response:
        url = urllib.parse.urljoin(self.base, path)
        parts = urllib.parse.urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        sent = {"Host": parts.netloc, "Connection": "close", **(headers or {})}
        if self.nodes is not None:
            parts = urllib.parse.urlsplit(self.nodes.next())
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{key}={value}" for key, value in self.cookies.items())
        if body:
            sent["Content-Length"] = str(len(body))
        started = time.perf_counter()
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=self.timeout)
        try:
            connection.request(method, target, body=body or None, headers=sent)
            raw = connection.getresponse()
            data = raw.read()
            response = Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, data)
            for header, value in raw.getheaders():
                if header.lower() == "set-cookie":
                    cookie = value.split(";", 1)[0]
                    key, _, val = cookie.partition("=")
                    self.cookies[key.strip()] = val.strip()
        except (OSError, http.client.HTTPException) as error:
            self.timings.append(Timing(name, 0, time.perf_counter() - started, repr(error)))
            raise RequestFailed(f"{name}: {error!r}") from error
        finally:
            connection.close()
        self.timings.append(Timing(name, response.status, time.perf_counter() - started))
        return response

    def get(self, name: str, path: str) -> Response:
        return self.request(name, "GET", path)

    def post_form(self, name: str, path: str, fields: dict, *, referer: str) -> Response:
        body = urllib.parse.urlencode(fields).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": urllib.parse.urljoin(self.base, referer),
            "Origin": self.base,
        }
        return self.request(name, "POST", path, body=body, headers=headers)

    @staticmethod
    def csrf_token(response: Response) -> str:
        match = CSRF_INPUT.search(response.text)
        if not match:
            raise RequestFailed("no CSRF token in the form")
        return match.group(1)


Scenario = Callable[[Session], None]


class Balancer:
    """Round robin over web nodes' base URLs, shared by every thread."""

    def __init__(self, nodes: list[str]):
        self._nodes = list(nodes)
        self._turn = 0
        self._lock = threading.Lock()
        self.sent = dict.fromkeys(self._nodes, 0)

    def next(self) -> str:
        with self._lock:
            node = self._nodes[self._turn % len(self._nodes)]
            self._turn += 1
            self.sent[node] += 1
            return node


def run(
    base: str,
    scenarios: Iterable[Scenario],
    *,
    threads: int,
    time_limit: float,
    nodes: Balancer | None = None,
) -> tuple[list, list, float]:
    """Play ``scenarios`` on ``threads`` threads; none starts after ``time_limit`` seconds. With
    ``nodes``, every request goes to the next web node (``base`` is the public address).

    Returns (timings of every request, failures as strings, elapsed seconds).
    """
    scenarios = list(scenarios)
    timings, failures, lock = [], [], threading.Lock()
    started = time.perf_counter()
    deadline = started + time_limit

    def play(scenario: Scenario) -> None:
        if time.perf_counter() > deadline:
            return
        session = Session(base, nodes=nodes)
        try:
            scenario(session)
        except Exception as error:  # a failed scenario is a result, not a crash of the bench
            with lock:
                failures.append(f"{getattr(scenario, '__name__', 'scenario')}: {error}")
        with lock:
            timings.extend(session.timings)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(play, scenarios))
    return timings, failures, time.perf_counter() - started


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def report(timings: list[Timing]) -> dict[str, dict]:
    """Per endpoint: requests, errors (5xx or no answer), median and p95 in ms; printed as a table."""
    by_name = defaultdict(list)
    for timing in timings:
        by_name[timing.name].append(timing)
    summary = {}
    print(f"{'endpoint':<28}{'requests':>10}{'errors':>8}{'median ms':>12}{'p95 ms':>10}")
    for name in sorted(by_name):
        rows = by_name[name]
        ms = [row.seconds * 1000 for row in rows]
        summary[name] = {
            "requests": len(rows),
            "errors": sum(row.failed for row in rows),
            "median": statistics.median(ms),
            "p95": percentile(ms, 0.95),
        }
        line = summary[name]
        print(
            f"{name:<28}{line['requests']:>10}{line['errors']:>8}{line['median']:>12.0f}{line['p95']:>10.0f}"
        )
    return summary
