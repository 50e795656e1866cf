"""The test peers are oracles, so they are tested too: each accepts what the
real service accepts, judged by a third-party implementation of the protocol,
not by a copy of dcgen's reading of it.

Google  the token endpoint (tests/peers/google_server.py) verifies assertions
        with joserfc. Here joserfc also MAKES them: shapes dcgen does not send
        but Google accepts (a sub claim, another claim order, no kid, a shorter
        lifetime, several scopes) get a token; a wrong key, a kid of another
        key, a lifetime over an hour, a missing scope claim, or another
        audience are refused with Google's errors.
AWS     SigV4 is checked by moto with botocore (test_ecr_moto.py), no oracle
        of ours.
Azure   Microsoft's client library (msal) is not installed on the machines
        this suite runs on (no PyPI), so the Azure AD peer checks the form
        fields against the published protocol ("Microsoft identity platform
        and the OAuth 2.0 client credentials flow": grant_type, client_id,
        scope, and client_secret or client_assertion_type + client_assertion)
        and its JWTs are checked by joserfc here.
"""
import json
import os
import sys
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

from joserfc import jwt
from joserfc.jwk import RSAKey

import peers

sys.path.insert(0, os.path.join(peers.HERE, "..", "peers"))
import jwt_rs256  # noqa: E402
from google_server import SCOPE, GoogleServer  # noqa: E402

EMAIL = "oracle@dcgen-test.iam.gserviceaccount.com"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def joserfc_key(key_file):
    return RSAKey.import_key(key_file["private_key"])


class GooglePeerAcceptsWhatGoogleAccepts(unittest.TestCase):
    def setUp(self):
        self.srv = GoogleServer().start()
        self.addCleanup(self.srv.close)
        self.key = self.srv.add_account(EMAIL, "dcgen-test")

    def post(self, assertion, grant=GRANT):
        body = urllib.parse.urlencode({"grant_type": grant, "assertion": assertion}).encode()
        req = urllib.request.Request(self.srv.token_uri, body,
                                     {"Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.load(r)
        except urllib.error.HTTPError as e:
            return e.code, json.load(e)

    def assertion(self, claims=None, header=None, key=None, drop=()):
        now = int(time.time())
        c = {"iss": EMAIL, "scope": SCOPE, "aud": self.srv.token_uri, "iat": now, "exp": now + 3600}
        c.update(claims or {})
        for name in drop:
            c.pop(name)
        h = {"alg": "RS256", "typ": "JWT", "kid": self.key["private_key_id"]}
        h.update(header or {})
        h = {k: v for k, v in h.items() if v is not None}
        return jwt.encode(h, c, key or joserfc_key(self.key))

    def assert_token(self, assertion):
        status, reply = self.post(assertion)
        self.assertEqual(status, 200, (reply, self.srv.requests))
        self.assertEqual(reply["access_token"], self.srv.token)

    def assert_refused(self, assertion, error, reason):
        status, reply = self.post(assertion)
        self.assertEqual(status, 400, reply)
        self.assertEqual(reply["error"], error, reply)
        self.assertEqual(self.srv.requests[-1][0], "/token")
        self.assertTrue(self.srv.requests[-1][1].startswith(reason), self.srv.requests[-1])

    def test_the_documented_shape(self):
        self.assert_token(self.assertion())

    def test_extra_claims_and_another_order(self):
        now = int(time.time())
        reordered = {"exp": now + 600, "sub": "admin@example.com", "aud": self.srv.token_uri,
                     "scope": "https://www.googleapis.com/auth/devstorage.read_only " + SCOPE,
                     "iat": now, "iss": EMAIL, "jti": "x1"}
        self.assert_token(jwt.encode({"alg": "RS256"}, reordered, joserfc_key(self.key)))
        self.assertEqual(self.srv.claims[-1]["sub"], "admin@example.com")

    def test_no_kid_no_typ(self):
        self.assert_token(self.assertion(header={"kid": None, "typ": None}))

    def test_another_key_is_a_bad_signature(self):
        other = RSAKey.import_key(jwt_rs256.private_pem(jwt_rs256.new_key()))
        status, reply = self.post(self.assertion(key=other))
        self.assertEqual((status, reply["error_description"]), (400, "Invalid JWT Signature."))
        self.assertEqual(self.srv.requests[-1], ("/token", "bad signature"))

    def test_kid_of_another_key(self):
        self.assert_refused(self.assertion(header={"kid": "0" * 40}), "invalid_grant", "header")

    def test_lifetime_over_an_hour(self):
        now = int(time.time())
        self.assert_refused(self.assertion({"iat": now, "exp": now + 3601}), "invalid_grant", "iat/exp")

    def test_expired(self):
        now = int(time.time())
        self.assert_refused(self.assertion({"iat": now - 4000, "exp": now - 400}), "invalid_grant", "iat/exp")

    def test_no_scope(self):
        self.assert_refused(self.assertion(drop=["scope"]), "invalid_scope", "scope")

    def test_another_audience(self):
        self.assert_refused(self.assertion({"aud": "https://oauth2.googleapis.com/token"}),
                            "invalid_grant", "aud")


class DcgenAssertionVerifiedByJoserfc(peers.DcgenCase):
    """dcgen's own assertion, decoded and checked by joserfc outside the peer."""

    def test_dcgen_assertion(self):
        srv = GoogleServer().start()
        self.addCleanup(srv.close)
        key = srv.add_account(EMAIL, "dcgen-test")
        r = peers.run([self.path], peers.env({"GOOGLE_AUTH_JSON": json.dumps(key)}),
                      secrets=[srv.token, key["private_key"]])
        self.assertEqual(r.rc, 0, r.err)
        self.assertEqual(len(srv.assertions), 1)
        public = RSAKey.import_key(joserfc_key(key).as_pem(private=False))
        token = jwt.decode(srv.assertions[0], public, algorithms=["RS256"])
        self.assertEqual(token.header.get("kid"), key["private_key_id"])
        jwt.JWTClaimsRegistry(leeway=60, iss={"essential": True, "value": EMAIL},
                              aud={"essential": True, "value": srv.token_uri},
                              scope={"essential": True, "value": SCOPE},
                              iat={"essential": True}, exp={"essential": True}).validate(token.claims)
        self.assertLessEqual(token.claims["exp"] - token.claims["iat"], 3600)


if __name__ == "__main__":
    peers.main()
