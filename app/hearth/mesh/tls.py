"""TLS 1.3 contexts: pinned mutual TLS for paired devices, and the certificate-less pairing path.

One listening port serves both. The server asks for a client certificate but does not insist: a
client without one may only pair; a client with a certificate must present one of the pinned
certificates (trust anchors, matched as a partial chain) or the handshake fails. The anchors change on
pair and forget; new handshakes pick up the current context through the SNI callback, which OpenSSL
calls for every ClientHello.
"""

from __future__ import annotations

import ssl
import tempfile
from collections.abc import Iterable
from pathlib import Path

from hearth.core.device_id import device_id
from hearth.mesh.identity import Identity


def _base(purpose: ssl.Purpose, identity: Identity | None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(
        ssl.PROTOCOL_TLS_SERVER if purpose is ssl.Purpose.CLIENT_AUTH else ssl.PROTOCOL_TLS_CLIENT
    )
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    if identity is not None:
        with tempfile.TemporaryDirectory(prefix="hearth-tls-") as tmp:
            cert, key, password = identity.write_chain(Path(tmp))
            ctx.load_cert_chain(cert, key, password)
    return ctx


def _pin(ctx: ssl.SSLContext, certs_pem: Iterable[str]) -> None:
    # A self-signed leaf is its own anchor; PARTIAL_CHAIN lets OpenSSL stop at it.
    ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    cadata = "".join(certs_pem)
    if cadata:
        ctx.load_verify_locations(cadata=cadata)


def server_context(identity: Identity, trusted_pem: Iterable[str]) -> ssl.SSLContext:
    ctx = _base(ssl.Purpose.CLIENT_AUTH, identity)
    ctx.verify_mode = ssl.CERT_OPTIONAL
    # An empty anchor set would make OpenSSL accept nothing anyway; our own certificate keeps the store valid.
    _pin(ctx, [identity.cert_pem.decode(), *trusted_pem])
    return ctx


class SwappableServerContext:
    """The listening context; ``update`` replaces the anchors for every handshake that starts later."""

    def __init__(self, identity: Identity, trusted_pem: Iterable[str]) -> None:
        self.identity = identity
        self.current = server_context(identity, trusted_pem)
        self.listening = server_context(identity, trusted_pem)
        self.listening.sni_callback = self._pick

    def _pick(self, sslobj: ssl.SSLObject, server_name: str | None, ctx: ssl.SSLContext) -> None:
        sslobj.context = self.current

    def update(self, trusted_pem: Iterable[str]) -> None:
        self.current = server_context(self.identity, trusted_pem)


def pinned_client_context(identity: Identity, peer_cert_pem: str) -> ssl.SSLContext:
    """For a control connection to one paired device: our certificate, and only its certificate trusted."""
    ctx = _base(ssl.Purpose.SERVER_AUTH, identity)
    ctx.check_hostname = False  # identity is the pinned certificate, not a name
    ctx.verify_mode = ssl.CERT_REQUIRED
    _pin(ctx, [peer_cert_pem])
    return ctx


def pairing_client_context() -> ssl.SSLContext:
    """For pairing: encryption from the first byte, but any server certificate; SPAKE2 checks it."""
    ctx = _base(ssl.Purpose.SERVER_AUTH, None)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def peer_certificate(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> bytes | None:
    if ssl_object is None:
        return None
    return ssl_object.getpeercert(binary_form=True)


def peer_device_id(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> str | None:
    der = peer_certificate(ssl_object)
    return device_id(der) if der else None
