"""A local stand-in for AWS's ECR and ECR Public token APIs, for what moto lacks.

It verifies each request's SigV4 signature with botocore's own signer (the
published algorithm, not our code) against the key pairs it was given, checks
the JSON protocol headers, counts requests, and answers like ECR:

  AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken   (service ecr)
  SpencerFrontendService.GetAuthorizationToken                 (service ecr-public)

  Action=AssumeRole (STS's query protocol, service sts): a form POST
  answered with STS's XML; the issued key pair is accepted from then on
  (.sts_token sets the SessionToken's XML text, entities and all, to test
  what a client does with "&#13;&#10;" in it).

Faults for tests come from a script: a list of behaviours taken one per request
("ok", "500", "429", "429ra:N" (429 with Retry-After: N, taken as given),
"429date:N" (Retry-After as an HTTP-date N seconds ahead), "throttle", "slow",
"hang" (no answer for .hang_seconds, then the connection closes), "huge",
"truncated", "notjson", "reset"); when the script runs out every request gets
.default ("ok"). Replies can also leave out expiresAt (.no_expiry) or carry
another proxyEndpoint (.proxy_endpoint). .headers holds every request's
headers as received (a list of (name, value) pairs), to see injected ones;
.bodies the bodies.

Run it in-process (AwsJsonServer(...).start()) or as a program:
  python3 aws_json_server.py --port P --key AKID:SECRET [--script 500,ok] [--ready FILE]
"""
import argparse
import base64
import datetime
import email.utils
import json
import os
import random
import re
import socket
import sys
import time
import urllib.parse
from xml.sax.saxutils import escape

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from localserver import LocalHandler, LocalServer

TARGETS = {
    "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken": "ecr",
    "SpencerFrontendService.GetAuthorizationToken": "ecr-public",
}


def xml_text(text):
    """What an XML parser makes of character data: character references
    (&#13; &#x1b;) and the five named entities replaced."""
    named = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}

    def one(m):
        ref = m.group(1)
        if ref.startswith("#x"):
            return chr(int(ref[2:], 16))
        if ref.startswith("#"):
            return chr(int(ref[1:]))
        return named[ref]
    return re.sub(r"&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);", one, text)


def parse_authorization(value):
    """'AWS4-HMAC-SHA256 Credential=K/D/R/S/aws4_request, SignedHeaders=a;b, Signature=X'."""
    algo, _, rest = value.partition(" ")
    if algo != "AWS4-HMAC-SHA256":
        raise ValueError("not AWS4-HMAC-SHA256")
    parts = dict(p.strip().split("=", 1) for p in rest.split(","))
    key_id, date, region, service, term = parts["Credential"].split("/")
    if term != "aws4_request":
        raise ValueError("bad credential scope")
    return key_id, date, region, service, parts["SignedHeaders"].split(";"), parts["Signature"]


class AwsJsonServer(LocalServer):
    def __init__(self, keys, port=0, script=(), lifetime=43200, token_prefix="ecr-token",
                 account="123456789012", slow_seconds=30, delay=(0, 0), tls=None):
        self.keys = dict(keys)          # key id -> (secret, session token or None)
        self.lifetime = lifetime
        self.token_prefix = token_prefix
        self.account = account
        self.slow_seconds = slow_seconds
        self.delay = delay              # (min, max) seconds before every answer
        self.hang_seconds = 60
        self.no_expiry = False          # leave expiresAt out of replies
        self.proxy_endpoint = None      # the proxyEndpoint of every entry, when set
        self.sts_token = None           # XML text of STS's SessionToken, when set
        self.headers = []               # [(name, value), ...] of every request
        self.bodies = []                # the body of every request, as sent
        # .requests: (target, service, region, outcome)
        super().__init__(script, port, tls)

    def token_for(self, registry):
        return f"{self.token_prefix}-{registry}"

    def verify(self, method, path, headers, body):
        """None when the request is signed right, else the AWS error code."""
        try:
            key_id, date, region, service, signed, signature = parse_authorization(
                headers.get("Authorization", ""))
        except (ValueError, KeyError):
            return "IncompleteSignature", None, None
        if key_id not in self.keys:
            return "UnrecognizedClientException", region, service
        secret, token = self.keys[key_id]
        if token is not None and headers.get("X-Amz-Security-Token") != token:
            return "UnrecognizedClientException", region, service
        if "x-amz-security-token" in (h.lower() for h in headers) and \
                "x-amz-security-token" not in signed:
            return "IncompleteSignature", region, service
        amz_date = headers.get("X-Amz-Date", "")
        try:
            when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
                tzinfo=datetime.timezone.utc)
        except ValueError:
            return "IncompleteSignature", region, service
        if abs((datetime.datetime.now(datetime.timezone.utc) - when).total_seconds()) > 900 \
                or amz_date[:8] != date:
            return "InvalidSignatureException", region, service
        lower = {k.lower(): v for k, v in headers.items()}
        req = AWSRequest(method=method, url=f"http://{lower['host']}{path}", data=body,
                         headers={h: lower[h] for h in signed if h in lower})
        req.context["timestamp"] = amz_date
        signer = SigV4Auth(Credentials(key_id, secret, token), service, region)
        expected = signer.signature(signer.string_to_sign(req, signer.canonical_request(req)), req)
        if expected != signature:
            return "InvalidSignatureException", region, service
        return None, region, service

    def _handler(self):
        server = self

        class Handler(LocalHandler):
            content_type = "application/x-amz-json-1.1"

            def error(self, status, code, message):
                self.send(status, {"__type": code, "message": message})

            def do_POST(self):
                body = self.body()
                with server.lock:
                    server.headers.append(list(self.headers.items()))
                    server.bodies.append(body)
                if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
                    return self.sts(body)
                target = self.headers.get("X-Amz-Target", "")
                outcome = server._next()
                if server.delay[1] > 0:
                    time.sleep(random.uniform(*server.delay))
                err, region, service = server.verify("POST", self.path, self.headers, body)
                server._record(target, service, region, err or outcome)
                if err:
                    return self.error(400 if err != "InvalidSignatureException" else 403, err,
                                      "the request signature or key was not accepted")
                if TARGETS.get(target) != service:
                    return self.error(400, "UnknownOperationException", f"{target} for {service}")
                if self.headers.get("Content-Type") != "application/x-amz-json-1.1":
                    return self.error(400, "SerializationException", "wrong content type")
                try:
                    req = json.loads(body or b"{}")
                except ValueError:
                    return self.error(400, "SerializationException", "body is not JSON")
                if outcome == "500":
                    return self.error(500, "ServerException", "try again")
                if outcome == "429":
                    return self.error(429, "TooManyRequestsException", "slow down")
                if outcome.startswith("429ra:"):
                    return self.send(429, {"__type": "TooManyRequestsException", "message": "slow down"},
                                     headers=[("Retry-After", outcome[6:])])
                if outcome.startswith("429date:"):   # Retry-After as an HTTP-date N s from now
                    when = email.utils.formatdate(time.time() + int(outcome[8:]), usegmt=True)
                    return self.send(429, {"__type": "TooManyRequestsException", "message": "slow down"},
                                     headers=[("Retry-After", when)])
                if outcome == "hang":
                    time.sleep(server.hang_seconds)
                    self.close_connection = True
                    return
                if outcome == "throttle":
                    return self.error(400, "ThrottlingException", "Rate exceeded")
                if outcome == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self.close_connection = True
                    return
                if outcome == "slow":
                    time.sleep(server.slow_seconds)
                if outcome == "notjson":
                    return self.send(200, b"<html>proxy error page</html>")
                if outcome == "huge":
                    return self.send(200, b"{\"pad\": \"" + b"x" * (4 << 20) + b"\"}")
                expires = {} if server.no_expiry else {"expiresAt": time.time() + server.lifetime}
                if service == "ecr-public":
                    data = dict({"authorizationToken": base64.b64encode(
                        f"AWS:{server.token_for('public')}".encode()).decode()}, **expires)
                    payload = {"authorizationData": data}
                else:
                    ids = req.get("registryIds") or [server.account]
                    payload = {"authorizationData": [dict({
                        "authorizationToken": base64.b64encode(
                            f"AWS:{server.token_for(i)}".encode()).decode(),
                        "proxyEndpoint": server.proxy_endpoint or
                        f"https://{i}.dkr.ecr.{region}.amazonaws.com"}, **expires)
                        for i in ids]}
                return self.send(200, payload, truncate=outcome == "truncated")

            def sts(self, body):
                """AssumeRole, as STS's query protocol has it."""
                outcome = server._next()
                err, region, service = server.verify("POST", self.path, self.headers, body)
                form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
                action = form.get("Action", [""])[0]
                server._record(f"sts:{action}", service, region, err or outcome)
                if not err and (service != "sts" or action != "AssumeRole" or
                                not form.get("RoleArn") or not form.get("RoleSessionName")):
                    err = "InvalidAction"
                if err:
                    return self.send(403 if err != "InvalidAction" else 400, (
                        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
                        f'<Type>Sender</Type><Code>{err}</Code><Message>refused</Message></Error>'
                        '<RequestId>0</RequestId></ErrorResponse>').encode(), "text/xml")
                if outcome == "500":
                    return self.send(500, b'<ErrorResponse><Error><Code>InternalFailure</Code>'
                                     b'</Error></ErrorResponse>', "text/xml")
                key_id = "ASIASTSISSUED" + "%07d" % len(server.keys)
                secret = "sts/issued+secret/" + key_id
                token_xml = server.sts_token or escape("FwoGZXIvYXdzEtemporary" + key_id)
                token = xml_text(token_xml)
                with server.lock:
                    server.keys[key_id] = (secret, token)
                exp = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
                xml = ('<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
                       '<AssumeRoleResult><Credentials>'
                       f'<AccessKeyId>{key_id}</AccessKeyId><SecretAccessKey>{escape(secret)}</SecretAccessKey>'
                       f'<SessionToken>{token_xml}</SessionToken>'
                       f'<Expiration>{exp.strftime("%Y-%m-%dT%H:%M:%SZ")}</Expiration>'
                       '</Credentials><AssumedRoleUser><AssumedRoleId>AROA:s</AssumedRoleId>'
                       f'<Arn>{escape(form["RoleArn"][0])}</Arn></AssumedRoleUser></AssumeRoleResult>'
                       '<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleResponse>')
                return self.send(200, xml.encode(), "text/xml")

        return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--key", action="append", required=True, help="KEYID:SECRET")
    ap.add_argument("--script", default="")
    ap.add_argument("--lifetime", type=int, default=43200)
    ap.add_argument("--ready", help="write the port here once listening")
    a = ap.parse_args()
    keys = {k.split(":", 1)[0]: (k.split(":", 1)[1], None) for k in a.key}
    s = AwsJsonServer(keys, a.port, [x for x in a.script.split(",") if x], a.lifetime)
    if a.ready:
        with open(a.ready + ".tmp", "w") as f:
            f.write(str(s.port))
        os.rename(a.ready + ".tmp", a.ready)
    print(f"listening on {s.url}", file=sys.stderr, flush=True)
    s.httpd.serve_forever()


if __name__ == "__main__":
    main()
