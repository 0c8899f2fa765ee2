"""Hearth's RPC workers, each behind the filter a donor's tunnel relays through (no TLS, no node),
recording every graph the filter lets through: for tests that pool real models and need to know
what llama.cpp sends a worker."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from hearth.core.rpc_filter import Ledger, RpcFilter
from hearth.core.rpc_graph import Graph
from hearth.engine import rpc, rpc_worker
from hearth.mesh.tunnel import relay

START_S = 60.0


@dataclass
class GraphsSeen:
    """What the filters of one set of workers checked and passed, across all their connections."""

    ops: Counter[str] = field(default_factory=Counter)  # every tensor's op, by name
    graphs: int = 0
    max_nodes: int = 0
    max_tensors: int = 0
    max_bytes: int = 0
    max_ids_distance: int = 0  # nodes from a MUL_MAT_ID back to the ARGSORT that chose its experts
    check_s: float = 0.0  # time spent checking graphs
    refusals: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, graph: Graph, size: int, seconds: float) -> None:
        names = graph.rules.op_names
        with self.lock:
            self.graphs += 1
            self.check_s += seconds
            self.max_nodes = max(self.max_nodes, len(graph.nodes))
            self.max_tensors = max(self.max_tensors, len(graph.tensors))
            self.max_bytes = max(self.max_bytes, size)
            self.ops.update(names[t.op] for t in graph.tensors.values())
            for j, node in enumerate(graph.nodes):
                if names[node.op] != "MUL_MAT_ID":
                    continue
                ids = graph.tensors[node.src[2]]
                for i in range(j - 1, -1, -1):
                    sort = graph.nodes[i]
                    if names[sort.op] == "ARGSORT" and sort.data <= ids.data < sort.end:
                        self.max_ids_distance = max(self.max_ids_distance, j - i)
                        break


class _RecordingFilter(RpcFilter):
    seen: GraphsSeen

    def check_graph(self, payload: bytes) -> Graph:
        started = time.perf_counter()
        graph = super().check_graph(payload)
        self.seen.record(graph, len(payload), time.perf_counter() - started)
        return graph


class FilteredWorkers:
    """``count`` workers on 127.0.0.1; ``endpoints`` are their filtered listeners, in order."""

    def __init__(self, root: Path, count: int = 2, threads: int = 1) -> None:
        self.seen = GraphsSeen()
        self.endpoints: list[str] = []
        self._procs: list[subprocess.Popen[bytes]] = []
        self._listeners: list[socket.socket] = []
        self._rules = rpc.graph_rules()
        try:
            for i in range(count):
                self.endpoints.append(self._start(root / f"cache{i}", threads))
        except BaseException:
            self.close()
            raise

    def _start(self, cache: Path, threads: int) -> str:
        proc = subprocess.Popen(rpc_worker.command(threads, str(cache)), stdout=subprocess.PIPE)
        self._procs.append(proc)
        assert proc.stdout is not None
        port = None
        deadline = time.monotonic() + START_S
        for line in proc.stdout:
            match = rpc_worker.READY.search(line)
            if match:
                port = int(match.group(1))
                break
            if time.monotonic() > deadline:
                break
        if port is None:
            raise RuntimeError("an RPC worker did not start")
        threading.Thread(target=proc.stdout.read, daemon=True).start()  # its connection lines
        listener = socket.create_server(("127.0.0.1", 0))
        self._listeners.append(listener)
        threading.Thread(target=self._serve, args=(listener, port), daemon=True).start()
        return f"127.0.0.1:{listener.getsockname()[1]}"

    def _serve(self, listener: socket.socket, port: int) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed
            upstream = socket.create_connection(("127.0.0.1", port), timeout=10)
            upstream.settimeout(None)
            filt = _RecordingFilter(Ledger(1 << 40), self._rules)
            filt.seen = self.seen
            threading.Thread(target=self._relay, args=(client, upstream, filt), daemon=True).start()

    def _relay(self, client: socket.socket, upstream: socket.socket, filt: RpcFilter) -> None:
        why = relay(client, upstream, filt, threading.Lock())
        if why.startswith("refused"):
            with self.seen.lock:
                self.seen.refusals.append(why)

    def close(self) -> None:
        for listener in self._listeners:
            listener.close()
        for proc in self._procs:
            proc.kill()
            proc.wait()
