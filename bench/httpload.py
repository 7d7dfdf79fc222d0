"""A small HTTP/1.1 load generator: asyncio, keep-alive connections to 127.0.0.1, in its own process.

Each of ``clients`` connections sends its next request as soon as the previous answer arrived (a
closed loop, like wrk). Requests come from a *plan* (a picklable function name and parameters) so
every request can carry its own dossier, idempotency key or signature. Only 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Request = tuple[str, str, dict[str, str], bytes]  # method, path, headers, body
Plan = Callable[[int], Request]  # request number (0, 1, …, unique in the run) → request


@dataclass
class Outcome:
    """What one run measured: latencies of good answers (seconds), and the status of every bad one."""

    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


async def _one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: Request) -> int:
    method, path, headers, body = request
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
    status_line = await reader.readline()
    length, chunked = 0, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value.strip())
        elif name.lower() == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readline()).strip() or b"0", 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    parts = status_line.split()
    return int(parts[1]) if len(parts) > 1 else 0


async def _drive(port: int, plan: Plan, clients: int, seconds: float, ok: set[int]) -> Outcome:
    deadline = time.monotonic() + seconds
    counter = iter(range(10**9))
    outcome = Outcome(seconds)

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.monotonic() < deadline:
                request = plan(next(counter))
                started = time.perf_counter()
                try:
                    status = await asyncio.wait_for(_one(reader, writer, request), timeout=60)
                except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
                    outcome.errors[type(exc).__name__] = outcome.errors.get(type(exc).__name__, 0) + 1
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    continue
                if status in ok:
                    outcome.latencies.append(time.perf_counter() - started)
                else:
                    outcome.errors[str(status)] = outcome.errors.get(str(status), 0) + 1
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return outcome


def _serve(jobs: multiprocessing.Queue, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """The load process: runs one job after another until it receives ``None``."""
    while (job := jobs.get()) is not None:
        port, plan_factory, params, clients, seconds, ok = job
        try:
            results.put(asyncio.run(_drive(port, plan_factory(**params), clients, seconds, ok)))
        except BaseException as exc:  # the parent reports it instead of waiting
            results.put(RuntimeError(f"load generator failed: {exc!r}"))


class LoadGenerator:
    """One load process for a series of runs.

    Starting a process costs about a second here (it imports the benchmark's modules again), which a run of
    3 s would pay each time: the process is started once and runs every job it is handed, one at a time.
    Between runs it waits on its queue and uses no CPU, so the figures are the same as with a process per run.
    """

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._jobs = context.Queue()
        self._results = context.Queue()
        self._process = context.Process(target=_serve, args=(self._jobs, self._results), daemon=True)
        self._process.start()

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def load(self, port: int, plan_factory: Callable[..., Plan], params: dict[str, Any], *, clients: int,
             seconds: float, ok: frozenset[int] = frozenset({200, 201})) -> Outcome:
        """Run ``clients`` connections for ``seconds``; ``plan_factory(**params)`` builds the plan in the load
        process (so it must be a module-level function)."""
        self._jobs.put((port, plan_factory, params, clients, seconds, set(ok)))
        deadline = time.monotonic() + seconds + 120  # a request times out after 60 s (``_drive``)
        while True:
            try:
                outcome = self._results.get(timeout=5)
                break
            except queue.Empty:
                if not self._process.is_alive():
                    raise RuntimeError(f"load generator exited ({self._process.exitcode})") from None
                if time.monotonic() > deadline:
                    raise RuntimeError(f"load generator gave no result within {seconds + 120:.0f} s") from None
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def close(self) -> None:
        if self._process.is_alive():
            self._jobs.put(None)
            self._process.join(timeout=30)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()

    def __enter__(self) -> LoadGenerator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

