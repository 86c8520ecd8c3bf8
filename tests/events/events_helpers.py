"""Shared by the events tests (imported by name: a test module cannot import `conftest` safely)."""

import http.server
import json
import threading

from django.test import Client

INTEGRATOR = ["webhooks.view", "webhooks.change", "customers.view", "billing.view", "rating.view"]


class Receiver:
    """An HTTP server in a thread that keeps every POST (headers, body) and answers with the next
    status of `answers` (the last one repeats)."""

    def __init__(self):
        self.received: list[dict] = []
        self.answers = [200]
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                owner.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status = owner.answers.pop(0) if len(owner.answers) > 1 else owner.answers[0]
                reply = json.dumps({"got": len(owner.received), "pad": "x" * 5000}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/telora"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class ApiClient:
    def __init__(self, token=None):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path, **params):
        return self.client.get(path, params, headers=self.headers)

    def post(self, path, data=None):
        return self.client.post(path, data, content_type="application/json", headers=self.headers)

    def delete(self, path):
        return self.client.delete(path, headers=self.headers)
