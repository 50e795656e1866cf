"""The Google credential chain end to end: workload identity federation
(external_account with a file, URL or executable subject token; with and
without service-account impersonation), GitHub Actions workload identity
from variables, and an authorized user in gcloud's ADC file, each writing a
gcr.io token that a docker-registry accepts from skopeo.

tests/peers/google_sts_server.py checks the STS exchange, generateAccessToken
and the refresh grant as Google documents them; the GitHub OIDC endpoint
(github_oidc_server.GithubOidc) signs real JWTs that STS verifies."""
import json
import os
import shutil
import sys
import tempfile
import unittest

import peers

sys.path.insert(0, os.path.join(peers.HERE, "..", "peers"))
from github_oidc_server import GithubOidc  # noqa: E402
from google_sts_server import GoogleFederation  # noqa: E402

PROVIDER = "projects/123456789/locations/global/workloadIdentityPools/ci/providers/github"
PLAIN = "//iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/k8s/providers/cluster"
GHA = "//iam.googleapis.com/" + PROVIDER
SA = "pusher@dcgen-test.iam.gserviceaccount.com"
JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt"
FILE_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6Y2kifQ.c2lnbmF0dXJl"
CLIENT_ID = "764086051850-6qr4p6gpi6hn506pt8ejuq83di341hur.apps.googleusercontent.com"
REFRESH = "1//0gdcgen-refresh-token-0123456789"
USER_SECRET = "d-FL95Q19q7MQmFpd7hHD0Ty"


class GoogleChain(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        peers.need("docker-registry", "htpasswd", "skopeo")
        cls.gh = GithubOidc().start()
        cls.fed = GoogleFederation().start()

        def file_token(tok, kind):
            if tok != FILE_TOKEN or kind != JWT_TYPE:
                raise ValueError("not the file's token")
        cls.fed.add_provider(PLAIN, file_token)
        cls.fed.add_provider(GHA, lambda tok, kind: cls.gh.verify(tok, "https://iam.googleapis.com/" + PROVIDER), SA)
        cls.fed.users[CLIENT_ID] = (USER_SECRET, REFRESH)
        cls.registry = peers.Registry({"oauth2accesstoken": cls.fed.token})

    @classmethod
    def tearDownClass(cls):
        for s in (cls.registry, cls.fed, cls.gh):
            s.close()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="dcgen-gchain-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def file(self, name, doc):
        p = os.path.join(self.dir, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(doc if isinstance(doc, str) else json.dumps(doc))
        return p

    def external(self, source, audience=PLAIN, impersonate=None, **extra):
        doc = {"type": "external_account", "audience": audience, "subject_token_type": JWT_TYPE,
               "token_url": f"{self.fed.url}/v1/token", "credential_source": source}
        if impersonate:
            doc["service_account_impersonation_url"] = \
                f"{self.fed.url}/v1/projects/-/serviceAccounts/{impersonate}:generateAccessToken"
        doc.update(extra)
        return self.file("external.json", doc)

    def generate(self, env, secrets=()):
        path = os.path.join(self.dir, "config.json")
        r = peers.run(["-v", path], peers.env({"DCGEN_PROVIDER": "gcr", "HOME": self.dir}, **env),
                      [self.fed.token, self.gh.request_token, REFRESH, USER_SECRET, FILE_TOKEN, *self.gh.issued,
                       *secrets])
        return r, path

    def assert_pushes(self, r, path, source):
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn(f"Google token from {source}", r.err)
        with open(path) as f:
            auths = json.load(f)["auths"]
        self.assertEqual(peers.decode_auth(auths["gcr.io"]), ("oauth2accesstoken", self.fed.token))
        moved = self.file("moved.json", {"auths": {self.registry.host: auths["gcr.io"]}})
        p = peers.skopeo_push(moved, self.registry.host, "gcr/app:1")
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_external_account_file_source(self):
        token = self.file("sa-token", FILE_TOKEN + "\n")
        cred = self.external({"file": token, "format": {"type": "text"}})
        r, path = self.generate({"GOOGLE_APPLICATION_CREDENTIALS": cred})
        self.assert_pushes(r, path, f"workload identity federation (GOOGLE_APPLICATION_CREDENTIALS file '{cred}', subject token from a file)")

    def test_external_account_url_source_as_the_github_action_writes_it(self):
        """google-github-actions/auth writes this file: the GitHub request URL
        with the audience, its bearer token as a header, format json 'value'."""
        cred = self.external({"url": self.gh.request_url + "&audience=" + "https://iam.googleapis.com/" + PROVIDER,
                              "headers": {"Authorization": "Bearer " + self.gh.request_token},
                              "format": {"type": "json", "subject_token_field_name": "value"}},
                             audience=GHA, impersonate=SA)
        r, path = self.generate({"GOOGLE_APPLICATION_CREDENTIALS": cred})
        self.assert_pushes(r, path, f"workload identity federation (GOOGLE_APPLICATION_CREDENTIALS file '{cred}', subject token from a URL, impersonating {SA})")
        self.assertEqual(self.fed.subjects[-1], self.gh.issued[-1])

    def test_external_account_executable_source(self):
        script = self.file("exe.py", "import json, os, time\n"
                           f"assert os.environ['GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE'] == {PLAIN!r}\n"
                           "assert os.environ['GOOGLE_EXTERNAL_ACCOUNT_INTERACTIVE'] == '0'\n"
                           "print(json.dumps({'version': 1, 'success': True, 'token_type': "
                           f"{JWT_TYPE!r}, 'id_token': {FILE_TOKEN!r}, 'expiration_time': int(time.time()) + 600}}))\n")
        cred = self.external({"executable": {"command": f"{sys.executable} {script}", "timeout_millis": 5000}})
        r, path = self.generate({"GOOGLE_APPLICATION_CREDENTIALS": cred})
        self.assertEqual(r.rc, 2, r.err)
        self.assertIn("GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES=1", r.err)
        r, path = self.generate({"GOOGLE_APPLICATION_CREDENTIALS": cred, "GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES": "1"})
        self.assert_pushes(r, path, f"workload identity federation (GOOGLE_APPLICATION_CREDENTIALS file '{cred}', subject token from an executable)")

    def test_github_actions_variables(self):
        r, path = self.generate({"GOOGLE_WORKLOAD_IDENTITY_PROVIDER": PROVIDER, "GOOGLE_SERVICE_ACCOUNT": SA,
                                 "DCGEN_GOOGLE_STS_URL": f"{self.fed.url}/v1/token",
                                 "DCGEN_GOOGLE_IAM_URL": self.fed.url,
                                 "ACTIONS_ID_TOKEN_REQUEST_URL": self.gh.request_url,
                                 "ACTIONS_ID_TOKEN_REQUEST_TOKEN": self.gh.request_token,
                                 "DCGEN_PROVIDER": None})
        self.assert_pushes(r, path, f"workload identity federation (GOOGLE_WORKLOAD_IDENTITY_PROVIDER, subject token from GitHub Actions, impersonating {SA})")
        self.gh.verify(self.fed.subjects[-1], "https://iam.googleapis.com/" + PROVIDER)

    def test_authorized_user_in_the_gcloud_file(self):
        adc = self.file(".config/gcloud/application_default_credentials.json",
                        {"type": "authorized_user", "client_id": CLIENT_ID, "client_secret": USER_SECRET,
                         "refresh_token": REFRESH, "token_uri": f"{self.fed.url}/token"})
        r, path = self.generate({})
        self.assert_pushes(r, path, f"authorized user (the gcloud credentials file '{adc}')")

    def test_cache_hit_asks_nothing(self):
        token = self.file("sa-token", FILE_TOKEN)
        cred = self.external({"file": token})
        env = {"GOOGLE_APPLICATION_CREDENTIALS": cred, "DCGEN_CACHE_DIR": os.path.join(self.dir, "cache")}
        r, _ = self.generate(env)
        self.assertEqual(r.rc, 0, r.err)
        n = self.fed.count
        r, _ = self.generate(env)
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn("from cache", r.err)
        self.assertEqual(self.fed.count, n)


if __name__ == "__main__":
    peers.main()
