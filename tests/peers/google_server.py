"""A local stand-in for Google's OAuth 2.0 token endpoint and the GCE metadata
server, for dcgen's gcr provider. Where Google has no emulator, this checks
requests against the published protocol with a real library, never echoes.

Token endpoint, POST /token (the JWT bearer grant for service accounts, RFC 7523
as Google documents it in "Using OAuth 2.0 for Server to Server Applications"):
the form must have exactly grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer
and assertion=JWT. The JWT is decoded and its RS256 signature verified by
joserfc (a third-party JOSE implementation, not dcgen's reading of the RFCs)
with the public half of the key registered for its iss, and its claims checked
by joserfc's claims registry. What Google accepts is accepted, not only dcgen's
exact shape: header alg RS256, typ (if any) JWT, kid (if any) the key's
private_key_id; claims iss = the account, scope a space-separated list with
cloud-platform, aud = this endpoint's URL, iat not in the future and within
5 min of now, exp after now and at most iat + 3600; other claims (such as sub,
for domain-wide delegation) and any claim order are fine. Refusals answer as
Google does (400 {"error": "invalid_grant", "error_description": "Invalid JWT
Signature."}).

Metadata server, GET /computeMetadata/v1/...: the default service account's
token, email, and the project id; a request without "Metadata-Flavor: Google"
gets 403, as from the real one.

Faults come from a script, one behaviour per request ("ok", "500", "notjson",
"noaccess" (JSON without access_token), "slow", "429ra:N" (429 with
Retry-After: N)); when it runs out: "ok".
For redaction tests, a misbehaving endpoint that echoes the request in a 400
invalid_grant's error_description: "echo" (the whole assertion), "echo200"
(the form body cut at 200 characters, as some gateways quote it),
"echosigning" (header.claims, the assertion without its signature),
"echodecoded" (the decoded header and claims).
"""
import json
import secrets
import time
import urllib.parse

from cryptography.hazmat.primitives import serialization
from joserfc import jws, jwt
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwk import RSAKey

import jwt_rs256
from localserver import LocalHandler, LocalServer

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
BAD_SIG = {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
MAX_LIFETIME = 3600   # Google: "a maximum of 1 hour after the issued time"
CLOCK_SKEW = 300
BAD_TIME = {"error": "invalid_grant", "error_description":
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
            "timeframe. Check your iat and exp values in the JWT claim."}


def service_account_key(email, project_id, token_uri, key=None, kid=None):
    """(key file dict, private key): a service-account key as the console issues it."""
    key = key or jwt_rs256.new_key()
    return {
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": kid or secrets.token_hex(20),
        "private_key": jwt_rs256.private_pem(key),
        "client_email": email,
        "client_id": "1" + "0" * 20,
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
    }, key


class GoogleServer(LocalServer):
    """Token endpoint at .token_uri and metadata server at .metadata_host;
    .requests: (path, outcome or refusal reason)."""

    def __init__(self, expires_in=3599, script=(), slow_seconds=30):
        super().__init__(script)
        self.accounts = {}              # email -> (joserfc public key, private_key_id)
        self.token = "ya29.dcgen-" + secrets.token_hex(16)   # under bcrypt's 72 bytes
        self.expires_in = expires_in
        self.slow_seconds = slow_seconds
        self.metadata_email = "default@dcgen-test.iam.gserviceaccount.com"
        self.metadata_project = "dcgen-test"
        self.claims = []                # claims of every verified assertion
        self.assertions = []            # every assertion received, verified or not
        self.token_uri = f"{self.url}/token"
        self.metadata_host = self.host

    def add_account(self, email, project_id):
        """Register a new service account; returns its key file dict."""
        key, private = service_account_key(email, project_id, self.token_uri)
        self.accounts[email] = (RSAKey.import_key(private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)), key["private_key_id"])
        return key

    def check_grant(self, content_type, body):
        """None when the grant is right, else (status, error reply, reason)."""
        if content_type.split(";")[0].strip() != "application/x-www-form-urlencoded":
            return 400, {"error": "invalid_request", "error_description": "Bad Request"}, "content type"
        try:
            form = urllib.parse.parse_qs(body.decode(), keep_blank_values=True, strict_parsing=True)
        except (ValueError, UnicodeDecodeError):
            return 400, {"error": "invalid_request", "error_description": "Bad Request"}, "form"
        if sorted(form) != ["assertion", "grant_type"] or any(len(v) != 1 for v in form.values()):
            return 400, {"error": "invalid_request", "error_description": "Bad Request"}, f"fields {sorted(form)}"
        if form["grant_type"][0] != GRANT:
            return 400, {"error": "unsupported_grant_type",
                         "error_description": "Invalid grant_type: " + form["grant_type"][0]}, "grant_type"
        assertion = form["assertion"][0]
        with self.lock:
            self.assertions.append(assertion)
        try:
            unverified = json.loads(jws.extract_compact(assertion.encode()).payload)
            public, kid = self.accounts[unverified["iss"]]
        except (JoseError, ValueError, KeyError, IndexError, TypeError):
            return 400, {"error": "invalid_grant", "error_description": "Invalid grant: account not found"}, "iss"
        try:
            token = jwt.decode(assertion, public, algorithms=["RS256"])
        except BadSignatureError:
            return 400, BAD_SIG, "bad signature"
        except (JoseError, ValueError) as e:
            return 400, BAD_SIG, f"undecodable: {e!r}"
        header, claims = token.header, token.claims
        if header.get("typ", "JWT") != "JWT" or header.get("kid", kid) != kid:
            return 400, BAD_SIG, f"header {header}"
        now = int(time.time())
        try:
            jwt.JWTClaimsRegistry(
                now=now, leeway=CLOCK_SKEW,
                iss={"essential": True, "value": unverified["iss"]},
                aud={"essential": True, "value": self.token_uri},
                scope={"essential": True}, iat={"essential": True}, exp={"essential": True},
            ).validate(claims)
        except JoseError as e:
            claim = getattr(e, "claim", "") or str(e)
            if "scope" in claim:
                return 400, {"error": "invalid_scope", "error_description": "Invalid OAuth scope"}, "scope"
            if "aud" in claim:
                return 400, {"error": "invalid_grant", "error_description": "Invalid JWT: aud"}, "aud"
            if "iat" in claim or "exp" in claim:
                return 400, BAD_TIME, "iat/exp"
            return 400, {"error": "invalid_request", "error_description": "Invalid JWT claims"}, f"claims: {e!r}"
        if not isinstance(claims["scope"], str) or SCOPE not in claims["scope"].split(" "):
            return 400, {"error": "invalid_scope", "error_description": "Invalid OAuth scope"}, "scope"
        if claims["exp"] <= now or claims["exp"] - claims["iat"] > MAX_LIFETIME \
                or abs(claims["iat"] - now) > CLOCK_SKEW:
            return 400, BAD_TIME, "iat/exp"
        with self.lock:
            self.claims.append(claims)
        return None

    def _handler(self):
        server = self

        class Handler(LocalHandler):
            def send(self, status, payload, ctype=None, metadata=False):
                # the metadata server marks its answers as its own
                return super().send(status, payload, ctype, [("Metadata-Flavor", "Google")] if metadata else ())

            def token_reply(self, outcome, metadata=False):
                if outcome.startswith("429ra:"):   # throttled, with Retry-After: N
                    return LocalHandler.send(self, 429, {"error": "rate_limit_exceeded"}, None,
                                             [("Retry-After", outcome[6:])])
                if outcome == "500":
                    return self.send(500, {"error": "internal_failure"}, metadata=metadata)
                if outcome == "slow":
                    time.sleep(server.slow_seconds)
                if outcome == "notjson":
                    return self.send(200, b"<html><body>502 Bad Gateway</body></html>", "text/html",
                                     metadata)
                if outcome == "noaccess":
                    return self.send(200, {"token_type": "Bearer", "expires_in": 3599}, metadata=metadata)
                return self.send(200, {"access_token": server.token, "expires_in": server.expires_in,
                                       "token_type": "Bearer"}, metadata=metadata)

            def do_POST(self):
                body = self.body()
                if self.path != "/token":
                    server._record(self.path, "not found")
                    return self.send(404, {"error": "not_found"})
                outcome = server._next()
                if outcome.startswith("echo"):
                    return self.echo(outcome, body)
                refused = server.check_grant(self.headers.get("Content-Type", ""), body)
                server._record(self.path, refused[2] if refused else outcome)
                if refused:
                    return self.send(refused[0], refused[1])
                return self.token_reply(outcome)

            def echo(self, outcome, body):
                form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
                assertion = form.get("assertion", [""])[0]
                with server.lock:
                    server.assertions.append(assertion)
                server._record(self.path, outcome)
                parts = assertion.split(".")
                if outcome == "echo":
                    text = "assertion=" + assertion
                elif outcome == "echo200":
                    text = body.decode("utf-8", "replace")[:200]
                elif outcome == "echosigning":
                    text = "bad JWT " + ".".join(parts[:2])
                else:
                    text = "bad JWT " + "".join(
                        jwt_rs256.b64url_decode(p).decode("utf-8", "replace") for p in parts[:2])
                return self.send(400, {"error": "invalid_grant", "error_description": text})

            def do_GET(self):
                path = urllib.parse.urlsplit(self.path).path
                if self.headers.get("Metadata-Flavor") != "Google":
                    server._record(path, "no Metadata-Flavor")
                    return self.send(403, b"Missing Metadata-Flavor:Google header.\n", "text/html", True)
                base = "/computeMetadata/v1/"
                outcome = server._next()
                server._record(path, outcome)
                if path == base + "instance/service-accounts/default/token":
                    return self.token_reply(outcome, metadata=True)
                if path == base + "instance/service-accounts/default/email":
                    return self.send(200, server.metadata_email.encode(), "application/text", True)
                if path == base + "project/project-id":
                    return self.send(200, server.metadata_project.encode(), "application/text", True)
                return self.send(404, b"Not Found\n", "text/html", True)

        return Handler
