"""The Dask executor: blocks of simulations as tasks on a ``distributed`` cluster
(docs/architecture.md, "Executors").

All of riskengine's Dask code lives in this module, and nothing else in the package imports it
(or Dask) at import time: :func:`riskengine.run.simulate.simulate` imports it only when a run asks
for Dask. Dask only orchestrates; the work is :func:`riskengine.run.inprocess.run_block`, the
same function the in-process executor calls, so results are bit-identical whatever the
executor, the number of workers or the order in which blocks finish (every random draw is keyed
by the simulation id).

How a run goes:

1. **Client.** The ``client`` given; else ``scheduler="local"`` starts a
   :class:`~distributed.LocalCluster` (one single-threaded worker process per CPU, on 127.0.0.1,
   no dashboard), closed after the run; else a scheduler address (``scheduler="tcp://host:port"``
   or the ``DASK_SCHEDULER_ADDRESS`` environment variable) is connected to, and disconnected from
   after the run; else the active client (:func:`distributed.default_client`).
2. **Share.** The kernel portfolio (a NamedTuple of NumPy arrays) is copied once into a block
   of shared memory (:mod:`multiprocessing.shared_memory`) when every worker can open it — all
   workers on this machine, as with a LocalCluster: each worker then maps the same pages and
   builds its portfolio from views of them (no copy per worker, and the workers' kernels read
   one copy through the shared cache). Otherwise (workers on other machines) the portfolio is
   scattered once to every worker. The block is unlinked when the run ends; a worker keeps at
   most one run's portfolio mapped.
3. **Tasks.** One task per block, with a unique key and ``retries=2``. If a worker dies, the
   scheduler recomputes only its blocks elsewhere (the nanny of a LocalCluster restarts it).
   Within a worker, blocks run one at a time using all of the worker's threads as Numba threads,
   so 2 workers × 1 thread use 2 cores, not 2 × all of them, and a worker with 8 threads runs
   each block on 8 Numba threads. Kernels compile on each worker on first use (``cache=True``
   makes that a cache load).
4. **Streaming.** Results come back as blocks finish (:func:`distributed.as_completed`); each
   future is released as soon as its result is handed over, so the cluster holds at most the
   blocks in flight. The engine combines them in simulation order, checkpoints them and reports
   progress. Closing the stream early (an error, Ctrl-C) cancels the outstanding tasks; the
   workers of a LocalCluster started for the run ignore SIGINT (:func:`dask_setup`), so that
   Ctrl-C in a terminal stops the run cleanly, through its own process.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import socket
import sys
import threading
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import distributed
import numpy as np

from ..errors import Problem, RiskEngineError
from ..kernels.portfolio import KernelPortfolio as _KernelPortfolio

if TYPE_CHECKING:
    from ..kernels.portfolio import KernelPortfolio
    from .blocks import Block, BlockResult

__all__ = ["run_blocks_dask", "BlockStream", "EXECUTOR"]

log = logging.getLogger("riskengine")

#: Executor name recorded in the results' metadata.
EXECUTOR = "dask"
#: Times a failed block task is retried (a lost worker does not count: the scheduler reschedules).
RETRIES = 2

# blocks run one at a time in a worker process, each on all the worker's threads (k tasks at once
# on k threads each would run k² threads)
_kernel_lock = threading.Lock()


def _worker_threads() -> int:
    """The thread count of the worker this task runs on (0 when not on a worker)."""
    try:
        worker = distributed.get_worker()
    except ValueError:
        return 0
    state = getattr(worker, "state", None)
    return int(getattr(state, "nthreads", 0) or getattr(worker, "nthreads", 0) or 1)


# ---------------------------------------------------------------------------------------------
# The portfolio in shared memory
# ---------------------------------------------------------------------------------------------
#: Alignment of each array in the shared block (bytes: a cache line).
_ALIGN = 64


class SharedPortfolio:
    """A kernel portfolio copied into one block of shared memory, and how to rebuild it.

    ``spec`` (small, picklable) holds per field either ``("array", offset, dtype, shape)`` or
    ``("value", value)``; :func:`attach` turns it back into a :class:`KernelPortfolio` whose
    arrays are views of the block.
    """

    def __init__(self, port: KernelPortfolio):
        from multiprocessing import shared_memory

        spec: dict[str, tuple] = {}
        offset = 0
        arrays = {}
        for name, value in port._asdict().items():
            if isinstance(value, np.ndarray):
                a = np.ascontiguousarray(value)
                spec[name] = ("array", offset, a.dtype, a.shape)
                arrays[name] = (offset, a)
                offset += -(-max(a.nbytes, 1) // _ALIGN) * _ALIGN
            else:
                spec[name] = ("value", value)
        self.shm = shared_memory.SharedMemory(create=True, size=max(offset, 1))
        for off, a in arrays.values():
            np.ndarray(a.shape, a.dtype, buffer=self.shm.buf, offset=off)[...] = a
        self.name = self.shm.name
        self.spec = spec
        self.nbytes = offset

    def close(self) -> None:
        """Unmap and remove the block (workers' mappings stay valid until they let go)."""
        with contextlib.suppress(Exception):
            self.shm.close()
        with contextlib.suppress(FileNotFoundError):
            self.shm.unlink()


#: This worker's mapped portfolio: (block name, its SharedMemory, the portfolio).
_ATTACHED: list[tuple[str, Any, KernelPortfolio]] = []


def _open(name: str) -> Any:
    """Open (not create) shared block ``name`` without registering it with this process's
    resource tracker: the creator owns and unlinks it. (Python < 3.13 registers every opened
    block, and a worker's tracker — often the client's own, inherited — would then unlink it
    when the worker exits, or log errors; ``track=False`` says so from 3.13.)"""
    from multiprocessing import resource_tracker, shared_memory

    if sys.version_info >= (3, 13):
        return shared_memory.SharedMemory(name=name, track=False)  # type: ignore[call-arg]
    register = resource_tracker.register
    resource_tracker.register = lambda *args, **kwargs: None
    try:
        return shared_memory.SharedMemory(name=name)
    finally:
        resource_tracker.register = register


def attach(name: str, spec: dict[str, tuple]) -> KernelPortfolio:
    """The portfolio of shared block ``name`` as views of its pages (mapped once per worker;
    mapping another block lets go of the previous one)."""
    if _ATTACHED and _ATTACHED[0][0] == name:
        return _ATTACHED[0][2]
    _detach()
    shm = _open(name)
    fields = {}
    for field, item in spec.items():
        if item[0] == "array":
            _, offset, dtype, shape = item
            fields[field] = np.ndarray(shape, dtype, buffer=shm.buf, offset=offset)
        else:
            fields[field] = item[1]
    port = _KernelPortfolio(**fields)
    _ATTACHED.append((name, shm, port))
    return port


def _detach(name: str | None = None) -> None:
    """Let go of the mapped portfolio (of block ``name`` only, when given): its pages are
    unmapped once the last array viewing them is gone."""
    while _ATTACHED and (name is None or _ATTACHED[0][0] == name):
        _, shm, _ = _ATTACHED.pop()
        with contextlib.suppress(BufferError, OSError):  # arrays still view it: unmapped later
            shm.close()


async def _release(name: str) -> None:
    """:func:`_detach` as a coroutine (``Client.run`` can fire those without waiting)."""
    _detach(name)


def _attached() -> list[str]:
    """Names of the blocks this worker has mapped (for tests and benchmarks)."""
    return [name for name, _, _ in _ATTACHED]


def _probe(name: str, token: bytes) -> bool:
    """Whether this worker can open shared block ``name`` and sees ``token`` at its start."""
    try:
        shm = _open(name)
    except OSError:
        return False
    try:
        return bytes(shm.buf[: len(token)]) == token
    finally:
        shm.close()


def _share(cl: distributed.Client, port: KernelPortfolio) -> SharedPortfolio | None:
    """The portfolio in shared memory when every current worker can map it, else None."""
    try:
        shared = SharedPortfolio(port)
    except OSError as exc:  # no /dev/shm, or too small
        log.info("dask: no shared memory for the portfolio (%s): scattering it", exc)
        return None
    token = uuid.uuid4().bytes
    head = bytes(shared.shm.buf[: len(token)])
    shared.shm.buf[: len(token)] = token
    try:
        seen = cl.run(_probe, shared.name, token)
    except Exception:  # any failure means: do not share
        seen = {}
    shared.shm.buf[: len(token)] = head
    if not seen or not all(seen.values()):
        shared.close()
        return None
    return shared


def _run_block_task(
    port: KernelPortfolio | tuple[str, dict[str, tuple]],
    start: int,
    size: int,
    segments: bool,
    grid: np.ndarray | None,
    grid_k: int,
) -> BlockResult:
    """A block as a Dask task: :func:`~riskengine.run.inprocess.run_block` on the worker's
    threads."""
    from .inprocess import run_block

    nthreads = _worker_threads()
    with _kernel_lock:
        if isinstance(port, tuple):  # (shared block name, spec)
            port = attach(*port)
        return run_block(
            port,
            start,
            size,
            segments=segments,
            n_threads=nthreads or None,
            grid=grid,
            grid_k=grid_k,
        )


def dask_setup(worker: Any) -> None:
    """Preload of the workers of a LocalCluster started for a run: ignore SIGINT.

    Ctrl-C in a terminal reaches the whole process group; the run's own process handles it
    (cancels the tasks, closes the cluster) and the workers would only print tracebacks.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def _close_all(things: list[Any]) -> None:
    """Close each of ``things`` (clients, clusters), whatever the others do."""
    for thing in things:
        with contextlib.suppress(Exception):
            thing.close()


#: A scheduler address: ``scheme://host:port`` or ``host:port``.
_ADDRESS = re.compile(r"^(?:(?P<scheme>[a-z]+)://)?(?P<host>\[[^]]+\]|[^:/\s]+):(?P<port>\d{1,5})$")
#: Seconds to wait for a scheduler to answer.
CONNECT_TIMEOUT_S = 10.0


def _check_address(address: str, source: str) -> None:
    """Refuse a malformed or unreachable scheduler address before any client exists.

    A :class:`distributed.Client` that fails to connect hangs for a minute in its finaliser;
    checking first (the address's form, then a plain TCP connection) fails at once instead.
    """

    def refuse(why: str) -> RiskEngineError:
        text = f"cannot use the Dask scheduler at {address!r}: {why}"
        return RiskEngineError([Problem(source, None, text)], source)

    m = _ADDRESS.match(address.strip())
    if m is None:
        raise refuse("expected 'local', tcp://HOST:PORT or HOST:PORT")
    if (m["scheme"] or "tcp") not in ("tcp", "tls"):
        return  # other transports are left to distributed
    host = m["host"].strip("[]")
    try:
        with socket.create_connection((host, int(m["port"])), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        raise refuse(f"nothing answers there ({exc.strerror or exc})") from None


def _connect(address: str, source: str) -> distributed.Client:
    _check_address(address, source)
    try:
        return distributed.Client(address, set_as_default=False, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as exc:
        text = f"cannot connect to the Dask scheduler at {address!r}: {exc}"
        raise RiskEngineError([Problem(source, None, text)], source) from None


def _resolve_client(client: Any, scheduler: str | None) -> tuple[distributed.Client, list[Any]]:
    """The client to use and what to close after the run (in order)."""
    if client is not None:
        return client, []
    if scheduler == "local":
        n = _cpu_count()
        cluster = distributed.LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.ERROR,
            # no dashboard; the scheduler's HTTP endpoints (health, metrics) on a free port
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            preload=[__name__],  # dask_setup: Ctrl-C is for this process, which closes the cluster
        )
        try:
            own = distributed.Client(cluster, set_as_default=False)
        except BaseException:
            cluster.close()
            raise
        log.info("started a local Dask cluster: %d workers × 1 thread", n)
        return own, [own, cluster]
    if scheduler:
        own = _connect(scheduler, "--scheduler")
        return own, [own]
    address = os.environ.get("DASK_SCHEDULER_ADDRESS")
    if address:
        own = _connect(address, "DASK_SCHEDULER_ADDRESS")
        return own, [own]
    try:
        return distributed.default_client(), []
    except ValueError:
        raise RiskEngineError(
            "no Dask client: pass client=, scheduler='local' or an address, or set "
            "DASK_SCHEDULER_ADDRESS",
            "dask",
        ) from None


class BlockStream(Iterator[tuple["Block", "BlockResult"]]):
    """``(block, result)`` pairs in the order blocks finish on the cluster.

    Exhausting the stream, or an error while waiting, closes it; a consumer that stops early must
    call :meth:`close`, which cancels the outstanding tasks and closes what the run started.
    """

    def __init__(
        self,
        client: distributed.Client,
        futures: dict[distributed.Future, Block],
        port: distributed.Future | None,
        owned: list[Any],
        shared: SharedPortfolio | None = None,
    ):
        self._client = client
        self._pending = futures
        self._port = port
        self._owned = owned
        self._shared = shared
        self._done = distributed.as_completed(list(futures), loop=client.loop, with_results=True)
        self._closed = False

    def __next__(self) -> tuple[Block, BlockResult]:
        if self._closed:
            raise StopIteration
        try:
            future, result = next(self._done)
        except BaseException:  # StopIteration, a task's error, KeyboardInterrupt
            self.close()
            raise
        block = self._pending.pop(future)
        future.release()  # its result is ours now: the cluster can forget it
        if not self._pending:
            self.close()
        return block, result

    @property
    def sharing(self) -> str:
        """How the workers got the portfolio: ``"shared memory"`` or ``"scattered"``."""
        return "shared memory" if self._shared is not None else "scattered"

    @property
    def outstanding(self) -> int:
        """Blocks not yet handed over."""
        return len(self._pending)

    def close(self) -> None:
        """Cancel the outstanding tasks, release the portfolio and close what the run started."""
        if self._closed:
            return
        self._closed = True
        try:
            with contextlib.suppress(Exception):  # a broken connection must not hide the cause
                if self._pending:
                    log.info("cancelling %d outstanding blocks", len(self._pending))
                    self._client.cancel(list(self._pending))
                self._done.clear()
                self._pending.clear()
                if self._port is not None:
                    self._port.release()
                if self._shared is not None:  # the workers let go of its pages
                    self._client.run(_release, self._shared.name, wait=False)
        finally:
            self._port = None
            if self._shared is not None:
                self._shared.close()
                self._shared = None
            _close_all(self._owned)
            self._owned = []


def run_blocks_dask(
    port: KernelPortfolio,
    blocks: list[Block],
    segments: bool,
    *,
    client: Any = None,
    scheduler: str | None = None,
    grid: np.ndarray | None = None,
    grid_k: int = 0,
) -> tuple[BlockStream, str, int]:
    """Run blocks as tasks on a Dask cluster.

    Parameters
    ----------
    port : KernelPortfolio
        The compiled portfolio's kernel arrays (in shared memory when every worker is on this
        machine, else scattered once to every worker).
    blocks : list of Block
        The blocks to simulate.
    segments : bool
        Whether blocks return segment claims.
    client : distributed.Client, optional
        The client to use (it is left open).
    scheduler : str, optional
        ``"local"`` to start a LocalCluster for this run, or a scheduler address
        (``"tcp://host:port"``); the default is ``$DASK_SCHEDULER_ADDRESS``, then the active client.
    grid, grid_k
        Treaty sweep, as for :func:`~riskengine.run.inprocess.run_block`.

    Returns
    -------
    stream : BlockStream
        ``(block, result)`` pairs as blocks finish (any order).
    executor : str
        ``"dask"``.
    workers : int
        Total worker threads when the run was submitted.

    Raises
    ------
    RiskEngineError
        When no client can be found or the scheduler cannot be reached.
    """
    cl, owned = _resolve_client(client, scheduler)
    futures: dict[distributed.Future, Block] = {}
    shared: SharedPortfolio | None = None
    try:
        threads = int(sum(cl.nthreads().values()))
        if threads == 0:
            log.warning("the Dask cluster has no workers yet: blocks wait for some to join")
        port_future = None
        if blocks:
            shared = _share(cl, port) if threads else None
            if shared is not None:
                port_arg: Any = (shared.name, shared.spec)
            else:
                [port_future] = cl.scatter([port], broadcast=True, hash=False)
                port_arg = port_future
            token = uuid.uuid4().hex[:12]
            for b in blocks:
                f = cl.submit(
                    _run_block_task,
                    port_arg,
                    b.start,
                    b.size,
                    segments,
                    grid,
                    grid_k,
                    key=f"riskengine-block-{b.index:06d}-{token}",
                    pure=False,
                    retries=RETRIES,
                )
                futures[f] = b
        stream = BlockStream(cl, futures, port_future, owned, shared)
        log.info(
            "dask: %d blocks on %d worker threads, portfolio %s",
            len(blocks),
            threads,
            stream.sharing,
        )
        return stream, EXECUTOR, threads
    except BaseException:
        with contextlib.suppress(Exception):
            if futures:
                cl.cancel(list(futures))
        if shared is not None:
            shared.close()
        _close_all(owned)
        raise
