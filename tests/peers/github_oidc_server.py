"""The GitHub Actions OIDC token endpoint, as actions/toolkit's oidc-utils.ts
calls it: GET ACTIONS_ID_TOKEN_REQUEST_URL&audience=AUD with Authorization:
Bearer ACTIONS_ID_TOKEN_REQUEST_TOKEN; answers {"count": 1, "value": JWT}.
The JWT is a real RS256 token (iss https://token.actions.githubusercontent.com,
aud, sub, iat, nbf, exp), signed with this server's key so the STS and Azure
AD stand-ins can verify it with `cryptography` as the clouds do.

  GithubOidc(sub)      .request_url, .request_token: the job's two variables
                       .verify(token, audience) -> claims (ValueError if not)
                       .issued: every JWT handed out
"""
import secrets
import time
from urllib.parse import parse_qs, urlsplit

import jwt_rs256
from localserver import LocalHandler, LocalServer

ISSUER = "https://token.actions.githubusercontent.com"


class GithubOidc(LocalServer):
    """GitHub's ID token endpoint: ACTIONS_ID_TOKEN_REQUEST_URL is .request_url,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN is .request_token; .issued lists the JWTs."""

    def __init__(self, sub="repo:dcgen/dcgen:ref:refs/heads/main", **kw):
        super().__init__(**kw)
        self.key = jwt_rs256.new_key()
        self.sub = sub
        self.request_token = "ghs_" + secrets.token_urlsafe(30)
        self.issued = []

    @property
    def request_url(self):
        return f"{self.url}/_apis/distributedtask/hubs/build/plans/p/jobs/j/idtoken?api-version=2.0"

    def verify(self, token, audience):
        """The claims of a JWT this endpoint issued for `audience` (ValueError if not)."""
        _, claims = jwt_rs256.verify(token, self.key.public_key())
        if claims.get("aud") != audience or claims.get("iss") != ISSUER:
            raise ValueError(f"wrong audience or issuer: {claims}")
        return claims

    def _handler(self):
        server = self

        class Handler(LocalHandler):
            def do_GET(self):
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                server._record("GET", self.path, dict(self.headers))
                if self.headers.get("Authorization") != f"Bearer {server.request_token}":
                    return self.send(401, {"message": "Bad credentials"})
                if query.get("api-version") != ["2.0"] or len(query.get("audience", [])) != 1:
                    return self.send(400, {"message": "api-version and one audience wanted"})
                now = int(time.time())
                tok = jwt_rs256.encode({"iss": ISSUER, "aud": query["audience"][0], "sub": server.sub,
                                        "iat": now, "nbf": now, "exp": now + 300,
                                        "repository": "dcgen/dcgen"}, server.key, kid="gh1")
                server.issued.append(tok)
                self.send(200, {"count": 1, "value": tok})

        return Handler
