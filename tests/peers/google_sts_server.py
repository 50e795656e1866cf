"""Local stand-ins for Google's Security Token Service, the IAM credentials
API and the OAuth refresh-token grant, checked as Google documents them
(cloud.google.com/iam/docs/reference/sts/rest/v1/TopLevel/token,
.../credentials/rest/v1/projects.serviceAccounts/generateAccessToken,
developers.google.com/identity/protocols/oauth2 "Refreshing an access token").

  POST /v1/token     form with exactly grant_type=urn:ietf:params:oauth:grant-
                     type:token-exchange, audience, scope, requested_token_type=
                     urn:ietf:params:oauth:token-type:access_token, subject_token,
                     subject_token_type (options allowed); the audience must be a
                     registered provider and `verify(subject_token)` of that provider
                     must accept the token. Answers {access_token, issued_token_type,
                     token_type: Bearer, expires_in}: .token for a provider without
                     impersonation, a fresh federated token for one with.
  POST /v1/projects/-/serviceAccounts/EMAIL:generateAccessToken
                     Authorization: Bearer <a federated token this server issued>,
                     JSON {"scope": [... cloud-platform ...], "lifetime"?: "Ns"};
                     EMAIL must be the provider's service account. Answers
                     {accessToken: .token, expireTime: RFC 3339}.
  POST /token        the refresh-token grant: exactly grant_type=refresh_token,
                     client_id, client_secret, refresh_token matching .users.
.token is what a registry takes (user oauth2accesstoken).
"""
import json
import secrets
import time
import urllib.parse

from localserver import LocalHandler, LocalServer

EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS = "urn:ietf:params:oauth:token-type:access_token"
CLOUD = "https://www.googleapis.com/auth/cloud-platform"


def form_of(handler, body, required, optional=()):
    if handler.headers.get("Content-Type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        return None
    try:
        form = urllib.parse.parse_qs(body.decode(), keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return None
    if any(len(v) != 1 for v in form.values()) or not set(required) <= set(form) or \
            set(form) - set(required) - set(optional):
        return None
    return {k: v[0] for k, v in form.items()}


class GoogleFederation(LocalServer):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.token = "ya29.dcgen-fed-" + secrets.token_hex(16)
        self.providers = {}    # audience -> (verify, service account email or None)
        self.users = {}        # client id -> (client secret, refresh token)
        self.federated = set()
        self.subjects = []     # subject tokens accepted

    def add_provider(self, audience, verify, service_account=None):
        self.providers[audience] = (verify, service_account)

    def _handler(self):
        server = self

        class Handler(LocalHandler):
            def error(self, status, code, text):
                return self.send(status, {"error": code, "error_description": text})

            def do_POST(self):
                body = self.body()
                path = urllib.parse.urlsplit(self.path).path
                server._record("POST", path, dict(self.headers), body)
                if path == "/v1/token":
                    return self.sts(body)
                if path.startswith("/v1/projects/-/serviceAccounts/") and path.endswith(":generateAccessToken"):
                    return self.generate(path, body)
                if path == "/token":
                    return self.refresh(body)
                return self.send(404, {"error": {"code": 404, "status": "NOT_FOUND"}})

            def sts(self, body):
                form = form_of(self, body, ["grant_type", "audience", "scope", "requested_token_type",
                                            "subject_token", "subject_token_type"], ["options"])
                if form is None:
                    return self.error(400, "invalid_request", "bad form")
                if form["grant_type"] != EXCHANGE or form["requested_token_type"] != ACCESS:
                    return self.error(400, "unsupported_grant_type", "grant or requested type")
                if CLOUD not in form["scope"].split(" "):
                    return self.error(400, "invalid_scope", "scope")
                if form["audience"] not in server.providers:
                    return self.error(400, "invalid_target", "The target service indicated by the audience is invalid")
                verify, sa = server.providers[form["audience"]]
                try:
                    verify(form["subject_token"], form["subject_token_type"])
                except ValueError as e:
                    return self.error(400, "invalid_grant", f"subject token: {e}")
                server.subjects.append(form["subject_token"])
                tok = server.token
                if sa:
                    tok = "ya29.federated-" + secrets.token_hex(24)
                    server.federated.add(tok)
                self.send(200, {"access_token": tok, "issued_token_type": ACCESS, "token_type": "Bearer",
                                "expires_in": 3600})

            def generate(self, path, body):
                email = urllib.parse.unquote(path.split("/serviceAccounts/")[1].split(":")[0])
                auth = self.headers.get("Authorization", "")
                if not auth.startswith("Bearer ") or auth[7:] not in server.federated:
                    return self.send(401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}})
                if email not in [sa for _, sa in server.providers.values()]:
                    return self.send(403, {"error": {"code": 403, "status": "PERMISSION_DENIED"}})
                try:
                    req = json.loads(body)
                except ValueError:
                    return self.send(400, {"error": {"code": 400, "status": "INVALID_ARGUMENT"}})
                if self.headers.get("Content-Type", "").split(";")[0] != "application/json" or \
                        CLOUD not in req.get("scope", []) or set(req) - {"scope", "lifetime", "delegates"}:
                    return self.send(400, {"error": {"code": 400, "status": "INVALID_ARGUMENT"}})
                exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
                self.send(200, {"accessToken": server.token, "expireTime": exp})

            def refresh(self, body):
                form = form_of(self, body, ["grant_type", "client_id", "client_secret", "refresh_token"])
                if form is None or form["grant_type"] != "refresh_token":
                    return self.error(400, "invalid_request", "bad form")
                if server.users.get(form["client_id"]) != (form["client_secret"], form["refresh_token"]):
                    return self.error(400, "invalid_grant", "Token has been expired or revoked.")
                self.send(200, {"access_token": server.token, "expires_in": 3599, "token_type": "Bearer",
                                "scope": CLOUD})

        return Handler
