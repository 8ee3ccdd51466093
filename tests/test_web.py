"""HTTP server security: TLS and basic auth from an exporter-toolkit web config, and bad configs."""

from __future__ import annotations

import base64
import http.client
import socket
import ssl
import subprocess
from pathlib import Path

import bcrypt
import pytest
from conftest import require_binary
from helpers import Serve, clean_env, run_cli, wait_for

from exporter.local.postgres import free_port

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def certs(tmp_path):
    openssl = require_binary("openssl")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def web_config(tmp_path, text: str) -> str:
    path = tmp_path / "web.yml"
    path.write_text(text)
    return str(path)


def get(port: int, path: str, auth: tuple[str, str] | None = None, ctx: ssl.SSLContext | None = None):
    conn = (
        http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
        if ctx
        else http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    )
    headers = {}
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, body


def test_tls_and_basic_auth(litellm_db, exporter_login, tmp_path, certs):
    cert, key = certs
    hashed = bcrypt.hashpw(b"scrape-Pa55", bcrypt.gensalt(rounds=4)).decode()
    path = web_config(
        tmp_path,
        f"tls_server_config:\n  cert_file: {cert}\n  key_file: {key}\nbasic_auth_users:\n  prometheus: '{hashed}'\n",
    )
    with Serve(exporter_login.url, "--web.config.file", path, ready_path=None) as srv:
        ctx = ssl.create_default_context(cafile=str(cert))
        wait_for(lambda: get(srv.port, "/healthz", ctx=ctx)[0] == 200, what="healthz over TLS")  # no password
        assert get(srv.port, "/metrics", ctx=ctx)[0] == 401
        assert get(srv.port, "/metrics", ("prometheus", "wrong"), ctx)[0] == 401
        assert get(srv.port, "/metrics", ("nobody", "scrape-Pa55"), ctx)[0] == 401
        assert get(srv.port, "/", ctx=ctx)[0] == 401
        status, body = get(srv.port, "/metrics", ("prometheus", "scrape-Pa55"), ctx)
        assert status == 200 and b"litellm_db_up 1.0" in body
        for _ in range(3):  # cached after the first bcrypt check
            assert get(srv.port, "/metrics", ("prometheus", "scrape-Pa55"), ctx)[0] == 200
        with pytest.raises(ssl.SSLCertVerificationError):  # the server really presents our certificate
            get(srv.port, "/healthz", ctx=ssl.create_default_context())
        with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError, http.client.BadStatusLine)):
            get(srv.port, "/healthz")  # plain HTTP to the TLS port
        with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:  # garbage, then the server lives on
            s.sendall(b"\x16\x03\x01garbage" * 10)
        assert get(srv.port, "/healthz", ctx=ctx)[0] == 200


LONGEST = "x" * 72  # bcrypt's limit, in bytes


def test_basic_auth_without_tls(litellm_db, exporter_login, tmp_path):
    hashed = bcrypt.hashpw(b"pw", bcrypt.gensalt(rounds=4)).decode()
    longest = bcrypt.hashpw(LONGEST.encode(), bcrypt.gensalt(rounds=4)).decode()
    path = web_config(tmp_path, f"basic_auth_users:\n  p: '{hashed}'\n  q: '{longest}'\n")
    with Serve(exporter_login.url, "--web.config.file", path) as srv:
        assert get(srv.port, "/metrics")[0] == 401
        assert get(srv.port, "/metrics", ("p", "pw"))[0] == 200
        assert get(srv.port, "/metrics", ("q", LONGEST))[0] == 200
        # longer than bcrypt's 72 bytes: a 401, not a dropped connection, even when the first 72 bytes match
        for user, password in (("p", "y" * 73), ("p", "é" * 40), ("q", LONGEST + "x"), ("nobody", "z" * 1000)):
            assert get(srv.port, "/metrics", (user, password))[0] == 401, (user, len(password.encode()))
        assert get(srv.port, "/metrics", ("p", "pw"))[0] == 200
        for header in ("Basic !!!notbase64", "Bearer x", "Basic " + base64.b64encode(b"no-colon").decode()):
            conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
            conn.request("GET", "/metrics", headers={"Authorization": header})
            assert conn.getresponse().status == 401
            conn.close()


def test_the_runbooks_are_served_and_nothing_else(litellm_db, exporter_login, tmp_path):
    """/runbooks/ lists the shipped runbooks; /runbooks/<Alert>.md is the file; any other name (a path that
    climbs, an encoded one, a file that is not a runbook) is a 404; behind basic auth like /metrics."""
    from exporter.web import runbooks

    shipped = sorted(p.name for p in (ROOT / "docs" / "runbooks").glob("*.md"))
    assert runbooks.names() == tuple(shipped) and len(shipped) >= 10
    hashed = bcrypt.hashpw(b"pw", bcrypt.gensalt(rounds=4)).decode()
    with Serve(
        exporter_login.url, "--web.config.file", web_config(tmp_path, f"basic_auth_users:\n  p: '{hashed}'\n")
    ) as srv:
        assert get(srv.port, "/runbooks/LiteLLMDbExporterDown.md")[0] == 401
        status, index = get(srv.port, "/runbooks/", ("p", "pw"))
        assert status == 200 and all(f"href='{name}'" in index.decode() for name in shipped)
        status, body = get(srv.port, "/runbooks/LiteLLMDbExporterDown.md", ("p", "pw"))
        assert status == 200 and body == (ROOT / "docs" / "runbooks" / "LiteLLMDbExporterDown.md").read_bytes()
        for path in (
            "/runbooks/../README.md",
            "/runbooks/..%2fREADME.md",
            "/runbooks/README.md",
            "/runbooks/LiteLLMDbExporterDown",
            "/runbooks//etc/passwd",
            "/runbooks/x.md",
        ):
            assert get(srv.port, path, ("p", "pw"))[0] == 404, path
        assert b"runbooks/" in get(srv.port, "/", ("p", "pw"))[1]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("basic_auth_users:\n  p: plaintext\n", "must be a bcrypt hash"),
        ("tls_server_config:\n  cert_file: /nonexistent.pem\n  key_file: /nonexistent.key\n", "does not exist"),
        ("tls_server_config:\n  cert_file: a\n", "key_file"),
        ("tls_server_config: {}\nbogus: 1\n", "bogus"),
        ("basic_auth_users: [1, 2]\n", "basic_auth_users"),
        ("basic_auth_users:\n  p: $2y$10$short\n", "basic_auth_users.p is not a valid bcrypt hash"),
    ],
)
def test_bad_web_configs_exit_2(tmp_path, text, expected):
    path = web_config(tmp_path, text)
    proc = run_cli(
        "serve",
        "--web.config.file",
        path,
        "--web.listen-address",
        f"127.0.0.1:{free_port()}",
        env=clean_env(DATABASE_URL="postgresql://u@127.0.0.1:1/x"),
    )
    assert proc.returncode == 2, proc.stderr
    assert expected in proc.stderr and "Traceback" not in proc.stderr
    assert "plaintext" not in proc.stderr or expected == "must be a bcrypt hash"
