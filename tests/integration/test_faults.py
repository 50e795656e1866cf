#!/usr/bin/env python3
"""Upstream fault injection for every provider and credential source: ECR, ECR
Public, STS (AssumeRole), Google's token endpoint, the GCE metadata server,
Azure AD and the ACR exchange. One fault server (below) stands in for the
source under test, over TLS (plain HTTP for the metadata server, which has
no TLS), and answers exact bytes; the other peers of the chain are the
suite's own (AwsJsonServer, AadServer, AcrServer).

Faults, per source:
  truncated    the whole reply (status line, headers, body) cut at every byte
               offset once, then whole: dcgen retries and succeeds; and cut
               at a few offsets every time: dcgen fails cleanly
  reset        a TCP reset in the middle of the body, under TLS
  trickle      the reply a few bytes at a time over ~2 s, under a 10 s deadline:
               dcgen waits and succeeds
  huge         a 10 MB body: refused at the reply cap, quickly
  ctype        a good body labelled text/html: any clean outcome
  dupkeys      JSON (or XML) naming the token twice: refused
  deep         JSON (or XML) nested 100000 deep: refused, no stack overflow

A clean outcome: exit 0 with a complete dockercfg naming the expected hosts,
or exit 1 (or 2: no usable source) with one "dcgen: error: ..." line and
nothing written; within the
time bound; no token, key or secret of the replies on stderr. Loops are
bounded (one short reply per source for the truncation sweep); everything
listens on 127.0.0.1.
"""
import base64
import concurrent.futures
import json
import os
import socket
import ssl
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers"))

import jwt_rs256  # noqa: E402
import peers  # noqa: E402
from aws_json_server import AwsJsonServer  # noqa: E402
from azure_server import AadServer, AcrServer, ACR_AUDIENCE  # noqa: E402

ACCOUNT = "123456789012"
ECR_HOST = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
TOKEN = "fault-token-" + "7" * 24           # the registry token every good reply carries
OTHER = "fault-other-" + "8" * 24           # the second value of a duplicated key
AWS_KEY = ("AKIDFAULT0000001", "fault/secret+key=0123")
STS_KEY = ("ASIAFAULTISSUED01", "sts/fault+secret=0123", "FwoGZXIvYXdzFAULTTOKEN0123456789")
TENANT = "fault-tenant"
CLIENT = "fault-client"
CLIENT_SECRET = "fault-client-secret-0123456789"
WORKERS = 4


class FaultServer:
    """Answers every request on 127.0.0.1 with `reply(path)` (exact bytes),
    shaped by the current mode: "ok", ("cut", k) once, ("cutall", k),
    "reset", "trickle". TLS when given (cert, key)."""

    def __init__(self, reply, tls=None):
        self.reply = reply
        self.mode = "ok"
        self.lock = threading.Lock()
        self.count = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.ctx = None
        if tls:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(*tls)
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.host = f"127.0.0.1:{self.port}"
        self.closed = False
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def close(self):
        self.closed = True
        self.sock.close()

    def serve(self, raw):
        raw.settimeout(30)
        conn = raw
        try:
            if self.ctx:
                conn = self.ctx.wrap_socket(raw, server_side=True)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            while len(body) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                body += chunk
            path = head.split(b" ")[1].decode()
            with self.lock:
                self.count += 1
                mode = self.mode
                if isinstance(mode, tuple) and mode[0] == "cut":
                    self.mode = "ok"    # once: the retry gets the whole reply
            out = self.reply(path)
            if isinstance(mode, tuple):
                conn.sendall(out[:mode[1]])
            elif mode == "reset":
                split = out.index(b"\r\n\r\n") + 4
                conn.sendall(out[: split + (len(out) - split) // 2])
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                raw.close()
                return
            elif mode == "trickle":
                step = max(1, len(out) // 20)
                for i in range(0, len(out), step):
                    conn.sendall(out[i:i + step])
                    time.sleep(0.1)
            else:
                conn.sendall(out)
        except (OSError, ssl.SSLError, ValueError, IndexError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass


def http_reply(body, ctype="application/json", status=200, extra=b""):
    return (f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n").encode() + extra + b"\r\n" + body


def expires_at():
    """ECR's expiresAt, a fraction as ECR sends it, of a fixed length (the
    truncation tests cut at offsets of one reply's length)."""
    return int(time.time()) + 43200 + 0.5


def deep_json(depth=100000):
    return b"[" * depth + b"]" * depth


def huge_json(size=10 << 20):
    return b'{"pad": "' + b"x" * size + b'"}'


def offsets(reply, whole=400):
    """Where the truncation sweep cuts a reply: every byte offset of a short
    one; of a longer one (a JWT inside) every offset of the status line and
    headers and of the first and last 64 bytes of the body, every 16th between."""
    n = len(reply)
    if n <= whole:
        return list(range(n))
    body = reply.index(b"\r\n\r\n") + 4
    return sorted(set(range(body + 64)) | set(range(body + 64, n - 64, 16)) | set(range(n - 64, n)))


class Source:
    """One upstream under test: the good reply's body, its variants, the
    environment that points dcgen at the fault server, the hosts a success
    writes and the secrets that must not show."""
    tls = True
    ctype = "application/json"

    def __init__(self, case):
        self.case = case

    def body(self):
        raise NotImplementedError

    def dupkeys(self):
        raise NotImplementedError

    def deep(self):
        return deep_json()

    def reply(self, variant="good"):
        body = {"good": self.body, "ctype": self.body, "dupkeys": self.dupkeys, "deep": self.deep,
                "huge": huge_json}[variant]()
        return http_reply(body, "text/html" if variant == "ctype" else self.ctype)

    def start(self, tls):
        self.variant = "good"
        self.srv = FaultServer(lambda path: self.route(path), tls if self.tls else None)

    def route(self, path):
        return self.reply(self.variant)

    def close(self):
        self.srv.close()

    def secrets(self):
        return [TOKEN, OTHER]


class Ecr(Source):
    name = "ECR"

    def body(self):
        return json.dumps({"authorizationData": [{
            "authorizationToken": base64.b64encode(f"AWS:{TOKEN}".encode()).decode(),
            "expiresAt": expires_at(), "proxyEndpoint": f"https://{ECR_HOST}"}]}).encode()

    def dupkeys(self):
        tok = base64.b64encode(f"AWS:{TOKEN}".encode()).decode()
        other = base64.b64encode(f"AWS:{OTHER}".encode()).decode()
        return ('{"authorizationData": [{"authorizationToken": "%s", "authorizationToken": "%s", '
                '"expiresAt": %d, "proxyEndpoint": "https://%s"}]}' % (tok, other, int(expires_at()),
                                                                        ECR_HOST)).encode()

    def env(self):
        return {"AWS_ACCESS_KEY_ID": AWS_KEY[0], "AWS_SECRET_ACCESS_KEY": AWS_KEY[1], "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL_ECR": self.srv.url}

    def hosts(self):
        return {ECR_HOST}

    def secrets(self):
        return super().secrets() + [AWS_KEY[1]]


class EcrPublic(Ecr):
    name = "ECR Public"

    def body(self):
        return json.dumps({"authorizationData": {
            "authorizationToken": base64.b64encode(f"AWS:{TOKEN}".encode()).decode(),
            "expiresAt": expires_at()}}).encode()

    def dupkeys(self):
        return ('{"authorizationData": {"authorizationToken": "%s", "authorizationToken": "%s"}}' % (
            base64.b64encode(f"AWS:{TOKEN}".encode()).decode(),
            base64.b64encode(f"AWS:{OTHER}".encode()).decode())).encode()

    def env(self):
        return {"AWS_ACCESS_KEY_ID": AWS_KEY[0], "AWS_SECRET_ACCESS_KEY": AWS_KEY[1], "AWS_REGION": "us-east-1",
                "ECR_PUBLIC": "1", "AWS_ENDPOINT_URL_ECR_PUBLIC": self.srv.url}

    def hosts(self):
        return {"public.ecr.aws"}


class Sts(Ecr):
    """AssumeRole's XML reply; ECR behind it is the suite's AwsJsonServer,
    which accepts the key pair the good reply issues."""
    name = "STS"
    ctype = "text/xml"

    def start(self, tls):
        super().start(tls)
        self.ecr = AwsJsonServer({AWS_KEY[0]: (AWS_KEY[1], None), STS_KEY[0]: (STS_KEY[1], STS_KEY[2])},
                                 account=ACCOUNT).start()

    def close(self):
        super().close()
        self.ecr.close()

    def xml(self, creds):
        exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        return ('<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>'
                f'<Credentials>{creds}<Expiration>{exp}</Expiration></Credentials>'
                '</AssumeRoleResult></AssumeRoleResponse>').encode()

    def body(self):
        return self.xml(f"<AccessKeyId>{STS_KEY[0]}</AccessKeyId><SecretAccessKey>{STS_KEY[1]}</SecretAccessKey>"
                        f"<SessionToken>{STS_KEY[2]}</SessionToken>")

    def dupkeys(self):
        return self.xml(f"<AccessKeyId>{STS_KEY[0]}</AccessKeyId><SecretAccessKey>{OTHER}</SecretAccessKey>"
                        f"<SecretAccessKey>{STS_KEY[1]}</SecretAccessKey><SessionToken>{STS_KEY[2]}</SessionToken>")

    def deep(self):
        return b"<a>" * 100000 + b"</a>" * 100000

    def env(self):
        return {"AWS_ACCESS_KEY_ID": AWS_KEY[0], "AWS_SECRET_ACCESS_KEY": AWS_KEY[1], "AWS_REGION": "us-east-1",
                "AWS_STS_ROLE": "deployer", "AWS_STS_ACCOUNT": ACCOUNT, "AWS_ENDPOINT_URL_STS": self.srv.url,
                "AWS_ENDPOINT_URL_ECR": self.ecr.url}

    def secrets(self):
        return super().secrets() + [STS_KEY[1], STS_KEY[2], self.ecr.token_prefix]


class GoogleToken(Source):
    name = "Google token endpoint"

    def start(self, tls):
        super().start(tls)
        self.key, _ = __import__("google_server").service_account_key(
            "fault@dcgen-test.iam.gserviceaccount.com", "dcgen-test", self.srv.url + "/token")

    def body(self):
        return json.dumps({"access_token": TOKEN, "expires_in": 3599, "token_type": "Bearer"}).encode()

    def dupkeys(self):
        return ('{"access_token": "%s", "access_token": "%s", "expires_in": 3599}' % (OTHER, TOKEN)).encode()

    def env(self):
        return {"GOOGLE_AUTH_JSON": json.dumps(self.key)}

    def hosts(self):
        return {"gcr.io", "us.gcr.io", "eu.gcr.io", "asia.gcr.io"}

    def secrets(self):
        return super().secrets() + [self.key["private_key"].splitlines()[1]]


class GceMetadata(GoogleToken):
    name = "GCE metadata server"
    tls = False

    def start(self, tls):
        Source.start(self, tls)

    def route(self, path):
        if path.endswith("/token"):
            return self.reply(self.variant)
        text = b"fault@dcgen-test.iam.gserviceaccount.com" if "email" in path else b"dcgen-test"
        return http_reply(text, "application/text", extra=b"Metadata-Flavor: Google\r\n")

    def reply(self, variant="good"):
        body = {"good": self.body, "ctype": self.body, "dupkeys": self.dupkeys, "deep": self.deep,
                "huge": huge_json}[variant]()
        return http_reply(body, "text/html" if variant == "ctype" else self.ctype,
                          extra=b"Metadata-Flavor: Google\r\n")

    def env(self):
        return {"DCGEN_PROVIDER": "gcr", "GCE_METADATA_HOST": self.srv.host}

    def secrets(self):
        return [TOKEN, OTHER]


class AzureAd(Source):
    """Azure AD's token endpoint; the ACR exchange behind it is the suite's
    AcrServer, which verifies the access token with the key signing it here."""
    name = "Azure AD"

    def start(self, tls):
        self.aad_key = jwt_rs256.new_key()
        super().start(tls)
        self.acr = AcrServer(TENANT, self.aad_key.public_key()).start()

    def close(self):
        super().close()
        self.acr.close()

    def access_token(self):
        now = int(time.time())
        return jwt_rs256.encode({"aud": ACR_AUDIENCE, "iss": f"https://sts.windows.net/{TENANT}/", "tid": TENANT,
                                 "appid": CLIENT, "iat": now, "nbf": now, "exp": now + 3599}, self.aad_key)

    def body(self):
        return json.dumps({"token_type": "Bearer", "expires_in": 3599, "access_token": self.access_token()}).encode()

    def dupkeys(self):
        return ('{"access_token": "%s", "access_token": "%s", "expires_in": 3599}' % (
            OTHER, self.access_token())).encode()

    def env(self):
        return {"AZURE_REGISTRY": self.acr.url, "AZURE_AUTHORITY_HOST": self.srv.url, "AZURE_CLIENT_ID": CLIENT,
                "AZURE_TENANT_ID": TENANT, "AZURE_CLIENT_SECRET": CLIENT_SECRET}

    def hosts(self):
        return {self.acr.host}

    def secrets(self):
        return super().secrets() + [CLIENT_SECRET, self.acr.refresh_token]


class AcrExchange(Source):
    """The registry's /oauth2/exchange; Azure AD before it is the suite's."""
    name = "ACR exchange"

    def start(self, tls):
        super().start(tls)
        self.aad = AadServer(TENANT, {CLIENT: CLIENT_SECRET}).start()
        self.key = jwt_rs256.new_key()

    def close(self):
        super().close()
        self.aad.close()

    def refresh(self):
        now = int(time.time())
        return jwt_rs256.encode({"sub": "00000000-0000-0000-0000-000000000000", "exp": now + 10800, "iat": now,
                                 "iss": "Azure Container Registry", "aud": self.srv.host,
                                 "tenant": TENANT, "fault": TOKEN}, self.key)

    def body(self):
        return json.dumps({"refresh_token": self.refresh()}).encode()

    def dupkeys(self):
        return ('{"refresh_token": "%s", "refresh_token": "%s"}' % (OTHER, self.refresh())).encode()

    def env(self):
        return {"AZURE_REGISTRY": self.srv.url, "AZURE_AUTHORITY_HOST": self.aad.url, "AZURE_CLIENT_ID": CLIENT,
                "AZURE_TENANT_ID": TENANT, "AZURE_CLIENT_SECRET": CLIENT_SECRET}

    def hosts(self):
        return {self.srv.host}

    def secrets(self):
        return [OTHER, CLIENT_SECRET] + [t.split(".")[2] for t in self.aad.issued]


SOURCES = (Ecr, EcrPublic, Sts, GoogleToken, GceMetadata, AzureAd, AcrExchange)


class FaultCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="dcgen-faults-")
        cls.ca, crt, key = peers.make_tls(cls.tmp)
        cls.tls = (crt, key)

    @classmethod
    def tearDownClass(cls):
        import shutil
        shutil.rmtree(cls.tmp, True)

    def run_one(self, src, timeout=10, bound=40):
        """Run dcgen once; a description of what was not clean, or None."""
        out_dir = tempfile.mkdtemp(dir=self.tmp)
        path = os.path.join(out_dir, "dockercfg")
        env = peers.env(dict(src.env(), SSL_CERT_FILE=self.ca, DCGEN_TIMEOUT=str(timeout)))
        start = time.monotonic()
        try:
            r = peers.run([path], env, (), timeout=bound + 30)
        except Exception as e:  # noqa: BLE001
            return f"did not finish: {e}"
        took = time.monotonic() - start
        for s in src.secrets():
            if s and s in r.err:
                return f"a secret on stderr: {r.err}"
        if took > bound:
            return f"took {took:.1f} s"
        if r.rc == 0:
            try:
                with open(path) as f:
                    doc = json.load(f)
                auths = doc.get("auths", doc)
                if set(auths) != src.hosts():
                    return f"wrote {sorted(auths)}, not {sorted(src.hosts())}"
            except (OSError, ValueError) as e:
                return f"exit 0 but the output is bad: {e}"
            return None
        # 1: upstream failed; 2: a chain that found no usable source (the
        # Google chain takes a metadata server that drops the connection
        # for "not on Google Cloud")
        if r.rc not in (1, 2):
            return f"exit {r.rc}: {r.err}"
        if not r.err.startswith("dcgen: error: ") or len(r.err.strip().splitlines()) != 1:
            return f"not one error line: {r.err!r}"
        if os.listdir(out_dir):
            return f"exit 1 but wrote {os.listdir(out_dir)}"
        return ("rc1", r.err.strip())

    def each_source(self, body):
        for cls in SOURCES:
            src = cls(self)
            src.start(self.tls)
            try:
                with self.subTest(source=src.name):
                    body(src)
            finally:
                src.close()

    def test_good_reply(self):
        """The fault server's good reply works: the baseline for the faults."""
        def body(src):
            self.assertIsNone(self.run_one(src))
        self.each_source(body)

    def test_truncated_at_every_offset_then_whole(self):
        """Cut at each byte offset once, whole on the retry: dcgen retries and
        writes the right file every time."""
        total = 0

        def body(src):
            nonlocal total
            n = len(src.reply())
            bad = []

            def one(k):
                # each run needs its own server: the mode is per server
                s2 = type(src)(self)
                s2.start(self.tls)
                try:
                    s2.srv.mode = ("cut", k)
                    got = self.run_one(s2, timeout=2)
                    return None if got is None else (k, got)
                finally:
                    s2.close()
            with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
                for res in pool.map(one, offsets(src.reply())):
                    if res:
                        bad.append(res)
            total += len(offsets(src.reply()))
            self.assertEqual(bad, [], f"{src.name}: reply of {n} bytes")
        self.each_source(body)
        print(f"faults: truncation sweep: {total} runs over {len(SOURCES)} sources", file=sys.stderr)

    def test_truncated_every_time(self):
        """Cut at the same offset on every attempt: a clean failure."""
        def body(src):
            n = len(src.reply())
            for k in (0, 9, n // 3, n - 1):
                src.srv.mode = ("cutall", k)
                got = self.run_one(src, timeout=2)
                self.assertIsInstance(got, tuple, f"cut at {k} of {n}: {got}")
                self.assertRegex(got[1], r"dropp|reach|failed|answer|reply|empty")
        self.each_source(body)

    def test_reset_mid_body(self):
        def body(src):
            src.srv.mode = "reset"
            got = self.run_one(src)
            self.assertIsInstance(got, tuple, got)
        self.each_source(body)

    def test_trickle_under_deadline(self):
        def body(src):
            src.srv.mode = "trickle"
            self.assertIsNone(self.run_one(src, timeout=15))
        self.each_source(body)

    def test_huge_body(self):
        def body(src):
            src.variant = "huge"
            start = time.monotonic()
            got = self.run_one(src, bound=20)
            self.assertIsInstance(got, tuple, got)
            self.assertRegex(got[1], "larger than|too large")
            self.assertLess(time.monotonic() - start, 20)
        self.each_source(body)

    def test_wrong_content_type(self):
        def body(src):
            src.variant = "ctype"
            got = self.run_one(src)
            self.assertTrue(got is None or isinstance(got, tuple), got)
        self.each_source(body)

    def test_duplicate_keys(self):
        def body(src):
            src.variant = "dupkeys"
            got = self.run_one(src)
            self.assertIsInstance(got, tuple, f"duplicate keys accepted: {got}")
        self.each_source(body)

    def test_deep_nesting(self):
        def body(src):
            src.variant = "deep"
            got = self.run_one(src)
            self.assertIsInstance(got, tuple, got)
        self.each_source(body)


if __name__ == "__main__":
    peers.main()
