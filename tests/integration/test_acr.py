"""dcgen's acr provider against a local Azure AD token endpoint and ACR token
exchange (tests/peers/azure_server.py) that check the documented form fields
and verify tokens with `cryptography`: service principal, workload identity,
admin user, refusals (never echoing a secret), bad replies and bad input."""
import os
import sys
import time

import peers

sys.path.insert(0, os.path.join(peers.HERE, "..", "peers"))
import jwt_rs256  # noqa: E402
from azure_server import NULL_USER, AadServer, AcrServer  # noqa: E402

TENANT = "5f3a1c2e-8b7d-4e6f-9a0b-1c2d3e4f5a6b"
CLIENT = "0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e"
WI_CLIENT = "9e8d7c6b-5a4f-3e2d-1c0b-a9b8c7d6e5f4"
# characters a form body must escape, to prove the escaping
SECRET = "Q8~x+y/z=w&v%u?t#s s.dcgen-secret"
ISSUER = "https://oidc.dcgen.test/cluster"
SUBJECT = "system:serviceaccount:ci:dcgen"


class AcrCase(peers.DcgenCase):
    def setUp(self):
        super().setUp()
        self.issuer_key = jwt_rs256.new_key()
        self.aad = AadServer(TENANT, {CLIENT: SECRET},
                             {WI_CLIENT: (ISSUER, SUBJECT, self.issuer_key.public_key())}).start()
        self.addCleanup(self.aad.close)
        self.acr = AcrServer(TENANT, self.aad.public_key).start()
        self.addCleanup(self.acr.close)
        self.token_file = os.path.join(self.dir, "azure-identity-token")
        self.federated = self.federated_token(self.issuer_key)
        with open(self.token_file, "w") as f:
            f.write(self.federated + "\n")

    def federated_token(self, key, **claims):
        now = int(time.time())
        return jwt_rs256.encode(dict({"iss": ISSUER, "sub": SUBJECT, "aud": "api://AzureADTokenExchange",
                                      "iat": now, "nbf": now, "exp": now + 3600}, **claims), key, kid="k8s")

    def env(self, **extra):
        return peers.env({"AZURE_REGISTRY": self.acr.url, "AZURE_AUTHORITY_HOST": self.aad.url,
                          "AZURE_CLIENT_ID": CLIENT, "AZURE_TENANT_ID": TENANT, "AZURE_CLIENT_SECRET": SECRET},
                         **extra)

    def wi_env(self, **extra):
        return self.env(**dict({"AZURE_CLIENT_SECRET": None, "AZURE_CLIENT_ID": WI_CLIENT,
                                "AZURE_FEDERATED_TOKEN_FILE": self.token_file}, **extra))

    def run_dcgen(self, env, *args):
        r = peers.run(list(args) + [self.path], env, [SECRET, self.federated, self.acr.refresh_token])
        for token in self.aad.issued:
            self.assertNotIn(token, r.err)
            self.assertNotIn(token.split(".")[2], r.err)
        return r

    def assert_token_written(self, r):
        self.assertEqual(r.rc, 0, r.err)
        auths = self.read()["auths"]
        self.assertEqual(list(auths), [self.acr.host])
        self.assertEqual(peers.decode_auth(auths[self.acr.host]), (NULL_USER, self.acr.refresh_token))
        self.assertEqual(peers.expiry_of(r.err), self.acr.refresh_exp, r.err)
        self.assertEqual(self.acr.requests, [("/oauth2/exchange", "ok")])
        self.assertEqual(os.stat(self.path).st_mode & 0o777, 0o600)


class ServicePrincipal(AcrCase):
    def test_secret_exchanged_for_refresh_token(self):
        r = self.run_dcgen(self.env())
        self.assert_token_written(r)
        self.assertEqual(self.aad.requests, [(f"/{TENANT}/oauth2/v2.0/token", "ok")])

    def test_trailing_slashes_and_verbose(self):
        r = self.run_dcgen(self.env(AZURE_REGISTRY=self.acr.url + "/", AZURE_AUTHORITY_HOST=self.aad.url + "/"),
                           "-v")
        self.assert_token_written(r)
        self.assertIn("client secret", r.err)

    def test_cache_serves_the_next_job(self):
        cache = os.path.join(self.dir, "cache")
        r = self.run_dcgen(self.env(DCGEN_CACHE_DIR=cache))
        self.assert_token_written(r)
        self.assertIn("from upstream", r.err)
        os.unlink(self.path)
        r = self.run_dcgen(self.env(DCGEN_CACHE_DIR=cache))
        self.assert_token_written(r)
        self.assertIn("from cache", r.err)
        self.assertEqual(len(self.aad.requests), 1)
        for name in os.listdir(cache):
            with open(os.path.join(cache, name), "rb") as f:
                self.assertNotIn(self.acr.refresh_token.encode(), f.read())

    def test_wrong_client_secret(self):
        r = self.run_dcgen(self.env(AZURE_CLIENT_SECRET="not-the-secret-0123456789"))
        self.assert_failed_cleanly(r, 1, "Azure AD refused", "invalid_client", "AADSTS7000215",
                                   "check AZURE_CLIENT_SECRET")
        self.assertNotIn("not-the-secret-0123456789", r.err)
        self.assertNotIn("Trace ID", r.err)
        self.assertEqual(self.acr.requests, [])

    def test_unknown_client(self):
        r = self.run_dcgen(self.env(AZURE_CLIENT_ID="11111111-2222-3333-4444-555555555555"))
        self.assert_failed_cleanly(r, 1, "unauthorized_client", "check AZURE_CLIENT_ID and AZURE_TENANT_ID")

    def test_unknown_tenant(self):
        r = self.run_dcgen(self.env(AZURE_TENANT_ID="contoso.onmicrosoft.com"))
        self.assert_failed_cleanly(r, 1, "AADSTS90002", "AZURE_TENANT_ID")

    def test_exchange_refused(self):
        self.acr.script = ["401"]
        r = self.run_dcgen(self.env())
        self.assert_failed_cleanly(r, 1, "refused the token exchange", "HTTP 401", "UNAUTHORIZED", "AcrPull")

    def test_aad_reply_not_json(self):
        self.aad.script = ["notjson"]
        r = self.run_dcgen(self.env())
        self.assert_failed_cleanly(r, 1, "Azure AD", "not a JSON object")

    def test_exchange_reply_not_json(self):
        self.acr.script = ["notjson"]
        r = self.run_dcgen(self.env())
        self.assert_failed_cleanly(r, 1, "ACR", "not a JSON object")

    def test_exchange_reply_without_refresh_token(self):
        self.acr.script = ["norefresh"]
        r = self.run_dcgen(self.env())
        self.assert_failed_cleanly(r, 1, "without a refresh_token")

    def test_retries(self):
        self.aad.script = ["500"]
        self.acr.script = ["500", "500"]
        r = self.run_dcgen(self.env())
        self.assertEqual(r.rc, 0, r.err)
        self.assertEqual([o for _, o in self.acr.requests], ["500", "500", "ok"])

    def test_registry_that_is_not_acr(self):
        r = self.run_dcgen(self.env(AZURE_REGISTRY=self.aad.url))
        self.assert_failed_cleanly(r, 1, "AZURE_REGISTRY")


class WorkloadIdentity(AcrCase):
    def test_federated_token_as_client_assertion(self):
        r = self.run_dcgen(self.wi_env())
        self.assert_token_written(r)
        self.assertEqual(self.aad.requests, [(f"/{TENANT}/oauth2/v2.0/token", "ok")])

    def test_token_file_through_symlink(self):
        # AKS projects the token as a symlink into a ..data directory
        os.mkdir(os.path.join(self.dir, "..data"))
        os.rename(self.token_file, os.path.join(self.dir, "..data", "azure-identity-token"))
        os.symlink("..data/azure-identity-token", self.token_file)
        r = self.run_dcgen(self.wi_env())
        self.assert_token_written(r)

    def test_token_from_another_issuer_is_refused(self):
        with open(self.token_file, "w") as f:
            f.write(self.federated_token(jwt_rs256.new_key()))
        r = self.run_dcgen(self.wi_env())
        self.assert_failed_cleanly(r, 1, "invalid_client", "AZURE_FEDERATED_TOKEN_FILE")
        self.assertEqual(self.aad.requests, [(f"/{TENANT}/oauth2/v2.0/token", "assertion: bad signature")])

    def test_missing_token_file(self):
        r = self.run_dcgen(self.wi_env(AZURE_FEDERATED_TOKEN_FILE="/nonexistent/token"))
        self.assert_failed_cleanly(r, 2, "cannot read AZURE_FEDERATED_TOKEN_FILE '/nonexistent/token'")
        self.assertEqual(self.aad.requests, [])

    def test_empty_token_file(self):
        with open(self.token_file, "w") as f:
            f.write("\n")
        r = self.run_dcgen(self.wi_env())
        self.assert_failed_cleanly(r, 2, "is empty")

    def test_workload_variables_alone_do_not_select_acr(self):
        # AKS injects these into every pod; they must not claim the job
        env = self.wi_env(AZURE_REGISTRY=None, HEROKU_API_KEY="heroku-api-key-0123")
        r = self.run_dcgen(env)
        self.assertEqual(r.rc, 0, r.err)
        self.assertEqual(list(self.read()["auths"]), ["registry.heroku.com"])


class AdminUser(AcrCase):
    def admin_env(self, **extra):
        return peers.env({"AZURE_USERNAME": "myregistry", "AZURE_PASSWORD": "admin/pass+word=0123"}, **extra)

    def test_written_as_given(self):
        for registry, host in [("myregistry", "myregistry.azurecr.io"), ("MyRegistry", "myregistry.azurecr.io"),
                               ("myregistry.azurecr.io", "myregistry.azurecr.io"),
                               ("https://myregistry.azurecr.io/", "myregistry.azurecr.io"),
                               ("http://127.0.0.1:5000", "127.0.0.1:5000")]:
            for var in ("AZURE_REGISTRY", "AZURE_REGISTRY_NAME"):
                with self.subTest(registry=registry, var=var):
                    r = peers.run([self.path], self.admin_env(**{var: registry}), ["admin/pass+word=0123"])
                    self.assertEqual(r.rc, 0, r.err)
                    auths = self.read()["auths"]
                    self.assertEqual(list(auths), [host])
                    self.assertEqual(peers.decode_auth(auths[host]), ("myregistry", "admin/pass+word=0123"))
                    self.assertNotIn("expires", r.err)
        self.assertEqual(self.aad.requests + self.acr.requests, [])


class BadInput(AcrCase):
    """Configuration errors: exit 2 before any request, nothing written."""

    def check(self, env, *texts):
        r = self.run_dcgen(env)
        self.assert_failed_cleanly(r, 2, *texts)
        self.assertEqual(self.aad.requests + self.acr.requests, [])

    def test_no_registry(self):
        self.check(self.env(AZURE_REGISTRY=None), "AZURE_REGISTRY is not set")

    def test_bad_registries(self):
        self.check(self.env(AZURE_REGISTRY="ftp://myregistry.azurecr.io"), "not an https URL")
        self.check(self.env(AZURE_REGISTRY="http://myregistry.azurecr.io"), "plain http to another machine")
        self.check(self.env(AZURE_REGISTRY="my_registry"), "not a registry name")
        self.check(self.env(AZURE_REGISTRY="https://"), "names no host")

    def test_bad_authority(self):
        self.check(self.env(AZURE_AUTHORITY_HOST="http://login.example.com"), "AZURE_AUTHORITY_HOST")

    def test_missing_ids(self):
        self.check(self.env(AZURE_CLIENT_ID=None), "AZURE_CLIENT_ID is not set")
        self.check(self.env(AZURE_TENANT_ID=None), "AZURE_TENANT_ID is not set")
        self.check(self.env(AZURE_TENANT_ID="../evil"), "AZURE_TENANT_ID is '../evil'")

    def test_no_secret_at_all(self):
        # then a managed identity is the last resort: IMDS (a closed local
        # port here) does not answer, and one line names every source
        self.check(self.env(AZURE_CLIENT_SECRET=None),
                   "no Azure credentials: environment: AZURE_CLIENT_SECRET and AZURE_CLIENT_CERTIFICATE_PATH are not set; "
                   "workload identity: AZURE_FEDERATED_TOKEN_FILE is not set; GitHub Actions OIDC token:")

    def test_admin_and_service_principal(self):
        self.check(self.env(AZURE_USERNAME="u", AZURE_PASSWORD="p4ssw0rd"), "unset one of them")

    def test_half_an_admin_user(self):
        self.check(self.env(AZURE_CLIENT_SECRET=None, AZURE_USERNAME="myregistry"), "AZURE_PASSWORD is not")
        self.check(self.env(AZURE_CLIENT_SECRET=None, AZURE_PASSWORD="p4ssw0rd"), "AZURE_USERNAME is not")


if __name__ == "__main__":
    peers.main()
