"""`--web.config.file`: TLS and basic auth for the HTTP server, in the Prometheus exporter-toolkit format."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import ssl
import threading
from pathlib import Path
from typing import Literal

import bcrypt
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from exporter import config
from exporter.errors import ConfigError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TLSServerConfig(_Strict):
    cert_file: str
    key_file: str
    client_auth_type: Literal["NoClientCert", "RequireAndVerifyClientCert", "VerifyClientCertIfGiven"] = "NoClientCert"
    client_ca_file: str | None = None
    min_version: Literal["TLS12", "TLS13"] = "TLS12"


class WebConfig(_Strict):
    tls_server_config: TLSServerConfig | None = None
    basic_auth_users: dict[str, str] = Field(default_factory=dict)


def load(path: str) -> WebConfig:
    data = config.read_yaml(path)
    try:
        web = WebConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: "
            f"{'unknown key' if err['type'] == 'extra_forbidden' else err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"web config file {path}: {problems}") from None
    for user, hashed in web.basic_auth_users.items():
        if not hashed.startswith(("$2a$", "$2b$", "$2y$")):
            raise ConfigError(
                f"web config file {path}: basic_auth_users.{user} must be a bcrypt hash "
                "(e.g. from `htpasswd -nBC 10 USER`), never a plain password"
            )
        try:
            bcrypt.checkpw(b"", hashed.encode("utf-8"))  # a malformed hash would fail every login later
        except ValueError:
            raise ConfigError(
                f"web config file {path}: basic_auth_users.{user} is not a valid bcrypt hash "
                "(e.g. from `htpasswd -nBC 10 USER`)"
            ) from None
    if web.tls_server_config:
        ssl_context(web.tls_server_config, path)  # fail now, not at the first connection
    return web


def ssl_context(tls: TLSServerConfig, source: str = "web config") -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3 if tls.min_version == "TLS13" else ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(tls.cert_file, tls.key_file)
        if tls.client_auth_type != "NoClientCert":
            if not tls.client_ca_file:
                raise ConfigError(f"{source}: client_auth_type {tls.client_auth_type} needs client_ca_file")
            ctx.load_verify_locations(tls.client_ca_file)
            ctx.verify_mode = (
                ssl.CERT_REQUIRED if tls.client_auth_type == "RequireAndVerifyClientCert" else ssl.CERT_OPTIONAL
            )
    except (OSError, ssl.SSLError) as exc:
        missing = [f for f in (tls.cert_file, tls.key_file) if not Path(f).exists()]
        reason = f"{missing[0]} does not exist" if missing else str(exc)
        raise ConfigError(f"{source}: cannot load the TLS certificate/key: {reason}") from None
    return ctx


BCRYPT_MAX_PASSWORD_BYTES = 72  # bcrypt reads no more; the bcrypt package refuses longer passwords


class BasicAuth:
    """Checks `Authorization: Basic` headers against bcrypt hashes; remembers successes (bcrypt is slow).

    A password longer than bcrypt's 72 bytes is refused (401) rather than cut: only its first 72 bytes could
    be compared, so any suffix would pass.
    """

    def __init__(self, users: dict[str, str]):
        self.users = {u: h.encode() for u, h in users.items()}
        self._ok: set[bytes] = set()
        self._lock = threading.Lock()

    def check(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:], validate=True).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        hashed = self.users.get(user)
        secret = password.encode("utf-8")
        if hashed is None or len(secret) > BCRYPT_MAX_PASSWORD_BYTES:
            bcrypt.checkpw(b"timing", _dummy_hash())  # same cost for unknown users and refused passwords
            return False
        token = hmac.new(hashed, secret, hashlib.sha256).digest()
        with self._lock:
            if token in self._ok:
                return True
        try:
            if not bcrypt.checkpw(secret, hashed):
                return False
        except ValueError:  # never a dropped connection: a refused login is a 401
            return False
        with self._lock:
            if len(self._ok) > 1000:
                self._ok.clear()
            self._ok.add(token)
        return True


@functools.cache
def _dummy_hash() -> bytes:
    return bcrypt.hashpw(b"dummy", bcrypt.gensalt(rounds=10))
