"""A real SFTP server for the tests (asyncssh), run as its own process:

    python sftp_server.py --root DIR --host-key FILE --user U --password P [--client-key FILE.pub] [--faults FILE]

It serves DIR as `/` (chroot), prints `listening <port>` once it accepts connections on
127.0.0.1, and reads `--faults` (JSON) at each file opened: {"drop_after": N} drops the whole
connection once N bytes of a file have been sent (a link cut mid-transfer).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

import asyncssh


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    parser.add_argument("--host-key", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", default="")
    parser.add_argument("--client-key", default="")
    parser.add_argument("--faults", default="")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    def faults() -> dict:
        try:
            with open(args.faults) as fh:
                return json.load(fh)
        except (OSError, ValueError):
            return {}

    class Server(asyncssh.SSHServer):
        def begin_auth(self, username):
            return True

        def password_auth_supported(self):
            return bool(args.password)

        def validate_password(self, username, password):
            return username == args.user and password == args.password

    class Files(asyncssh.SFTPServer):
        def __init__(self, chan):
            super().__init__(chan, chroot=args.root.encode())
            self.sent = {}

        def open(self, path, pflags, attrs):
            handle = super().open(path, pflags, attrs)
            self.sent[id(handle)] = 0
            return handle

        def read(self, file_obj, offset, size):
            data = super().read(file_obj, offset, size)
            limit = faults().get("drop_after")
            sent = self.sent.get(id(file_obj), 0) + len(data)
            self.sent[id(file_obj)] = sent
            if limit is not None and sent > limit:
                self.channel.get_connection().abort()  # the link is cut: nothing more arrives
                return b""
            return data

    async def serve():
        authorized = asyncssh.import_authorized_keys(open(args.client_key).read()) if args.client_key else None
        server = await asyncssh.listen("127.0.0.1", args.port, server_host_keys=[args.host_key],
                                       server_factory=Server, sftp_factory=Files, authorized_client_keys=authorized,
                                       allow_scp=False)
        port = server.sockets[0].getsockname()[1]
        print(f"listening {port}", flush=True)
        await server.wait_closed()

    os.makedirs(args.root, exist_ok=True)
    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
