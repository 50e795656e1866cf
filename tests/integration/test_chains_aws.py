"""The AWS credential chain end to end: each source dcgen can take AWS
credentials from answers with credentials moto accepts (every ECR request's
signature checked), and the dockercfg written with them lets skopeo push to a
docker-registry that holds moto's ECR password.

Sources without an emulator are local peers (tests/peers/aws_meta_server.py)
that check requests as AWS and GitHub document them; they serve session
credentials moto issued (AssumeRole of the ci user), so moto checks them."""
import json
import os
import shutil
import sys
import tempfile
import time
import unittest

import peers
from peers import ACCOUNT

sys.path.insert(0, os.path.join(peers.HERE, "..", "peers"))
from aws_json_server import AwsJsonServer  # noqa: E402
from aws_meta_server import Container, Imds, StsWebIdentity  # noqa: E402
from github_oidc_server import GithubOidc  # noqa: E402

ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/ecr-reader"
HOST = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
PASSWORD = f"{ACCOUNT}-auth-token"


class AwsChain(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        peers.need("moto_server", "docker-registry", "htpasswd", "skopeo")
        import boto3
        cls.moto = peers.Moto()
        sts = boto3.client("sts", endpoint_url=cls.moto.url, region_name="us-east-1",
                           aws_access_key_id=cls.moto.key_id, aws_secret_access_key=cls.moto.secret)
        c = sts.assume_role(RoleArn=ROLE_ARN, RoleSessionName="peer")["Credentials"]
        cls.temp = {"AccessKeyId": c["AccessKeyId"], "SecretAccessKey": c["SecretAccessKey"],
                    "SessionToken": c["SessionToken"]}
        cls.registry = peers.Registry({"AWS": PASSWORD})

    @classmethod
    def tearDownClass(cls):
        cls.registry.close()
        cls.moto.close()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="dcgen-chain-")
        self.path = os.path.join(self.dir, "out", "dockercfg")
        os.mkdir(os.path.join(self.dir, "out"))
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def serve(self, server):
        self.servers.append(server.start())
        return server

    def base_env(self, **extra):
        """No keys: only the region, moto's endpoints and a HOME without ~/.aws."""
        return peers.env({"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": self.moto.url,
                          "HOME": self.dir, "DCGEN_PROVIDER": "ecr"}, **extra)

    def file(self, name, text, mode=0o600):
        p = os.path.join(self.dir, name)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)
        return p

    def generate(self, env, *args, secrets=()):
        r = peers.run(["-v", *args, self.path], env,
                      [self.moto.secret, self.temp["SecretAccessKey"], self.temp["SessionToken"], PASSWORD,
                       *secrets])
        return r

    def assert_pushes(self, r, source):
        """dcgen succeeded saying `source` answered, and skopeo pushes with the file."""
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn(f"AWS credentials from {source}", r.err)
        with open(self.path) as f:
            doc = json.load(f)
        self.assertEqual(peers.decode_auth(doc["auths"][HOST]), ("AWS", PASSWORD))
        authfile = self.file("auth.json", json.dumps({"auths": {self.registry.host: doc["auths"][HOST]}}))
        p = peers.skopeo_push(authfile, self.registry.host, "ecr/app:1")
        self.assertEqual(p.returncode, 0, p.stderr)

    # ---- sources, in the chain's order ----

    def test_environment_keys(self):
        r = self.generate(self.moto.env(HOME=self.dir))
        self.assert_pushes(r, "environment (AWS_ACCESS_KEY_ID)")

    def test_web_identity_token_file(self):
        jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2ln"
        token = self.file("token", jwt + "\n")

        def verify(t):
            if t != jwt:
                raise ValueError("not the token of the file")
        sts = self.serve(StsWebIdentity(self.moto.url, verify, (self.moto.key_id, self.moto.secret)))
        r = self.generate(self.base_env(AWS_WEB_IDENTITY_TOKEN_FILE=token, AWS_ROLE_ARN=ROLE_ARN,
                                        AWS_ROLE_SESSION_NAME="irsa-pod", AWS_ENDPOINT_URL_STS=sts.url),
                          secrets=[jwt])
        self.assert_pushes(r, f"web identity (AWS_WEB_IDENTITY_TOKEN_FILE, role {ROLE_ARN})")
        self.assertIn(f"assumed role {ROLE_ARN}", r.err)

    def test_github_actions_oidc_token(self):
        gh = self.serve(GithubOidc())
        sts = self.serve(StsWebIdentity(self.moto.url, lambda t: gh.verify(t, "sts.amazonaws.com"),
                                        (self.moto.key_id, self.moto.secret)))
        r = self.generate(self.base_env(AWS_ROLE_ARN=ROLE_ARN, AWS_ENDPOINT_URL_STS=sts.url,
                                        ACTIONS_ID_TOKEN_REQUEST_URL=gh.request_url,
                                        ACTIONS_ID_TOKEN_REQUEST_TOKEN=gh.request_token),
                          secrets=[gh.request_token])
        self.assert_pushes(r, f"web identity (GitHub Actions OIDC token, role {ROLE_ARN})")
        self.assertEqual(len(gh.issued), 1)
        self.assertEqual(sts.tokens, gh.issued)
        form = sts.requests[0][3]
        self.assertEqual(form["RoleSessionName"], ["GitHubActions"])
        for t in gh.issued + [gh.request_token]:
            self.assertNotIn(t[:20], r.err)

    def test_github_without_id_token_permission_is_explained(self):
        r = self.generate(self.base_env(AWS_ROLE_ARN=ROLE_ARN))
        self.assertEqual(r.rc, 2, r.err)
        self.assertIn("id-token: write", r.err)

    def test_profile_role_with_source_profile(self):
        creds = self.file("credentials", f"[base]\naws_access_key_id = {self.moto.key_id}\n"
                          f"aws_secret_access_key = {self.moto.secret}\n")
        config = self.file("config", f"[profile ci]\nrole_arn = {ROLE_ARN}\nsource_profile = base\n"
                           "role_session_name = from-profile\nregion = us-east-1\n"
                           "s3 =\n  max_concurrent_requests = 10\n")
        r = self.generate(self.base_env(AWS_PROFILE="ci", AWS_CONFIG_FILE=config, AWS_SHARED_CREDENTIALS_FILE=creds,
                                        AWS_REGION=None))
        self.assert_pushes(r, f"role {ROLE_ARN} of profile 'ci' (from access key of profile 'base')")

    def test_profile_keys_in_the_default_credentials_file(self):
        os.mkdir(os.path.join(self.dir, ".aws"))
        self.file(".aws/credentials", f"[default]\naws_access_key_id={self.temp['AccessKeyId']}\n"
                  f"aws_secret_access_key={self.temp['SecretAccessKey']}\n"
                  f"aws_session_token={self.temp['SessionToken']}\n")
        r = self.generate(self.base_env())
        self.assert_pushes(r, "access key of profile 'default'")

    def test_classic_sts_role_on_top_of_a_profile(self):
        """AWS_STS_ROLE + AWS_STS_ACCOUNT (the classic generator's) assume the
        role with whatever the chain found: here the profile's keys."""
        creds = self.file("credentials", f"[default]\naws_access_key_id = {self.moto.key_id}\n"
                          f"aws_secret_access_key = {self.moto.secret}\n")
        r = self.generate(self.base_env(AWS_SHARED_CREDENTIALS_FILE=creds, AWS_STS_ROLE="ecr-reader",
                                        AWS_STS_ACCOUNT=ACCOUNT))
        self.assert_pushes(r, "access key of profile 'default'")
        self.assertIn(f"assumed role {ROLE_ARN}", r.err)

    def test_credential_process(self):
        out = dict(self.temp, Version=1,
                   Expiration=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600)))
        script = self.file("process.py", "import sys, json\n"
                           "assert sys.argv[1:] == ['--role', 'ecr reader'], sys.argv\n"
                           f"print(json.dumps({json.dumps(out)}))\n")
        config = self.file("config", f"[default]\ncredential_process = {sys.executable} {script} "
                           "--role 'ecr reader'\n")
        r = self.generate(self.base_env(AWS_CONFIG_FILE=config))
        self.assert_pushes(r, "credential_process of profile 'default'")

    def test_credential_process_failure_is_named(self):
        config = self.file("config", "[default]\ncredential_process = sh -c 'echo no session >&2; exit 3'\n")
        r = self.generate(self.base_env(AWS_CONFIG_FILE=config))
        self.assertEqual(r.rc, 1, r.err)
        self.assertIn("credential_process of profile 'default': 'sh' exited with status 3: no session", r.err)

    def test_container_endpoint_with_token_file(self):
        c = self.serve(Container(self.temp, auth="pod-identity-token-0123"))
        token = self.file("eks-token", "pod-identity-token-0123\n")
        r = self.generate(self.base_env(AWS_CONTAINER_CREDENTIALS_FULL_URI=c.url + "/v2/credentials/task",
                                        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=token),
                          secrets=["pod-identity-token-0123"])
        self.assert_pushes(r, f"container endpoint ({c.url}/v2/credentials/task)")
        self.assertEqual(c.requests[0][2]["Authorization"], "pod-identity-token-0123")

    def test_container_full_uri_elsewhere_is_refused(self):
        r = self.generate(self.base_env(AWS_CONTAINER_CREDENTIALS_FULL_URI="http://192.0.2.1/creds"))
        self.assertEqual(r.rc, 2, r.err)
        self.assertIn("AWS_CONTAINER_CREDENTIALS_FULL_URI", r.err)

    def test_imds_v2(self):
        imds = self.serve(Imds(self.temp))
        r = self.generate(self.base_env(AWS_EC2_METADATA_DISABLED=None, AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.url))
        self.assert_pushes(r, f"EC2 instance metadata ({imds.url})")
        methods = [(m, p) for m, p, _ in imds.requests]
        self.assertEqual(methods, [("PUT", "/latest/api/token"),
                                   ("GET", "/latest/meta-data/iam/security-credentials/"),
                                   ("GET", "/latest/meta-data/iam/security-credentials/ec2-ecr-reader")])
        self.assertEqual(imds.requests[0][2]["X-aws-ec2-metadata-token-ttl-seconds"], "21600")

    def test_imds_v1_fallback_and_its_switch(self):
        imds = self.serve(Imds(self.temp, v1=True, v2=False))
        env = self.base_env(AWS_EC2_METADATA_DISABLED=None, AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.url)
        r = self.generate(env)
        self.assert_pushes(r, f"EC2 instance metadata ({imds.url})")
        self.assertNotIn("X-aws-ec2-metadata-token", imds.requests[1][2])
        r = self.generate(dict(env, AWS_EC2_METADATA_V1_DISABLED="true"))
        self.assertEqual(r.rc, 1, r.err)
        self.assertIn("refused a session token with HTTP 405 (and AWS_EC2_METADATA_V1_DISABLED is true)", r.err)

    def test_cache_hit_probes_nothing(self):
        """The entry is keyed by the metadata endpoint (one host's instance
        role): the second job is a cache hit that sends no request at all."""
        imds = self.serve(Imds(self.temp))
        ecr = self.serve(AwsJsonServer({self.temp["AccessKeyId"]: (self.temp["SecretAccessKey"],
                                                                   self.temp["SessionToken"])}))
        env = self.base_env(AWS_EC2_METADATA_DISABLED=None, AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.url,
                            AWS_ENDPOINT_URL=ecr.url, DCGEN_CACHE_DIR=os.path.join(self.dir, "cache"))
        r = self.generate(env, secrets=[ecr.token_for(ACCOUNT)])
        self.assertEqual(r.rc, 0, r.err)
        self.assertEqual((imds.count, ecr.count), (3, 1))
        r = self.generate(env, secrets=[ecr.token_for(ACCOUNT)])
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn("from cache", r.err)
        self.assertEqual((imds.count, ecr.count), (3, 1))
        listing = peers.run(["cache", "list", "--cache-dir", os.path.join(self.dir, "cache")], env)
        self.assertIn(f"imds:{imds.url}", listing.out + listing.err)

    def test_nothing_configured_names_every_source(self):
        dead = peers.free_port()
        start = time.monotonic()
        r = self.generate(self.base_env(AWS_EC2_METADATA_DISABLED=None,
                                        AWS_EC2_METADATA_SERVICE_ENDPOINT=f"http://127.0.0.1:{dead}"))
        self.assertLess(time.monotonic() - start, 10)
        self.assertEqual(r.rc, 2, r.err)
        self.assertEqual(len(r.err.strip().splitlines()), 1 + r.err.count("debug:"), r.err)
        line = [x for x in r.err.splitlines() if x.startswith("dcgen: error: ")][0]
        order = ["environment: AWS_ACCESS_KEY_ID is not set", "web identity:", "profile 'default':",
                 "container:", f"IMDS at 'http://127.0.0.1:{dead}'"]
        at = [line.find(o) for o in order]
        self.assertNotIn(-1, at, line)
        self.assertEqual(at, sorted(at), line)


if __name__ == "__main__":
    peers.main()
