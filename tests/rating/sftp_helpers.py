"""A real SFTP server process for the pull tests (tests/rating/sftp_server.py), with its host key,
its folder, a password, an authorised client key, and a faults file it reads at each download."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import asyncssh

SERVER = Path(__file__).with_name("sftp_server.py")
USER = "mediation"
PASSWORD = "pw-Jx81-vq3"


def new_key(path: Path) -> Path:
    path.write_bytes(asyncssh.generate_private_key("ssh-ed25519").export_private_key())
    os.chmod(path, 0o600)
    return path


class SftpServer:
    def __init__(self, base: Path):
        self.base = base
        self.root = base / "remote"
        self.root.mkdir(parents=True, exist_ok=True)
        self.host_key = new_key(base / "host_key")
        client = asyncssh.generate_private_key("ssh-ed25519")
        self.client_key = client.export_private_key().decode()
        (base / "client.pub").write_bytes(client.export_public_key())
        self.faults_file = base / "faults.json"
        self.port = 0
        self.process = None

    @property
    def fingerprint(self) -> str:
        return asyncssh.read_private_key(self.host_key).get_fingerprint("sha256")

    def start(self) -> SftpServer:
        self.process = subprocess.Popen(
            [sys.executable, str(SERVER), "--root", str(self.root), "--host-key", str(self.host_key), "--user", USER,
             "--password", PASSWORD, "--client-key", str(self.base / "client.pub"), "--faults", str(self.faults_file),
             "--port", str(self.port)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if not line.startswith("listening "):
            self.process.kill()
            raise RuntimeError(f"the SFTP server did not start: {line}{self.process.stderr.read()}")
        self.port = int(line.split()[1])
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process.stdout.close()
            self.process.stderr.close()
            self.process = None

    def restart_with_new_host_key(self) -> None:
        self.stop()
        new_key(self.host_key)
        for _ in range(50):  # the port is freed by the old process's exit
            try:
                self.start()
                return
            except RuntimeError:
                time.sleep(0.1)
        raise RuntimeError("the SFTP server did not start again")

    def faults(self, **values) -> None:
        self.faults_file.write_text(json.dumps(values))

    def put(self, relative: str, content: bytes) -> Path:
        path = self.root / relative.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return path

    def files(self, relative: str) -> list[str]:
        folder = self.root / relative.lstrip("/")
        return sorted(p.name for p in folder.iterdir()) if folder.exists() else []
