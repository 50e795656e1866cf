"""What the local peers share: a threaded HTTP server on 127.0.0.1 running in
a daemon thread, a script of behaviours taken one per request (.default, "ok" unless set, when
it runs out), a record of the requests (and .times, when each came, by the
monotonic clock), and a handler base that answers.

    class TokenServer(LocalServer):
        def _handler(self):
            server = self

            class Handler(LocalHandler):
                def do_POST(self):
                    outcome = server._next()
                    server._record(self.path, outcome)
                    if outcome == "500":
                        return self.send(500, {"error": "internal"})
                    return self.send(200, {"token": "t"})

            return Handler

    srv = TokenServer(script=["500"]).start()   # .url, .host, .port
    ... srv.requests, srv.count ...
    srv.close()
"""
import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients that hang up (on "slow" or "huge" replies) are expected


class LocalServer:
    """The server behind one peer; subclasses give the handler class (_handler)."""

    def __init__(self, script=(), port=0, tls=None):
        self.script = list(script)
        self.default = "ok"             # the behaviour once the script is used up
        self.requests = []              # what _record was given, one tuple a request
        self.times = []                 # time.monotonic() of each _record
        self.lock = threading.Lock()
        self.httpd = QuietServer(("127.0.0.1", port), self._handler())
        self.port = self.httpd.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.host}"
        if tls:  # (certificate file, key file): serve HTTPS instead
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
            self.url = f"https://{self.host}"

    def _handler(self):
        raise NotImplementedError

    def start(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def count(self):
        with self.lock:
            return len(self.requests)

    def _next(self):
        """The next behaviour of the script, .default once it is used up."""
        with self.lock:
            return self.script.pop(0) if self.script else self.default

    def _record(self, *entry):
        with self.lock:
            self.requests.append(entry)
            self.times.append(time.monotonic())


class LocalHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    content_type = "application/json; charset=utf-8"

    def log_message(self, *args):
        pass

    def send(self, status, payload, ctype=None, headers=(), truncate=False):
        """Answer `payload` (bytes, or anything json.dumps takes). With
        `truncate`, half the promised body, then the connection closes."""
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype or self.content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if truncate:
            self.wfile.write(data[: len(data) // 2])
            self.close_connection = True
            return
        self.wfile.write(data)

    def body(self):
        """The request body, by Content-Length or chunked."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))
