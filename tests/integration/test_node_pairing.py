from __future__ import annotations

import asyncio
import signal
import time

import pytest

from harness.nodes import pair, wait_until
from hearth.core import control
from hearth.core.pairing import FREE_FAILURES
from hearth.mesh.channel import ChannelError, dial
from hearth.mesh.identity import Identity, make_certificate


def test_right_code_pairs_and_telemetry_flows_at_1_hz(node_pair) -> None:
    a, b = node_pair
    result = pair(a, b)
    assert result.returncode == 0, result.stderr
    assert "paired with beta" in result.stdout
    assert [d["device_id"] for d in a.trust()] == [b.device_id]
    assert [d["device_id"] for d in b.trust()] == [a.device_id]
    assert wait_until(lambda: (a.device(b.device_id) or {}).get("connected"), 10)
    assert wait_until(lambda: (b.device(a.device_id) or {}).get("connected"), 10)

    # Each look is a `hearth devices` run, which takes seconds to start on a busy machine: the rate
    # is judged over the whole span the two looks may have seen, not the sleep between them.
    began = time.monotonic()
    first = a.device(b.device_id)
    start_count = first["telemetry_count"]
    time.sleep(4.0)
    later = a.device(b.device_id)
    span = time.monotonic() - began
    received = later["telemetry_count"] - start_count
    assert 2 <= received <= span + 3, (received, span)  # about one a second
    assert later["memory_total"] > 0 and later["memory_free"] > 0
    assert later["telemetry_age_s"] < 3
    assert wait_until(lambda: (a.device(b.device_id) or {}).get("latency_ms"), 10)


def test_wrong_code_fails_burns_the_code_and_stores_nothing(node_pair) -> None:
    a, b = node_pair
    mark = len(b.lines)
    wrong = a.cli("pair", b.address, "--code", "000000")
    # --code skips the prompt; the request still made b show a code, which the wrong attempt burned.
    shown = b.code(after=mark)
    if shown == "000000":
        pytest.skip("the random code happened to be 000000")
    assert wrong.returncode == 1
    assert "wrong code" in wrong.stderr
    assert a.trust() == [] and b.trust() == []
    again = a.cli("pair", b.address, "--code", shown)
    assert again.returncode == 1, "a burned code must not pair"
    assert a.trust() == [] and b.trust() == []


def test_repeated_failures_trigger_back_off(node_pair) -> None:
    a, b = node_pair
    failures = [a.cli("pair", b.address, "--code", "000000") for _ in range(FREE_FAILURES)]
    assert all(f.returncode == 1 and "wrong code" in f.stderr for f in failures)
    # At once after the free ones: the wait (BACKOFF_BASE_S) outlasts one more command however busy
    # the machine is.
    refused = a.cli("pair", b.address, "--code", "000000")
    assert refused.returncode == 1
    assert "too many wrong codes" in refused.stderr
    assert b.trust() == []


def test_unpaired_and_forgotten_devices_cannot_open_the_control_channel(node_pair) -> None:
    a, b = node_pair
    cert, key = make_certificate()
    stranger = Identity("stranger", cert, key, "file")
    b_cert = (b.home / "config" / "device-cert.pem").read_text()
    hello = control.Hello(control.PROTOCOL_VERSION, "0", "x", stranger.device_id, "stranger")

    async def attempt() -> str:
        try:
            await dial(b.address, stranger, b_cert, b.device_id, hello)
        except ChannelError as exc:
            return str(exc)
        return "opened"

    assert asyncio.run(attempt()) != "opened"
    assert all(d["device_id"] != stranger.device_id for d in b.devices())

    assert pair(a, b).returncode == 0
    assert wait_until(lambda: (b.device(a.device_id) or {}).get("connected"), 10)
    forgot = b.cli("forget", a.device_id[:9])
    assert forgot.returncode == 0, forgot.stderr
    # Revoked at once: the open channel drops and a's redials are refused at the TLS handshake.
    assert wait_until(lambda: not (a.device(b.device_id) or {}).get("connected"), 5)
    assert b.device(a.device_id) is None
    assert wait_until(lambda: (a.device(b.device_id) or {}).get("error"), 15)
    assert not (a.device(b.device_id) or {}).get("connected")


def test_a_restarted_node_keeps_identity_and_trust(node_pair) -> None:
    a, b = node_pair
    assert pair(a, b).returncode == 0
    old_id = b.device_id
    assert b.stop(signal.SIGTERM) == 0
    assert "stopped" in b.lines[-1]
    b.start()
    assert b.device_id == old_id
    assert [d["device_id"] for d in b.trust()] == [a.device_id]
    assert wait_until(lambda: (a.device(b.device_id) or {}).get("connected"), 20)
    assert wait_until(lambda: (b.device(a.device_id) or {}).get("connected"), 20)
    key_file = b.home / "config" / "device-key.pem"
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_add_by_address_lists_a_device_that_mdns_cannot_reach(node_pair) -> None:
    a, b = node_pair
    added = a.cli("add", b.address)
    assert added.returncode == 0, added.stderr
    assert b.device_id in added.stdout
    entry = a.device(b.device_id)
    assert entry is not None and entry["name"] == "beta" and entry["paired"] is False
    assert entry["address"] == b.address and entry["memory_total"] > 0
    bad = a.cli("add", "127.0.0.2:1")
    assert bad.returncode == 1 and "cannot reach" in bad.stderr
    # The name now resolves for pairing too.
    mark = len(b.lines)
    import subprocess

    from harness.nodes import HEARTH, env_for

    proc = subprocess.Popen(
        [*HEARTH, "pair", "beta"],
        env=env_for(a.home),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    out, _ = proc.communicate(b.code(after=mark) + "\n", timeout=60)
    assert proc.returncode == 0 and "paired with beta" in out


def test_a_protocol_version_mismatch_is_refused_naming_both_versions(node_pair) -> None:
    a, _ = node_pair
    cert, key = make_certificate()
    newer = Identity("newer", cert, key, "file")
    a_cert = (a.home / "config" / "device-cert.pem").read_text()

    async def scenario() -> str:
        from hearth.mesh.pairing_client import request_pairing

        mark = len(a.lines)
        attempt = await request_pairing(a.address, newer)
        await attempt.finish(await asyncio.to_thread(a.code, mark))
        hello = control.Hello(control.PROTOCOL_VERSION + 1, "9.9.9", "x", newer.device_id, "newer")
        with pytest.raises(ChannelError) as info:
            await dial(a.address, newer, a_cert, a.device_id, hello)
        return str(info.value)

    message = asyncio.run(scenario())
    # Refused on this side (speaking the newer version) as on the node's: both name both versions.
    assert f"speaks {control.PROTOCOL_VERSION + 1}" in message
    assert f"other {control.PROTOCOL_VERSION}" in message and "9.9.9" in message
    assert a.wait_for(rf"other {control.PROTOCOL_VERSION + 1} \(Hearth 9.9.9\)", timeout=5)
    assert not (a.device(newer.device_id) or {}).get("connected")
