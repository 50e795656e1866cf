"""dcgen's static providers (docker, heroku, ibm) and provider selection: the
host keys a Docker client looks credentials up by, the fixed user names, and
every configuration error (exit 2, nothing written, no secret echoed)."""
import json
import os
import shutil
import tempfile
import unittest

import peers

PASSWORD = "dckr_pat_s3cret+/=value"
HEROKU_KEY = "0a1b2c3d-4e5f-heroku-api-key"
IBM_KEY = "ibm-api-key-0123456789abcdef"
BLUEMIX_KEY = "bluemix-api-key-9876543210"
HUB = "https://index.docker.io/v1/"


class StaticCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="dcgen-out-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.path = os.path.join(self.dir, "config.json")

    def run_dcgen(self, env, *args):
        env = dict(env, PATH=os.environ.get("PATH", "/usr/bin:/bin"))
        return peers.run(list(args) + [self.path], env, [PASSWORD, HEROKU_KEY, IBM_KEY, BLUEMIX_KEY])

    def written(self, env, *args):
        r = self.run_dcgen(env, *args)
        self.assertEqual(r.rc, 0, r.err)
        self.assertNotIn("expires", r.err)
        # no request was made: the credential is the environment's own
        self.assertRegex(r.err, r"wrote \d+ \w+ credentials? from the environment to ")
        self.assertEqual(os.stat(self.path).st_mode & 0o777, 0o600)
        with open(self.path) as f:
            doc = json.load(f)
        os.unlink(self.path)
        return doc["auths"] if "auths" in doc else doc

    def assert_failed_cleanly(self, env, rc, *texts):
        r = self.run_dcgen(env)
        self.assertEqual(r.rc, rc, r.err)
        for t in texts:
            self.assertIn(t, r.err)
        self.assertEqual(len(r.err.strip().splitlines()), 1, r.err)
        self.assertEqual(os.listdir(self.dir), [])
        return r


class Docker(StaticCase):
    def env(self, **extra):
        return dict({"DOCKER_USERNAME": "ci-bot", "DOCKER_PASSWORD": PASSWORD}, **extra)

    def test_with_a_cache(self):
        # nothing to save: a provider that needs no network does not use the
        # cache at all (not even a read-only or refused cache directory fails it)
        cache = os.path.join(self.dir, "cache")
        for _ in range(2):
            r = self.run_dcgen(self.env(DCGEN_CACHE_DIR=cache))
            self.assertEqual(r.rc, 0, r.err)
            self.assertIn("wrote 1 docker credential from the environment to ", r.err)
        self.assertFalse(os.path.exists(cache))

    def test_docker_hub_by_default(self):
        auths = self.written(self.env())
        self.assertEqual(list(auths), [HUB])
        self.assertEqual(peers.decode_auth(auths[HUB]), ("ci-bot", PASSWORD))

    def test_registry_keys(self):
        for registry, key in [(HUB, HUB), ("https://index.docker.io/v1", HUB), ("docker.io", HUB),
                              ("index.docker.io", HUB), ("https://registry-1.docker.io/", HUB),
                              ("registry.example.com", "registry.example.com"),
                              ("registry.example.com:5000/", "registry.example.com:5000"),
                              ("https://registry.example.com:5000/", "registry.example.com:5000"),
                              ("https://registry.example.com/v2/", "registry.example.com"),
                              ("http://127.0.0.1:5000", "127.0.0.1:5000"),
                              ("ghcr.io", "ghcr.io")]:
            with self.subTest(registry=registry):
                auths = self.written(self.env(DOCKER_REGISTRY=registry))
                self.assertEqual(list(auths), [key])
                self.assertEqual(peers.decode_auth(auths[key]), ("ci-bot", PASSWORD))

    def test_legacy_format(self):
        doc = self.written(self.env(), "--format", "dockercfg")
        self.assertEqual(doc[HUB]["email"], "")
        self.assertEqual(peers.decode_auth(doc[HUB]), ("ci-bot", PASSWORD))

    def test_bad_input(self):
        self.assert_failed_cleanly({"DOCKER_USERNAME": "ci-bot"}, 2, "DOCKER_PASSWORD is not set")
        self.assert_failed_cleanly({"DOCKER_PASSWORD": PASSWORD}, 2, "DOCKER_USERNAME is not set")
        self.assert_failed_cleanly(self.env(DOCKER_USERNAME="ci:bot"), 2, "DOCKER_USERNAME is 'ci:bot'")
        self.assert_failed_cleanly(self.env(DOCKER_REGISTRY="ftp://registry.example.com"), 2, "DOCKER_REGISTRY")
        self.assert_failed_cleanly(self.env(DOCKER_REGISTRY="https:///v2/"), 2, "names no registry host")
        self.assert_failed_cleanly(self.env(DOCKER_REGISTRY="bad host!"), 2, "not a host name")


class Heroku(StaticCase):
    def test_heroku(self):
        auths = self.written({"HEROKU_API_KEY": HEROKU_KEY})
        self.assertEqual(list(auths), ["registry.heroku.com"])
        self.assertEqual(peers.decode_auth(auths["registry.heroku.com"]), ("_", HEROKU_KEY))


class Ibm(StaticCase):
    def test_default_registry(self):
        auths = self.written({"IBMCLOUD_API_KEY": IBM_KEY})
        self.assertEqual(list(auths), ["icr.io"])
        self.assertEqual(peers.decode_auth(auths["icr.io"]), ("iamapikey", IBM_KEY))

    def test_bluemix_name(self):
        auths = self.written({"BLUEMIX_API_KEY": BLUEMIX_KEY})
        self.assertEqual(peers.decode_auth(auths["icr.io"]), ("iamapikey", BLUEMIX_KEY))
        # the current name wins over the old one
        auths = self.written({"BLUEMIX_API_KEY": BLUEMIX_KEY, "IBMCLOUD_API_KEY": IBM_KEY})
        self.assertEqual(peers.decode_auth(auths["icr.io"]), ("iamapikey", IBM_KEY))

    def test_regional_registries(self):
        auths = self.written({"IBMCLOUD_API_KEY": IBM_KEY, "IBMCLOUD_REGISTRY": "us.icr.io, de.icr.io,https://jp.icr.io/"})
        self.assertEqual(set(auths), {"us.icr.io", "de.icr.io", "jp.icr.io"})
        for host in auths:
            self.assertEqual(peers.decode_auth(auths[host]), ("iamapikey", IBM_KEY))

    def test_bad_registry_list(self):
        self.assert_failed_cleanly({"IBMCLOUD_API_KEY": IBM_KEY, "IBMCLOUD_REGISTRY": " , "}, 2, "names no registry")
        self.assert_failed_cleanly({"IBMCLOUD_API_KEY": IBM_KEY, "IBMCLOUD_REGISTRY": "us.icr.io,ftp://x"}, 2,
                                   "IBMCLOUD_REGISTRY")


class Selection(StaticCase):
    def test_nothing_set(self):
        r = self.assert_failed_cleanly({}, 2, "no provider's variables are set", "DCGEN_PROVIDER")
        for name in ("ecr", "gcr", "acr", "docker", "heroku", "ibm"):
            self.assertIn(name + " (", r.err)

    def test_several_set_names_what_was_found(self):
        r = self.assert_failed_cleanly({"HEROKU_API_KEY": HEROKU_KEY, "DOCKER_USERNAME": "ci-bot",
                                        "DOCKER_PASSWORD": PASSWORD, "BLUEMIX_API_KEY": BLUEMIX_KEY}, 2,
                                       "several providers",
                                       "docker: DOCKER_USERNAME, DOCKER_PASSWORD", "heroku: HEROKU_API_KEY",
                                       "ibm: BLUEMIX_API_KEY")
        self.assertNotIn("IBMCLOUD_API_KEY", r.err)

    def test_chosen_by_name(self):
        env = {"HEROKU_API_KEY": HEROKU_KEY, "DOCKER_USERNAME": "ci-bot", "DOCKER_PASSWORD": PASSWORD}
        self.assertEqual(list(self.written(dict(env, DCGEN_PROVIDER="heroku"))), ["registry.heroku.com"])
        self.assertEqual(list(self.written(env, "--provider", "docker")), [HUB])
        # the flag wins over the variable
        self.assertEqual(list(self.written(dict(env, DCGEN_PROVIDER="heroku"), "-p", "docker")), [HUB])

    def test_chosen_provider_without_its_variables(self):
        self.assert_failed_cleanly({"DCGEN_PROVIDER": "heroku"}, 2, "HEROKU_API_KEY is not set")
        self.assert_failed_cleanly({"DCGEN_PROVIDER": "ibm"}, 2, "IBMCLOUD_API_KEY is not set")
        self.assert_failed_cleanly({"DCGEN_PROVIDER": "acr"}, 2, "AZURE_REGISTRY is not set")

    def test_unknown_name(self):
        self.assert_failed_cleanly({"DCGEN_PROVIDER": "quay"}, 2, "'quay', not a provider",
                                   "ecr, gcr, acr, docker, heroku, ibm")

    def test_help_lists_every_provider(self):
        r = peers.run(["--help"], {"PATH": "/usr/bin:/bin"})
        self.assertEqual(r.rc, 0)
        for name in ("ecr", "gcr", "acr", "docker", "heroku", "ibm"):
            self.assertRegex(r.out, rf"\n  {name} +\S")


if __name__ == "__main__":
    peers.main()
