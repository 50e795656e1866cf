"""dcgen's AWS endpoints and replies, hardened: no user name or password in an
endpoint URL, a warning for plain http to another machine, partitions (aws-cn,
aws-us-gov, aws-iso, aws-iso-b) in role ARNs and default endpoints, and
expiresAt values no time_t can hold.

Nothing here leaves 127.0.0.1: requests that name another host go through a
proxy variable pointing at a closed local port (so not even a DNS query is
made), with a one-second connect timeout besides.
"""
import os
import socket
import sys
import time
import urllib.parse

import peers

sys.path.insert(0, os.path.join(peers.HERE, "..", "peers"))
from aws_json_server import AwsJsonServer  # noqa: E402
from localserver import LocalHandler  # noqa: E402

ACCOUNT = "123456789012"
KEY_ID, SECRET = "AKIADCGENHARDEN00001", "harden/test+secret/abcdefghijklmnopqrstu"
TEMP_ID, TEMP_SECRET, TEMP_TOKEN = "ASIADCGENHARDEN00002", "temp/harden+xyz0123456789", "FwoGZXIvYXdzH" + "h" * 200
PASSWORD = "hunter2endpointpw"


class StsStub(AwsJsonServer):
    """STS AssumeRole: checks the signature like the ECR stand-in (botocore's
    signer), records (action, service, region, RoleArn, outcome) and hands out
    the TEMP_* credentials."""

    def _handler(self):
        server = self

        class Handler(LocalHandler):
            content_type = "text/xml"

            def do_POST(self):
                body = self.body()
                err, region, service = server.verify("POST", self.path, self.headers, body)
                form = urllib.parse.parse_qs(body.decode())
                server._record(form.get("Action", [""])[0], service, region, form.get("RoleArn", [""])[0],
                               err or "ok")
                if err:
                    return self.send(403, f"<ErrorResponse><Error><Code>{err}</Code><Message>no"
                                          "</Message></Error></ErrorResponse>".encode())
                expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
                return self.send(200, f"""<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<AssumeRoleResult><Credentials><AccessKeyId>{TEMP_ID}</AccessKeyId>
<SecretAccessKey>{TEMP_SECRET}</SecretAccessKey><SessionToken>{TEMP_TOKEN}</SessionToken>
<Expiration>{expires}</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>""".encode())

        return Handler


def closed_port():
    """A local port nothing listens on (connections are refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Case(peers.DcgenCase):
    def setUp(self):
        super().setUp()
        self.ecr = AwsJsonServer({KEY_ID: (SECRET, None), TEMP_ID: (TEMP_SECRET, TEMP_TOKEN)}).start()
        self.addCleanup(self.ecr.close)
        self.proxy = f"http://127.0.0.1:{closed_port()}"

    def env(self, **extra):
        return peers.env({"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET,
                          "AWS_REGION": "eu-central-1", "AWS_ENDPOINT_URL_ECR": self.ecr.url,
                          "DCGEN_CONNECT_TIMEOUT": "1", "DCGEN_TIMEOUT": "5",
                          "http_proxy": self.proxy, "https_proxy": self.proxy, "HTTPS_PROXY": self.proxy,
                          "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}, **extra)

    def run_dcgen(self, env, *args):
        return peers.run(list(args) + [self.path], env,
                         [SECRET, TEMP_SECRET, TEMP_TOKEN, PASSWORD, self.ecr.token_prefix], timeout=60)

    def warnings(self, r):
        return [line for line in r.err.splitlines() if line.startswith("dcgen: warning: ")]


class Endpoints(Case):
    def test_user_name_or_password_is_refused(self):
        for var in ("AWS_ENDPOINT_URL_ECR", "AWS_ENDPOINT_URL"):
            for userinfo in (f"admin:{PASSWORD}@", f"{PASSWORD}@"):
                with self.subTest(var=var, userinfo=userinfo):
                    url = self.ecr.url.replace("http://", f"http://{userinfo}")
                    extra = {var: url}
                    if var == "AWS_ENDPOINT_URL":
                        extra["AWS_ENDPOINT_URL_ECR"] = None
                    r = self.run_dcgen(self.env(**extra))
                    self.assert_failed_cleanly(r, 2, var, "user name or password")
                    self.assertNotIn("admin", r.err)
                    self.assertEqual(self.ecr.count, 0)

    def test_user_name_or_password_is_refused_for_sts(self):
        sts = StsStub({KEY_ID: (SECRET, None)}).start()
        self.addCleanup(sts.close)
        r = self.run_dcgen(self.env(AWS_STS_ROLE="deployer", AWS_STS_ACCOUNT=ACCOUNT,
                                    AWS_ENDPOINT_URL_STS=sts.url.replace("http://", f"http://admin:{PASSWORD}@")))
        self.assert_failed_cleanly(r, 2, "AWS_ENDPOINT_URL_STS", "user name or password")
        self.assertEqual((sts.count, self.ecr.count), (0, 0))

    def test_plain_http_to_another_machine_warns_once(self):
        # as a LocalStack sidecar would be named; .invalid never resolves, and
        # the proxy variable sends the request to a closed local port anyway
        url = "http://localstack.invalid:4566"
        for extra, args in (({"AWS_ENDPOINT_URL_ECR": url}, ()),
                            ({"AWS_ENDPOINT_URL_ECR": url}, ("-c", os.path.join(self.dir, "cache"))),
                            ({"AWS_ENDPOINT_URL_ECR": None, "AWS_ENDPOINT_URL": url,
                              "AWS_STS_ROLE": "deployer", "AWS_STS_ACCOUNT": ACCOUNT}, ())):
            with self.subTest(extra=extra, args=args):
                r = self.run_dcgen(self.env(**extra), *args)
                self.assertEqual(r.rc, 1, r.err)
                self.assertIn("dcgen: error: cannot reach", r.err)
                self.assertIn(url, r.err.splitlines()[-1])
                warnings = self.warnings(r)
                self.assertEqual(len(warnings), 1, r.err)
                var = "AWS_ENDPOINT_URL_ECR" if "AWS_ENDPOINT_URL_ECR" in extra and extra[
                    "AWS_ENDPOINT_URL_ECR"] else "AWS_ENDPOINT_URL"
                self.assertIn(f"{var} is '{url}', plain http to another machine", warnings[0])
                self.assertIn("unencrypted", warnings[0])
                self.assertLess(r.seconds, 20)
                self.assertEqual(os.listdir(self.out), [])
        self.assertEqual(self.ecr.count, 0)

    def test_no_warning_for_this_machine_or_https(self):
        for url in (self.ecr.url, self.ecr.url.replace("127.0.0.1", "localhost") + "/"):
            with self.subTest(url=url):
                r = self.run_dcgen(self.env(AWS_ENDPOINT_URL_ECR=url))
                self.assertEqual(r.rc, 0, r.err)
                self.assertEqual(self.warnings(r), [])
                os.unlink(self.path)
        r = self.run_dcgen(self.env(AWS_ENDPOINT_URL_ECR="https://ecr.invalid"))
        self.assert_failed_cleanly(r, 1, "cannot reach ECR at 'https://ecr.invalid/'")


class Partitions(Case):
    REGIONS = {"eu-west-1": "aws", "cn-north-1": "aws-cn", "us-gov-west-1": "aws-us-gov",
               "us-iso-east-1": "aws-iso", "us-isob-east-1": "aws-iso-b"}

    def test_role_arn_and_signing_follow_the_region(self):
        sts = StsStub({KEY_ID: (SECRET, None)}).start()
        self.addCleanup(sts.close)
        for region, partition in self.REGIONS.items():
            with self.subTest(region=region):
                sts.requests.clear()
                self.ecr.requests.clear()
                r = self.run_dcgen(self.env(AWS_REGION=region, AWS_STS_ROLE="deployer", AWS_STS_ACCOUNT=ACCOUNT,
                                            AWS_ENDPOINT_URL_STS=sts.url), "-v")
                self.assertEqual(r.rc, 0, r.err)
                arn = f"arn:{partition}:iam::{ACCOUNT}:role/deployer"
                self.assertEqual(sts.requests, [("AssumeRole", "sts", region, arn, "ok")])
                self.assertIn(f"assumed role {arn} as {TEMP_ID}", r.err)
                self.assertEqual(self.ecr.requests, [("AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken",
                                                      "ecr", region, "ok")])
                os.unlink(self.path)

    def test_default_endpoints_follow_the_region(self):
        # the proxy refuses, so the error names the URL dcgen would have used
        suffix = {"aws": "amazonaws.com", "aws-cn": "amazonaws.com.cn", "aws-us-gov": "amazonaws.com",
                  "aws-iso": "c2s.ic.gov", "aws-iso-b": "sc2s.sgov.gov"}
        for region, partition in self.REGIONS.items():
            for role in (False, True):
                with self.subTest(region=region, role=role):
                    extra = dict(AWS_REGION=region, AWS_ENDPOINT_URL_ECR=None)
                    if role:
                        extra.update(AWS_STS_ROLE="deployer", AWS_STS_ACCOUNT=ACCOUNT)
                    r = self.run_dcgen(self.env(**extra))
                    service = "STS" if role else "ECR"
                    host = f"{'sts' if role else 'api.ecr'}.{region}.{suffix[partition]}"
                    self.assert_failed_cleanly(r, 1, f"cannot reach {service} at 'https://{host}/'")
        self.assertEqual(self.ecr.count, 0)

    def test_ecr_public_stays_in_the_aws_partition(self):
        r = self.run_dcgen(self.env(ECR_PUBLIC="1", AWS_REGION="cn-north-1", AWS_ENDPOINT_URL_ECR=None))
        self.assert_failed_cleanly(r, 1, "cannot reach ECR Public at 'https://api.ecr-public.us-east-1.amazonaws.com/'")
        # with a role, it would be assumed in aws-cn: refused before any request
        r = self.run_dcgen(self.env(ECR_PUBLIC="1", AWS_REGION="cn-north-1", AWS_STS_ROLE="deployer",
                                    AWS_STS_ACCOUNT=ACCOUNT))
        self.assert_failed_cleanly(r, 2, "ECR_PUBLIC", "aws-cn")


class Expiry(Case):
    def test_expiry_no_time_t_can_hold(self):
        for lifetime in (1e300, -1e300, 20 * 365 * 86400):
            for public in (False, True):
                with self.subTest(lifetime=lifetime, public=public):
                    self.ecr.lifetime = lifetime
                    extra = dict(ECR_PUBLIC="1", AWS_ENDPOINT_URL_ECR_PUBLIC=self.ecr.url) if public else \
                        dict(AWS_ECR_REGISTRY_IDS=f"{ACCOUNT},210987654321")
                    r = self.run_dcgen(self.env(**extra))
                    self.assertEqual(r.rc, 0, r.err)
                    # one warning per reply, however many tokens it has
                    warnings = self.warnings(r)
                    self.assertEqual(len(warnings), 1, r.err)
                    self.assertIn("expiresAt", warnings[0])
                    self.assertIn("expiry as unknown", warnings[0])
                    self.assertIsNone(peers.expiry_of(r.err), r.err)
                    self.assertEqual(len(self.read()["auths"]), 1 if public else 2)
                    os.unlink(self.path)

    def test_unknown_expiry_is_not_cached(self):
        self.ecr.lifetime = 1e300
        cache = os.path.join(self.dir, "cache")
        for _ in range(2):
            r = self.run_dcgen(self.env(), "-c", cache)
            self.assertEqual(r.rc, 0, r.err)
        self.assertEqual(self.ecr.count, 2)

    def test_expiry_in_range(self):
        for lifetime in (43200, 9 * 365 * 86400):
            with self.subTest(lifetime=lifetime):
                self.ecr.lifetime = lifetime
                r = self.run_dcgen(self.env())
                self.assertEqual(r.rc, 0, r.err)
                self.assertEqual(self.warnings(r), [])
                self.assertAlmostEqual(peers.expiry_of(r.err), time.time() + lifetime, delta=60)
                os.unlink(self.path)


if __name__ == "__main__":
    peers.main()
