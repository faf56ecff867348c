"""Sweeps on a Dask distributed cluster: its scheduler's address checked, its workers running the runs.

Dask is an optional dependency (``matryoshka[cluster]``), imported only when a sweep names a
scheduler. TLS comes from Dask's own configuration (its ``distributed.comm.tls`` section).

Core Objects: DaskCluster, check_scheduler_address.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from matryoshka.model.params import ConfigError
from matryoshka.runs.backends import (
    CLUSTER_HINT,
    Backend,
    RunResult,
    RunTask,
    error_line,
    execute,
    notice,
    windowed,
)

CONNECT_TIMEOUT = 3.0  # seconds to reach a Dask scheduler; it answers within milliseconds when it is there
CLIENT_TIMEOUT = 20.0  # seconds for the client's own connection, once the scheduler has answered
NOTICE_EVERY = 30.0  # seconds between two notices that a cluster has no workers
SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss")


def check_scheduler_address(address: str) -> str:
    """A Dask scheduler's address, checked for its form before anything connects to it.

    ``HOST:PORT`` means ``tcp://HOST:PORT``, as in Dask itself.

    Raises:
        ConfigError: Not ``SCHEME://HOST:PORT`` with a scheme Dask's clients speak and a port in 1-65535.
    """
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
        if scheme not in SCHEDULER_SCHEMES:
            raise ValueError(f"the scheme {scheme!r} is not one of {', '.join(SCHEDULER_SCHEMES)}")
        host, port = parse_host_port(location)
        if not host or not 0 < port < 65536:
            raise ValueError("no host" if not host else f"port {port} is not in 1-65535")
    except ValueError as err:
        raise ConfigError(
            f"--scheduler {address!r} is not a Dask scheduler address ({err}): expected SCHEME://HOST:PORT "
            "as 'dask scheduler' prints it, e.g. tcp://192.168.1.10:8786"
        ) from None
    return address


def _tls_context() -> Any:
    """The TLS context Dask's configuration sets for clients (None: no TLS configured)."""
    from distributed.security import Security

    return Security().get_connection_args("client").get("ssl_context")


def _identity(address: str, timeout: float) -> str:
    """``"Scheduler"`` if a Dask scheduler answers at ``address`` within ``timeout`` seconds, else why not."""
    import asyncio

    from distributed.core import rpc
    from distributed.security import Security

    async def identity() -> dict[str, Any]:
        args = Security().get_connection_args("client")  # TLS as Dask's configuration sets it
        async with rpc(address, timeout=timeout, connection_args=args) as server:
            return await server.identity()

    try:
        answer = asyncio.run(asyncio.wait_for(identity(), timeout))
    except TimeoutError:  # refused, unreachable or silent: Dask retries until the timeout
        return f"no Dask scheduler answered there within {timeout:g} s"
    except OSError as err:  # closed on us, or TLS refused
        return f"no Dask scheduler answered there ({error_line(err)})"
    except Exception:  # something else listens there: its bytes are not Dask's protocol
        return "what answers there does not speak Dask's protocol"
    kind = answer.get("type") if isinstance(answer, dict) else None
    return kind if kind == "Scheduler" else f"a Dask {kind or 'server'} answers there, not a scheduler"


class DaskCluster(Backend):
    """Runs on the workers of a Dask distributed cluster, given its scheduler's address.

    Args:
        address: The scheduler's address (``check_scheduler_address``).
        timeout: Seconds for a scheduler to answer there before the address is refused.

    Raises:
        ConfigError: Dask missing, a malformed address, or no scheduler answering there in time.
    """

    local = False

    def __init__(self, address: str, timeout: float = CONNECT_TIMEOUT):
        try:
            import distributed
        except ImportError:
            raise ConfigError(
                f"--scheduler {address} needs Dask distributed, which is not installed: {CLUSTER_HINT}"
            ) from None
        self.distributed = distributed
        self.address = check_scheduler_address(address)
        if address.startswith("tls://") and _tls_context() is None:
            raise ConfigError(f"--scheduler {address!r} speaks TLS, but Dask's configuration gives this "
                              "machine no client certificate: set ca-file, client.cert and client.key "
                              "in its distributed.comm.tls section")  # fmt: skip
        # Asked first on a connection of its own: a Client that fails to start cannot be closed, and
        # at exit it waits twice its timeout and prints a traceback.
        kind = _identity(address, timeout)
        if kind != "Scheduler":
            raise ConfigError(f"--scheduler {address!r}: {kind}; expected the address 'dask scheduler' "
                              "prints, e.g. tcp://192.168.1.10:8786")  # fmt: skip
        self._said = -float("inf")  # when the sweep last said it waits for workers
        try:  # the scheduler has just answered: the client's timeout covers a slow network, not a guess
            self.client = distributed.Client(address, timeout=CLIENT_TIMEOUT, set_as_default=False)
        except OSError as err:  # a client that fails to connect closes itself
            raise ConfigError(f"--scheduler {address!r}: cannot connect ({error_line(err)})") from None

    def describe(self) -> str:  # noqa: D102
        return f"the Dask cluster at {self.address} ({self.threads()} worker threads now)"

    def threads(self) -> int:
        """How many worker threads the cluster has now."""
        return sum(self.client.nthreads().values())

    def results(self, tasks: Iterable[RunTask]) -> Iterator[RunResult]:  # noqa: D102
        finished = self.distributed.as_completed(loop=self.client.loop, raise_errors=False)

        def submit(task: RunTask) -> Any:
            future = self.client.submit(execute, task, key=f"matryoshka-{task.run_id}-{uuid.uuid4().hex[:8]}")
            finished.add(future)
            return future

        def next_done(_: set) -> list:
            checked = time.monotonic()
            while not finished.has_ready():
                time.sleep(0.1)  # as_completed itself polls at this pace
                if time.monotonic() - checked >= 1.0:  # a question to the scheduler: once a second
                    checked = time.monotonic()
                    self._say_if_no_workers()
            return finished.next_batch(block=False)

        # The window follows the cluster as workers join or leave.
        yield from windowed(tasks, submit, next_done, lambda: max(4, 2 * self.threads()))

    def _say_if_no_workers(self) -> None:
        """While the cluster has no workers, say so on stderr (at most once every ``NOTICE_EVERY`` s)."""
        if self.threads() == 0 and time.monotonic() - self._said >= NOTICE_EVERY:
            self._said = time.monotonic()
            notice(f"waiting for Dask workers to join {self.address} (start them with "
                   f"'dask worker {self.address}')")  # fmt: skip

    def close(self, abort: bool = False) -> None:  # noqa: D102
        self.client.close()  # the scheduler forgets the runs nobody waits for
