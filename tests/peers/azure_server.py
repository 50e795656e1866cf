"""Local stand-ins for Azure AD's v2.0 token endpoint and an Azure Container
Registry's token exchange, for dcgen's acr provider. They check requests
against Microsoft's published protocol, verify tokens with `cryptography`, and
never echo.

AadServer   POST /<tenant>/oauth2/v2.0/token, the client credentials grant:
            a form with exactly grant_type=client_credentials, client_id,
            scope=https://containerregistry.azure.net/.default and either
            client_secret or client_assertion_type=urn:ietf:params:oauth:
            client-assertion-type:jwt-bearer + client_assertion (workload
            identity: an RS256 JWT verified against the registered issuer key,
            aud api://AzureADTokenExchange, the registered iss and sub, not
            expired). Answers an RS256 access token for ACR, or AAD's errors
            (401 invalid_client, AADSTS7000215 for a wrong secret).
AcrServer   POST /oauth2/exchange: a form with exactly grant_type=access_token,
            service=<its own host:port>, tenant, access_token, where the access
            token must verify with the AAD server's key, for aud
            https://containerregistry.azure.net and that tenant. Answers
            {"refresh_token": JWT} with an exp claim (.refresh_token, .refresh_exp).
            Every /v2/ request is passed to an upstream docker-registry
            (.upstream = "127.0.0.1:PORT"), so the registry's dockercfg key is
            the exchange's own host, as with a real ACR.

Faults come from a script, one behaviour per request ("ok", "500", "notjson",
"norefresh", "401", and for Azure AD "429ra:N": 429 with Retry-After: N);
when it runs out: "ok". For redaction tests, "echo200"
makes either server misbehave: it refuses, quoting the request's credential
field (client_secret or client_assertion; access_token) cut at 200
characters, as some gateways do.

The form fields are those of Microsoft's published protocol ("Microsoft identity
platform and the OAuth 2.0 client credentials flow"); Microsoft's client library
(msal) is not installed where this suite runs (`python3 -c 'import msal'`
fails; no PyPI), so no request of msal's is compared byte for byte
(tests/integration/test_oracles.py says the same).
"""
import http.client
import secrets
import time
import urllib.parse

import jwt_rs256
from localserver import LocalHandler, LocalServer

ACR_SCOPE = "https://containerregistry.azure.net/.default"
ACR_AUDIENCE = "https://containerregistry.azure.net"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
FEDERATED_AUDIENCE = "api://AzureADTokenExchange"
NULL_USER = "00000000-0000-0000-0000-000000000000"
HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
       "content-length"}


def parse_form(headers, body, fields):
    """The form as {name: value} when it has exactly `fields` once each, else None."""
    if headers.get("Content-Type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        return None
    try:
        form = urllib.parse.parse_qs(body.decode(), keep_blank_values=True, strict_parsing=True)
    except (ValueError, UnicodeDecodeError):
        return None
    if sorted(form) != sorted(fields) or any(len(v) != 1 for v in form.values()):
        return None
    return {k: v[0] for k, v in form.items()}


def aad_error(code, aadsts, text):
    return {"error": code,
            "error_description": f"AADSTS{aadsts}: {text}\r\nTrace ID: {secrets.token_hex(8)}\r\n"
                                 f"Correlation ID: {secrets.token_hex(8)}\r\nTimestamp: 2026-11-28 12:00:00Z",
            "error_codes": [aadsts], "timestamp": "2026-11-28 12:00:00Z"}


class _Base(LocalServer):
    """A server whose every request goes to .handle(handler, method, path, body);
    .requests: (path, outcome or refusal reason)."""

    def _handler(self):
        server = self

        class Handler(LocalHandler):
            def dispatch(self):
                server.handle(self, self.command, urllib.parse.urlsplit(self.path).path, self.body())

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = dispatch

        return Handler


class AadServer(_Base):
    """Azure AD for one tenant: .url is the authority host to give dcgen."""

    def __init__(self, tenant, secrets_by_client=None, federated=None, script=(), prefix="", certs=None):
        super().__init__(script)
        self.certs = dict(certs or {})                         # client id -> x509 certificate (cryptography)
        self.tenant = tenant
        self.prefix = prefix                                   # an ADFS-style path: "/adfs"
        self.client_secrets = dict(secrets_by_client or {})   # client id -> secret
        self.federated = dict(federated or {})                 # client id -> (iss, sub, public key)
        self.key = jwt_rs256.new_key()
        self.public_key = self.key.public_key()
        self.issued = []                                       # access tokens handed out

    def check(self, headers, body):
        """(client id, None) when the grant is right, else (None, (status, reply, reason))."""
        base = ["grant_type", "client_id", "scope"]
        form = parse_form(headers, body, base + ["client_secret"]) or \
            parse_form(headers, body, base + ["client_assertion_type", "client_assertion"])
        if form is None:
            return None, (400, aad_error("invalid_request", 900144, "The request body must contain "
                                         "the documented parameters, each once."), "form fields")
        if form["grant_type"] != "client_credentials":
            return None, (400, aad_error("unsupported_grant_type", 70003, "The app requested an "
                                         "unsupported grant type."), "grant_type")
        if form["scope"] != ACR_SCOPE:
            return None, (400, aad_error("invalid_scope", 70011, "The provided value for the input "
                                         "parameter 'scope' is not valid."), "scope")
        client = form["client_id"]
        if client not in self.client_secrets and client not in self.federated and client not in self.certs:
            return None, (400, aad_error("unauthorized_client", 700016, f"Application with identifier "
                                         f"'{client}' was not found in the directory."), "client_id")
        if "client_secret" in form:
            if self.client_secrets.get(client) != form["client_secret"]:
                return None, (401, aad_error("invalid_client", 7000215, "Invalid client secret provided. "
                                             "Ensure the secret being sent in the request is the client "
                                             "secret value, not the client secret ID."), "client_secret")
            return client, None
        if form["client_assertion_type"] == ASSERTION_TYPE and client in self.certs:
            return self.check_certificate(client, form["client_assertion"])
        if form["client_assertion_type"] != ASSERTION_TYPE or client not in self.federated:
            return None, (401, aad_error("invalid_client", 700027, "Client assertion failed signature "
                                         "validation."), "client_assertion_type")
        iss, sub, public = self.federated[client]
        try:
            _, claims = jwt_rs256.verify(form["client_assertion"], public)
        except ValueError as e:
            return None, (401, aad_error("invalid_client", 700027, "Client assertion failed signature "
                                         "validation."), f"assertion: {e}")
        if claims.get("iss") != iss or claims.get("sub") != sub or claims.get("aud") != FEDERATED_AUDIENCE \
                or not isinstance(claims.get("exp"), int) or claims["exp"] < time.time():
            return None, (401, aad_error("invalid_client", 700213, "No matching federated identity "
                                         "record found for presented assertion."), "assertion claims")
        return client, None

    def check_certificate(self, client, assertion):
        """A certificate credential's assertion, as Microsoft documents it
        ("Microsoft identity platform application authentication certificate
        credentials"): header x5t = base64url(SHA-1 of the DER certificate),
        RS256 with the certificate's key; aud = this token endpoint, iss = sub
        = the client id, a jti, nbf <= now < exp."""
        import base64
        import hashlib

        from cryptography.hazmat.primitives import serialization
        cert = self.certs[client]
        refused = None, (401, aad_error("invalid_client", 700027, "Client assertion failed signature "
                                        "validation."), "certificate assertion")
        try:
            header, claims = jwt_rs256.verify(assertion, cert.public_key())
        except ValueError:
            return refused
        der = cert.public_bytes(serialization.Encoding.DER)
        x5t = base64.urlsafe_b64encode(hashlib.sha1(der).digest()).rstrip(b"=").decode()
        now = time.time()
        if header.get("x5t") != x5t or claims.get("aud") != f"{self.url}{self.prefix}/{self.tenant}/oauth2/v2.0/token" \
                or claims.get("iss") != client or claims.get("sub") != client or not claims.get("jti") \
                or not claims.get("nbf", now + 1) <= now + 60 or not now < claims.get("exp", 0) <= now + 3600:
            return refused
        return client, None

    def access_token(self, client, tenant=None):
        now = int(time.time())
        token = jwt_rs256.encode({"aud": ACR_AUDIENCE, "iss": f"https://sts.windows.net/{tenant or self.tenant}/",
                                  "tid": tenant or self.tenant, "appid": client, "oid": secrets.token_hex(8),
                                  "iat": now, "nbf": now, "exp": now + 3599}, self.key, kid=secrets.token_hex(8))
        with self.lock:
            self.issued.append(token)
        return token

    def handle(self, h, method, path, body):
        if method != "POST" or not path.startswith(self.prefix + "/") or \
                not path.endswith("/oauth2/v2.0/token") or path.count("/") != 4 + self.prefix.count("/"):
            self._record(path, "not found")
            return h.send(404, b"Not Found", "text/html")
        if path != f"{self.prefix}/{self.tenant}/oauth2/v2.0/token":
            self._record(path, "unknown tenant")
            return h.send(400, aad_error("invalid_request", 90002, f"Tenant '{path.split('/')[1]}' not "
                                         "found."))
        outcome = self._next()
        if outcome == "echo200":
            self._record(path, outcome)
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            field = "client_assertion" if "client_assertion" in form else "client_secret"
            return h.send(401, aad_error("invalid_client", 700027, (field + "=" + form.get(field, [""])[0])[:200]))
        client, refused = self.check(h.headers, body)
        self._record(path, refused[2] if refused else outcome)
        if refused:
            return h.send(refused[0], refused[1])
        if outcome.startswith("429ra:"):
            return h.send(429, aad_error("temporarily_unavailable", 50196, "throttled"), None,
                          [("Retry-After", outcome[6:])])
        if outcome == "500":
            return h.send(500, aad_error("temporarily_unavailable", 50001, "try again"))
        if outcome == "notjson":
            return h.send(200, b"<html>gateway timeout</html>", "text/html")
        now = int(time.time())
        token = jwt_rs256.encode({"aud": ACR_AUDIENCE, "iss": f"https://sts.windows.net/{self.tenant}/",
                                  "tid": self.tenant, "appid": client, "oid": secrets.token_hex(8),
                                  "iat": now, "nbf": now, "exp": now + 3599}, self.key,
                                 kid=secrets.token_hex(8))
        with self.lock:
            self.issued.append(token)
        return h.send(200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                            "access_token": token})


class AcrServer(_Base):
    """A registry's token exchange at .url, fronting .upstream for /v2/."""

    def __init__(self, tenant, aad_public_key, lifetime=10800, script=()):
        super().__init__(script)
        self.tenant = tenant
        self.aad_public_key = aad_public_key
        self.upstream = None
        self.proxied = []       # (method, path, status) of registry requests passed on
        self.key = jwt_rs256.new_key()
        self.refresh_exp = int(time.time()) + lifetime
        # a random kid early in the token: the registry's bcrypt sees only 72 bytes
        self.refresh_token = jwt_rs256.encode({
            "jti": secrets.token_hex(16), "sub": NULL_USER, "nbf": int(time.time()), "exp": self.refresh_exp,
            "iat": int(time.time()), "iss": "Azure Container Registry", "aud": self.host,
            "version": "1.0", "grant_type": "refresh_token", "tenant": tenant}, self.key,
            kid=secrets.token_hex(12))

    def check(self, headers, body):
        form = parse_form(headers, body, ["grant_type", "service", "tenant", "access_token"])
        if form is None:
            return "form fields"
        if form["grant_type"] != "access_token":
            return "grant_type"
        if form["service"] != self.host:
            return f"service {form['service']!r}"
        if form["tenant"] != self.tenant:
            return "tenant"
        try:
            _, claims = jwt_rs256.verify(form["access_token"], self.aad_public_key)
        except ValueError as e:
            return f"access_token: {e}"
        if claims.get("aud") != ACR_AUDIENCE or claims.get("tid") != self.tenant or \
                claims.get("exp", 0) < time.time():
            return "access_token claims"
        return None

    def handle(self, h, method, path, body):
        if path.startswith("/v2"):
            return self.proxy(h, method, body)
        if method != "POST" or path != "/oauth2/exchange":
            self._record(path, "not found")
            return h.send(404, {"errors": [{"code": "NOT_FOUND", "message": "not found"}]})
        outcome = self._next()
        if outcome == "echo200":
            self._record(path, outcome)
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            text = ("access_token=" + form.get("access_token", [""])[0])[:200]
            return h.send(401, {"errors": [{"code": "UNAUTHORIZED", "message": text}]})
        refused = self.check(h.headers, body)
        self._record(path, refused or outcome)
        if refused or outcome == "401":
            return h.send(401, {"errors": [{"code": "UNAUTHORIZED", "message":
                                            "authentication required, visit https://aka.ms/acr/authorization "
                                            "for more information."}]})
        if outcome == "500":
            return h.send(500, {"errors": [{"code": "UNKNOWN", "message": "internal error"}]})
        if outcome == "notjson":
            return h.send(200, b"<html>upstream connect error</html>", "text/html")
        if outcome == "norefresh":
            return h.send(200, {"access_token": "not-what-was-asked"})
        return h.send(200, {"refresh_token": self.refresh_token})

    def proxy(self, h, method, body):
        """Pass a registry request on, Host header and all (the registry builds
        upload Locations from it, so they point back here)."""
        headers = {k: v for k, v in h.headers.items() if k.lower() not in HOP}
        conn = http.client.HTTPConnection(self.upstream, timeout=60)
        try:
            send_body = body if (body or method in ("PUT", "POST", "PATCH")) else None
            conn.request(method, h.path, body=send_body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        with self.lock:
            self.proxied.append((method, urllib.parse.urlsplit(h.path).path, resp.status))
        h.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in HOP | {"date", "server"}:
                h.send_header(k, v)
        h.send_header("Content-Length", resp.getheader("Content-Length", "0") if method == "HEAD"
                      else str(len(data)))
        h.end_headers()
        if method != "HEAD":
            h.wfile.write(data)


class ManagedIdentity(LocalServer):
    """Azure's managed identity endpoints, tokens signed by `aad` (so the
    AcrServer trusting it takes them):
      kind "imds": GET /metadata/identity/oauth2/token?api-version=2018-02-01
        &resource=R[&client_id=C] with header Metadata: true and no
        X-Forwarded-For (learn.microsoft.com .../how-to-use-vm-token);
      kind "appservice": GET /msi/token?resource=R&api-version=2019-08-01
        [&client_id=C] with X-IDENTITY-HEADER equal to .header (.../app-service/
        overview-managed-identity). Replies: access_token, expires_on (epoch
        seconds as a string), resource, token_type; IMDS adds expires_in.
    `identities` maps client ids of user-assigned identities to app ids; None
    is the system-assigned one."""

    def __init__(self, aad, kind="imds", identities=None, **kw):
        super().__init__(**kw)
        self.aad, self.kind = aad, kind
        self.identities = identities if identities is not None else {None: "system-assigned"}
        self.header = "idh-" + secrets.token_hex(16)

    @property
    def endpoint(self):
        return self.url + "/msi/token" if self.kind == "appservice" else self.url

    def _handler(self):
        server = self

        class Handler(LocalHandler):
            def do_GET(self):
                parts = urllib.parse.urlsplit(self.path)
                q = urllib.parse.parse_qs(parts.query)
                server._record("GET", self.path, dict(self.headers))
                one = {k: v[0] for k, v in q.items() if len(v) == 1}
                if server.kind == "imds":
                    if parts.path != "/metadata/identity/oauth2/token":
                        return self.send(404, {"error": "not_found"})
                    if self.headers.get("Metadata") != "true" or self.headers.get("X-Forwarded-For"):
                        return self.send(400, {"error": "invalid_request", "error_description":
                                               "Required metadata header not specified"})
                    version = "2018-02-01"
                else:
                    if parts.path != "/msi/token":
                        return self.send(404, {"error": "not_found"})
                    if self.headers.get("X-IDENTITY-HEADER") != server.header:
                        return self.send(401, {"error": "unauthorized"})
                    version = "2019-08-01"
                if one.get("api-version") != version or one.get("resource") != ACR_AUDIENCE or \
                        set(q) - {"api-version", "resource", "client_id"}:
                    return self.send(400, {"error": "invalid_request", "error_description": "bad query"})
                client = one.get("client_id")
                if client not in server.identities:
                    return self.send(400, {"error": "invalid_request", "error_description":
                                           "Identity not found"})
                token = server.aad.access_token(server.identities[client])
                exp = str(int(time.time()) + 3599)
                reply = {"access_token": token, "expires_on": exp, "resource": ACR_AUDIENCE, "token_type": "Bearer"}
                if server.kind == "imds":
                    reply.update({"expires_in": "3599", "ext_expires_in": "3599", "not_before": exp})
                self.send(200, reply)

        return Handler
