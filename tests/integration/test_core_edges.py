"""Rough edges a user trips on (issue 9; BLACKBOX R1, R4, R9, R10, R18-R22,
R25, R27-R29), checked as that user would: exit code, one line on stderr,
what was written. Upstreams are the local peers on 127.0.0.1."""
import json
import os
import re
import sys

import peers

sys.path.insert(0, os.path.join(peers.HERE, "..", "peers"))
from aws_json_server import AwsJsonServer  # noqa: E402
from azure_server import AadServer, AcrServer  # noqa: E402
from google_server import GoogleServer  # noqa: E402

ACCOUNT, OTHER = "123456789012", "210987654321"
KEY_ID, SECRET = "AKIADCGENCOREEDGE001", "core/edge+abcdefghijklmnopqrstuvwxyz0123"
DOCKER = {"DOCKER_USERNAME": "ci", "DOCKER_PASSWORD": "dockerpw-edge-0123456789"}


class CommandLine(peers.DcgenCase):
    def test_r1_no_arguments_is_one_line(self):
        r = peers.run([], peers.env(DOCKER))
        self.assertEqual(r.rc, 2, r.err)
        self.assertEqual(len(r.err.strip().splitlines()), 1, r.err)
        self.assertTrue(r.err.startswith("dcgen: error: "), r.err)
        self.assertIn("PATH", r.err)

    def test_r4_option_before_cache_subcommand(self):
        cache = os.path.join(self.dir, "cache")
        os.mkdir(cache, 0o700)
        r = peers.run(["--cache-dir", cache, "cache", "list"], peers.env())
        if r.rc != 0:
            self.assertEqual(r.rc, 2, r.err)
            self.assertEqual(len(r.err.strip().splitlines()), 1, r.err)
            self.assertRegex(r.err, r"subcommand|first", "the message should say the subcommand goes first")
        self.assertEqual(os.listdir(self.out), [])
        self.assertFalse(os.path.exists("list"))

    def test_r3_verbose_and_quiet_are_not_silently_resolved(self):
        r = peers.run(["-v", "-q", self.path], peers.env(DOCKER), [DOCKER["DOCKER_PASSWORD"]])
        if r.rc == 0:
            self.assertIn("warning", r.err)
        else:
            self.assert_failed_cleanly(r, 2)

    def test_r5_misspelt_option_gets_a_suggestion(self):
        r = peers.run(["--provder", "docker", self.path], peers.env(DOCKER))
        self.assert_failed_cleanly(r, 2, "--provider")

    def test_r6_misspelt_variable_warns(self):
        r = peers.run([self.path], peers.env(DOCKER, DCGEN_CACHEDIR=os.path.join(self.dir, "c")),
                      [DOCKER["DOCKER_PASSWORD"]])
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn("warning", r.err)
        self.assertIn("DCGEN_CACHEDIR", r.err)

    def test_r24_google_key_variable_holding_a_path_or_base64(self):
        r = peers.run([self.path], peers.env(GOOGLE_AUTH_JSON="/etc/dcgen/key.json"))
        self.assert_failed_cleanly(r, 2, "GOOGLE_APPLICATION_CREDENTIALS")
        r = peers.run([self.path], peers.env(GOOGLE_AUTH_JSON="eyJ0eXBlIjogInNlcnZpY2VfYWNjb3VudCJ9Cg=="))
        self.assert_failed_cleanly(r, 2, "base64")

    def test_r9_r10_messages_read_right(self):
        aws = {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_REGION": "eu-west-1",
               "AWS_ENDPOINT_URL": "http://127.0.0.1:1"}
        r = peers.run([self.path], peers.env(aws, DCGEN_TIMEOUT="abc"), [SECRET])
        self.assert_failed_cleanly(r, 2, "DCGEN_TIMEOUT")
        self.assertNotIn("set it to one", r.err)
        r = peers.run([self.path], peers.env(GCE_METADATA_HOST="127.0.0.1:notaport", DCGEN_PROVIDER="gcr"))
        self.assertEqual(r.rc, 2, r.err)
        self.assertNotIn("the the", r.err)
        self.assertIn("GCE_METADATA_HOST", r.err)


class Lists(peers.DcgenCase):
    def setUp(self):
        super().setUp()
        self.google = GoogleServer().start()
        self.addCleanup(self.google.close)
        self.key = self.google.add_account("ci@dcgen-test.iam.gserviceaccount.com", "dcgen-test")
        self.aws = AwsJsonServer({KEY_ID: (SECRET, None)}).start()
        self.addCleanup(self.aws.close)

    def run_env(self, env):
        r = peers.run([self.path], env, [SECRET, self.key["private_key"], "ibm-edge-apikey-0123456789"])
        if os.path.exists(self.path):
            auths = self.read()["auths"]
            os.unlink(self.path)
        else:
            auths = None
        return r, auths

    def ibm(self, value):
        return self.run_env(peers.env({"IBMCLOUD_API_KEY": "ibm-edge-apikey-0123456789", "IBMCLOUD_REGISTRY": value}))

    def gcr(self, value):
        return self.run_env(peers.env({"GOOGLE_AUTH_JSON": json.dumps(self.key), "GOOGLE_LOCATION": value}))

    def ecr(self, value):
        return self.run_env(peers.env({"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET,
                                       "AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL": self.aws.url,
                                       "AWS_ECR_REGISTRY_IDS": value}))

    def test_r18_a_space_is_not_a_separator(self):
        r, auths = self.ibm("bad host")
        self.assertEqual(r.rc, 2, (r.err, auths))
        self.assertEqual(len(r.err.strip().splitlines()), 1, r.err)
        r, auths = self.gcr("europe west1")
        self.assertEqual(r.rc, 2, (r.err, auths))
        self.assertEqual(self.google.count, 0)

    def test_r18_empty_items_are_handled_alike(self):
        outcomes = {}
        for name, fn, a, b in (("IBMCLOUD_REGISTRY", self.ibm, "us.icr.io", "de.icr.io"),
                               ("GOOGLE_LOCATION", self.gcr, "us", "europe"),
                               ("AWS_ECR_REGISTRY_IDS", self.ecr, ACCOUNT, OTHER)):
            for value in (f"{a},,{b}", f",{a}", f"{a},"):
                r, _ = fn(value)
                self.assertIn(r.rc, (0, 2), (name, value, r.err))
                outcomes[(name, value)] = r.rc
        self.assertEqual(len(set(outcomes.values())), 1, f"empty list items handled differently: {outcomes}")

    def test_r18_duplicates(self):
        r, auths = self.ibm("us.icr.io,us.icr.io")
        self.assertIn(r.rc, (0, 2), r.err)
        if r.rc == 0:
            self.assertEqual(list(auths), ["us.icr.io"])
        r, auths = self.ecr(f"{ACCOUNT},{ACCOUNT}")
        self.assertIn(r.rc, (0, 2), r.err)
        if r.rc == 0:
            ids = json.loads(self.aws.bodies[-1])["registryIds"]
            self.assertEqual(ids, [ACCOUNT], "duplicate registry ids were sent")

    def test_r18_more_ids_than_aws_allows(self):
        ids = ",".join(f"{i:012d}" for i in range(1, 2001))
        r, _ = self.ecr(ids)
        self.assertEqual(r.rc, 2, r.err[:300])
        self.assertEqual(self.aws.count, 0)
        self.assertLess(len(r.err), 4096)


class Values(peers.DcgenCase):
    def test_r19_registry_port(self):
        for value in ("registry.example.com:notaport", "registry.example.com:99999", "registry.example.com:0",
                      "registry.example.com:", "h" * 130000):
            with self.subTest(value=value[:40]):
                r = peers.run([self.path], peers.env(DOCKER, DOCKER_REGISTRY=value), [DOCKER["DOCKER_PASSWORD"]])
                self.assert_failed_cleanly(r, 2, "DOCKER_REGISTRY")
                self.assertLess(len(r.err), 4096)

    def test_r20_ecr_public_off_means_private(self):
        srv = AwsJsonServer({KEY_ID: (SECRET, None)}).start()
        self.addCleanup(srv.close)
        base = {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_REGION": "eu-west-1",
                "AWS_ENDPOINT_URL": srv.url}
        for value in ("off", "OFF", "False", "NO", "0", "false"):
            with self.subTest(value=value):
                r = peers.run([self.path], peers.env(base, ECR_PUBLIC=value), [SECRET])
                self.assertEqual(r.rc, 0, r.err)
                self.assertEqual(list(self.read()["auths"]), [f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com"])
                os.unlink(self.path)
        for value in ("1", "true", "on", "yes"):
            with self.subTest(value=value):
                r = peers.run([self.path], peers.env(base, ECR_PUBLIC=value), [SECRET])
                self.assertEqual(r.rc, 0, r.err)
                self.assertEqual(list(self.read()["auths"]), ["public.ecr.aws"])
                os.unlink(self.path)

    def test_r21_trailing_newline_in_a_secret_warns(self):
        for env, var in (({"DOCKER_USERNAME": "ci", "DOCKER_PASSWORD": "dockerpw-edge-0123456789\n"},
                          "DOCKER_PASSWORD"),
                         ({"DOCKER_USERNAME": "ci", "DOCKER_PASSWORD": "dockerpw-edge-0123456789\r\n"},
                          "DOCKER_PASSWORD"),
                         ({"HEROKU_API_KEY": "heroku-edge-0123456789\n"}, "HEROKU_API_KEY")):
            with self.subTest(var=var, value=env[var][-2:]):
                r = peers.run([self.path], peers.env(env), [env[var].strip()])
                self.assertIn("warning", r.err)
                self.assertIn(var, r.err)
                if os.path.exists(self.path):
                    os.unlink(self.path)

    def test_r21_trailing_newline_in_aws_secret_warns(self):
        srv = AwsJsonServer({KEY_ID: (SECRET, None)}).start()
        self.addCleanup(srv.close)
        r = peers.run([self.path], peers.env({"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET + "\n",
                                              "AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL": srv.url}), [SECRET])
        self.assertIn("warning", r.err)
        self.assertIn("AWS_SECRET_ACCESS_KEY", r.err)

    def test_r22_huge_value_gives_a_short_line(self):
        r = peers.run([self.path], peers.env({"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET,
                                              "AWS_REGION": "a" * 130000}), [SECRET])
        self.assert_failed_cleanly(r, 2, "AWS_REGION")
        self.assertLess(len(r.err), 4096, f"stderr is {len(r.err)} bytes")


TENANT = "5f3a1c2e-8b7d-4e6f-9a0b-1c2d3e4f5a6b"
CLIENT = "0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e"
SP_SECRET = "Q8~edge-secret+0123456789abcdef"


class Azure(peers.DcgenCase):
    def test_r25_admin_user_is_not_from_upstream(self):
        r = peers.run([self.path], peers.env({"AZURE_REGISTRY": "myregistry", "AZURE_USERNAME": "myregistry",
                                              "AZURE_PASSWORD": "azure-admin-pw-0123456789"}),
                      ["azure-admin-pw-0123456789"])
        self.assertEqual(r.rc, 0, r.err)
        self.assertNotIn("from upstream", r.err)
        self.assertEqual(list(self.read()["auths"]), ["myregistry.azurecr.io"])

    def test_r27_name_length_rule_is_stated(self):
        r = peers.run([self.path], peers.env({"AZURE_REGISTRY": "a", "AZURE_USERNAME": "a",
                                              "AZURE_PASSWORD": "azure-admin-pw-0123456789"}))
        self.assert_failed_cleanly(r, 2, "AZURE_REGISTRY")
        self.assertRegex(r.err, r"\b5\b.*\b50\b", "the 5 to 50 characters rule is not stated")

    def test_r28_authority_host_path_is_kept(self):
        aad = AadServer(TENANT, {CLIENT: SP_SECRET}, prefix="/adfs").start()
        self.addCleanup(aad.close)
        acr = AcrServer(TENANT, aad.public_key).start()
        self.addCleanup(acr.close)
        r = peers.run([self.path], peers.env({"AZURE_REGISTRY": acr.url, "AZURE_AUTHORITY_HOST": aad.url + "/adfs",
                                              "AZURE_CLIENT_ID": CLIENT, "AZURE_TENANT_ID": TENANT,
                                              "AZURE_CLIENT_SECRET": SP_SECRET}), [SP_SECRET, acr.refresh_token])
        self.assertEqual(r.rc, 0, r.err)
        self.assertEqual(aad.requests, [(f"/adfs/{TENANT}/oauth2/v2.0/token", "ok")])
        self.assertIn(acr.host, self.read()["auths"])


class CacheList(peers.DcgenCase):
    def test_r29_empty_directory_says_no_entries(self):
        cache = os.path.join(self.dir, "cache")
        os.mkdir(cache, 0o700)
        r = peers.run(["cache", "list"], peers.env(DCGEN_CACHE_DIR=cache))
        self.assertEqual(r.rc, 0, r.err)
        self.assertRegex((r.out + r.err).lower(), r"no (cache )?entr", "an empty cache lists nothing at all")

    def test_r29_damaged_entry_is_not_skipped_silently(self):
        cache = os.path.join(self.dir, "cache")
        os.mkdir(cache, 0o700)
        name = "0123456789abcdef0123456789abcdef"
        with open(os.path.join(cache, name + ".entry"), "w") as f:
            f.write("garbage\n")
        r = peers.run(["cache", "list"], peers.env(DCGEN_CACHE_DIR=cache))
        self.assertIn(r.rc, (0, 1), r.err)
        self.assertIn(name, r.out + r.err, "a damaged entry is left out of the list without a word")

    def test_r29_list_has_a_header(self):
        srv = AwsJsonServer({KEY_ID: (SECRET, None)}).start()
        self.addCleanup(srv.close)
        cache = os.path.join(self.dir, "cache")
        env = peers.env({"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_REGION": "eu-west-1",
                         "AWS_ENDPOINT_URL": srv.url, "DCGEN_CACHE_DIR": cache})
        self.assertEqual(peers.run([self.path], env, [SECRET]).rc, 0)
        r = peers.run(["cache", "list"], env, [SECRET])
        self.assertEqual(r.rc, 0, r.err)
        lines = r.out.strip().splitlines()
        self.assertEqual(len(lines), 2, r.out)
        self.assertNotIn(ACCOUNT, lines[0])
        self.assertIn(f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com", lines[1])
        self.assertTrue(re.search(r"(?i)expires", lines[0]), f"no header: {lines[0]!r}")


if __name__ == "__main__":
    peers.main()
