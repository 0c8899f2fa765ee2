"""Floods for the tests: fake mDNS records and slow-drip connections, run as a process of their own
(inside a test's network namespace, ``ip netns exec NAME python -m harness.flood ...``).

    python -m harness.flood mdns --count 1500 --seconds 20 --live 127.0.0.2:47311 [--claim ID@127.0.0.99:9]
    python -m harness.flood drip --count 1100 --seconds 15 127.0.0.2:47311 127.0.0.2:41000

Every address here is a 127.x one: the records name 127.x hosts, the connections leave from 127.x
sources. Every loop is bounded in count and in time. Both print one JSON line of what they did.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import socket
import time

from zeroconf import IPVersion, ServiceInfo, Zeroconf, const

# zeroconf keeps DNSOutgoing at its top level only for old callers; its own module is where it lives.
from zeroconf._protocol.outgoing import DNSOutgoing

SERVICE = "_hearth._tcp.local."
TTL = 120
# One byte of a TLS ClientHello at a time: the record's type (handshake) first, then its version.
DRIP = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"


def _record(name: str, dev_id: str, host: str, port: int, shown: str) -> ServiceInfo:
    txt = {"v": "2", "id": dev_id, "name": shown, "os": "Linux", "mem": str(2**34), "acc": "none"}
    return ServiceInfo(
        SERVICE,
        f"{name}.{SERVICE}",
        port=port,
        properties=txt,
        server=f"{name}.local.",
        addresses=[socket.inet_aton(host)],
    )


def mdns(count: int, seconds: float, live: list[str], claims: list[str]) -> dict[str, int]:
    """Announce ``count`` made-up devices (every other one at a ``live`` address, the rest at 127.3.x.y
    where nothing listens) and each ``claim`` (ID@host:port), again and again for ``seconds``."""
    infos = []
    for i in range(count):
        if live and i % 2 == 0:
            host, _, port = live[(i // 2) % len(live)].rpartition(":")
        else:
            host, port = f"127.3.{i // 250}.{i % 250 + 1}", "9"
        infos.append(_record(f"fake-{i}", f"FAKE-{i:05d}", host, int(port), f"fake {i}"))
    for j, claim in enumerate(claims):
        dev_id, _, address = claim.partition("@")
        host, _, port = address.rpartition(":")
        infos.append(_record(f"claim-{j}", dev_id, host, int(port), "claim"))
    zc = Zeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
    sent = rounds = 0
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline and rounds < 1000:
            out = DNSOutgoing(const._FLAGS_QR_RESPONSE | const._FLAGS_AA)
            now = 0.0
            for info in infos:
                for record in (
                    info.dns_pointer(),
                    info.dns_service(),
                    info.dns_text(),
                    *info.dns_addresses(),
                ):
                    out.add_answer_at_time(record, now)
            zc.send(out)
            sent += len(out.packets())
            rounds += 1
            time.sleep(1.0 if rounds < 3 else 4.0)
    finally:
        zc.close()
    return {"records": len(infos), "rounds": rounds, "packets": sent}


def drip(count: int, seconds: float, targets: list[str], sources: int) -> dict[str, int]:
    """Keep ``count`` connections open to ``targets`` (spread over them and over ``sources`` source
    addresses 127.0.5.x) for ``seconds``, each sending a byte of a handshake every second; reopen the
    ones the other side closes. Everything is closed at the end."""
    addresses = []
    for t in targets:
        host, _, port = t.rpartition(":")
        addresses.append((host, int(port)))
    socks: list[socket.socket | None] = [None] * count
    dripped = [0] * count  # bytes each connection has sent
    stats = {"opened": 0, "closed_by_peer": 0, "refused": 0, "most_open": 0}

    def open_one(i: int) -> socket.socket | None:
        # Without waiting for the connection: a listener whose backlog is full would hold each
        # connect for as long as its timeout, and the flood for far longer than it should last.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            sock.bind((f"127.0.5.{i % sources + 1}", 0))
            code = sock.connect_ex(addresses[i % len(addresses)])
        except OSError:
            code = -1
        if code not in (0, errno.EINPROGRESS):
            sock.close()
            stats["refused"] += 1
            return None
        stats["opened"] += 1
        dripped[i] = 0
        return sock

    deadline = time.monotonic() + seconds
    try:
        for tick in range(int(seconds * 4) + 1):
            if time.monotonic() >= deadline:
                break
            for i in range(count):
                if time.monotonic() >= deadline:
                    break
                sock = socks[i]
                if sock is None:
                    # Reopened once a second, so that the flood goes on without spinning.
                    if tick % 4 == 0:
                        socks[i] = open_one(i)
                    continue
                if tick % 4 == i % 4:
                    try:
                        n = dripped[i]
                        sock.send(DRIP[n : n + 1] if n < len(DRIP) else b"\0")
                        dripped[i] += 1
                        gone = sock.recv(1, socket.MSG_PEEK) == b""
                    except BlockingIOError:
                        gone = False
                    except OSError as exc:
                        # Not connected yet is not gone; refused, reset or timed out is.
                        gone = exc.errno != errno.ENOTCONN
                    if gone:
                        stats["closed_by_peer"] += 1
                        sock.close()
                        socks[i] = None
            stats["most_open"] = max(stats["most_open"], sum(s is not None for s in socks))
            time.sleep(max(0.0, min(0.25, deadline - time.monotonic())))
    finally:
        for sock in socks:
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()
    return stats


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="kind", required=True)
    m = sub.add_parser("mdns")
    m.add_argument("--count", type=int, default=1500)
    m.add_argument("--seconds", type=float, default=20.0)
    m.add_argument("--live", action="append", default=[])
    m.add_argument("--claim", action="append", default=[])
    d = sub.add_parser("drip")
    d.add_argument("--count", type=int, default=1100)
    d.add_argument("--seconds", type=float, default=15.0)
    d.add_argument("--sources", type=int, default=20)
    d.add_argument("targets", nargs="+")
    args = parser.parse_args()
    claimed = [c.partition("@")[2] for c in args.__dict__.get("claim", [])]
    for address in [*args.__dict__.get("live", []), *args.__dict__.get("targets", []), *claimed]:
        if not address.startswith("127."):
            raise SystemExit(f"{address}: floods go to 127.x addresses only")
    if args.kind == "mdns":
        result = mdns(args.count, args.seconds, args.live, args.claim)
    else:
        result = drip(args.count, args.seconds, args.targets, args.sources)
    print(json.dumps(result), flush=True)
    os._exit(0)  # zeroconf's threads need not be waited for


if __name__ == "__main__":
    main()
