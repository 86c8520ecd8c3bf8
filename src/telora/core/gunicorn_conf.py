"""gunicorn settings of `telora serve` (`-c python:telora.core.gunicorn_conf`).

gunicorn has no option for its `Server: gunicorn` header; it is dropped here, in the master before
workers fork, so a response does not name the server software it runs on.
"""

from gunicorn.http import wsgi

_default_headers = wsgi.Response.default_headers


def _without_server(self):
    return [line for line in _default_headers(self) if not line.lower().startswith("server:")]


wsgi.Response.default_headers = _without_server
