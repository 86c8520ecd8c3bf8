"""`telora serve` as deployed (gunicorn): answers carry the security headers and name no server software."""

import http.client
import os
import signal
import socket
import subprocess
import sys
import time

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, path: str, deadline: float):
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", path)
            return connection.getresponse()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.django_db
def test_gunicorn_sends_no_server_header_and_the_policy():
    from django.db import connection

    s = connection.settings_dict
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"postgresql://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"}
    server = subprocess.Popen([sys.executable, "-m", "telora.cli", "serve", "--port", str(port), "--workers", "1"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        response = get(port, "/login/", time.monotonic() + 60)
        assert response.status == 200
        headers = {name.lower(): value for name, value in response.getheaders()}
        assert "server" not in headers, headers.get("server")
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "camera=()" in headers["permissions-policy"]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
