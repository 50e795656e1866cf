#!/usr/bin/env python3
"""seeds.py -- (re)make the recorded part of the seed corpora in fuzz/corpus/:
the replies of the tests' own peers (tests/peers/*.py), as they send them to
dcgen, each behind the selector byte its target reads (fuzz/<target>.c).

    python3 fuzz/seeds.py          writes fuzz/corpus/<target>/peer-*

Every peer runs in-process on 127.0.0.1 with a request loop of fixed length;
requests are made as dcgen makes them (SigV4-signed by botocore for the AWS
peer, an RS256 grant for Google's token endpoint, AAD's client credentials
for Azure and ACR), and each reply body is recorded as received. The hand-
written seeds beside them (no peer- prefix) stay as they are; regress-* are
inputs that once crashed a target (README "Testing").
"""
import base64
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "peers"))

from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

import aws_json_server  # noqa: E402
import azure_server  # noqa: E402
import google_server  # noqa: E402
import jwt_rs256  # noqa: E402

CORPUS = os.path.join(here, "corpus")


def save(target, name, selector, body):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "peer-" + name), "wb") as f:
        f.write(bytes([selector]) + body if selector is not None else body)


def err_sel(status):
    """The aws target's selector byte for an error reply of `status`."""
    return 3 + 4 * (status - 400 if status < 500 else 32 + status - 500)


def fetch(url, data=None, headers=None, method=None):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def aws_signed(url, service, region, key, body, headers):
    req = AWSRequest(method="POST", url=url, data=body, headers=headers)
    SigV4Auth(Credentials(*key), service, region).add_auth(req)
    return fetch(url, body, dict(req.headers.items()), "POST")


def record_aws():
    key = ("AKIDFUZZSEED", "fuzz/seed+secret")
    srv = aws_json_server.AwsJsonServer({key[0]: (key[1], None)}, account="123456789012").start()
    try:
        ecr = {"Content-Type": "application/x-amz-json-1.1",
               "X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"}
        pub = {"Content-Type": "application/x-amz-json-1.1",
               "X-Amz-Target": "SpencerFrontendService.GetAuthorizationToken"}
        url = srv.url + "/"
        srv.script = ["ok", "ok", "ok", "500", "429", "throttle", "notjson"]
        _, b = aws_signed(url, "ecr", "us-east-1", key, b"{}", ecr)
        save("aws", "ecr-one", 0, b)
        save("aws", "ecr-one-host", 1, b)
        _, b = aws_signed(url, "ecr", "us-east-1", key,
                          b'{"registryIds":["123456789012","210987654321"]}', ecr)
        save("aws", "ecr-two", 0, b)
        _, b = aws_signed(url, "ecr-public", "us-east-1", key, b"{}", pub)
        save("aws", "ecr-public", 2, b)
        for name in ("500", "429", "throttle"):
            status, b = aws_signed(url, "ecr", "us-east-1", key, b"{}", ecr)
            save("aws", "error-" + name, err_sel(status), b)
        _, b = aws_signed(url, "ecr", "us-east-1", key, b"{}", ecr)
        save("aws", "notjson", 0, b)
        srv.no_expiry = True
        _, b = aws_signed(url, "ecr", "us-east-1", key, b"{}", ecr)
        save("aws", "ecr-no-expiry", 0, b)
        srv.no_expiry = False
        # a wrong signature: the JSON error reply
        status, b = aws_signed(url, "ecr", "us-east-1", ("AKIDFUZZSEED", "wrong"), b"{}", ecr)
        save("aws", "error-signature", err_sel(status), b)
        # STS AssumeRole (XML), its error, and its text through the XML lookup
        form = urllib.parse.urlencode({"Action": "AssumeRole", "Version": "2011-06-15",
                                       "RoleArn": "arn:aws:iam::123456789012:role/r",
                                       "RoleSessionName": "dcgen"}).encode()
        sts = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        srv.sts_token = "Fwo&#13;&#10;GZXIv&amp;token"
        _, b = aws_signed(url, "sts", "us-east-1", key, form, sts)
        for i, tag in enumerate(["AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"]):
            save("codec", "sts-" + tag, 2 + 6 * i, b)
        exp = b.split(b"<Expiration>")[1].split(b"</Expiration>")[0]
        save("codec", "sts-expiration", 3, exp)
        srv.script = ["500"]
        status, b = aws_signed(url, "sts", "us-east-1", key, form, sts)
        save("aws", "sts-500", err_sel(status), b)
        status, b = aws_signed(url, "sts", "us-east-1", ("AKIDFUZZSEED", "wrong"), form, sts)
        save("aws", "sts-refused", err_sel(status), b)
        save("codec", "sts-error-code", 2 + 6 * 4, b)
    finally:
        srv.close()


def record_google():
    srv = google_server.GoogleServer().start()
    try:
        key = srv.add_account("fuzz@dcgen-test.iam.gserviceaccount.com", "dcgen-test")
        save("google_key", "service-account", None, json.dumps(key, indent=2).encode())
        save("google_key", "bom", None, b"\xef\xbb\xbf" + json.dumps(key).encode())
        from cryptography.hazmat.primitives import serialization
        private = serialization.load_pem_private_key(key["private_key"].encode(), None)
        now = int(time.time())
        grant = jwt_rs256.encode({"iss": key["client_email"], "scope": google_server.SCOPE,
                                  "aud": srv.token_uri, "iat": now, "exp": now + 3600}, private,
                                 kid=key["private_key_id"])
        form = urllib.parse.urlencode({"grant_type": google_server.GRANT, "assertion": grant}).encode()
        ct = {"Content-Type": "application/x-www-form-urlencoded"}
        _, b = fetch(srv.token_uri, form, ct)
        save("token", "google-token", 0, b)
        save("codec", "google-grant", 1, grant.split(".")[1].encode())
        srv.script = ["noaccess", "notjson", "500"]
        for name in ("noaccess", "notjson"):
            _, b = fetch(srv.token_uri, form, ct)
            save("token", "google-" + name, 0, b)
        _, b = fetch(srv.token_uri, form, ct)
        save("token", "google-500", 1, b)
        _, b = fetch(srv.token_uri, b"grant_type=x", ct)
        save("token", "google-refused", 1, b)
        md = {"Metadata-Flavor": "Google"}
        _, b = fetch(srv.url + "/computeMetadata/v1/instance/service-accounts/default/token", headers=md)
        save("token", "gce-metadata-token", 0, b)
    finally:
        srv.close()


def record_azure():
    aad = azure_server.AadServer("fuzz-tenant", {"fuzz-client": "fuzz-secret"}).start()
    acr = azure_server.AcrServer("fuzz-tenant", aad.public_key).start()
    try:
        ct = {"Content-Type": "application/x-www-form-urlencoded"}
        url = f"{aad.url}/fuzz-tenant/oauth2/v2.0/token"
        form = {"grant_type": "client_credentials", "client_id": "fuzz-client",
                "scope": azure_server.ACR_SCOPE, "client_secret": "fuzz-secret"}
        _, b = fetch(url, urllib.parse.urlencode(form).encode(), ct)
        save("token", "aad-token", 0, b)
        aad_token = json.loads(b)["access_token"]
        status, b = fetch(url, urllib.parse.urlencode(dict(form, client_secret="wrong")).encode(), ct)
        save("token", "aad-refused", 1, b)
        ex = {"grant_type": "access_token", "service": acr.host, "tenant": "fuzz-tenant",
              "access_token": aad_token}
        _, b = fetch(acr.url + "/oauth2/exchange", urllib.parse.urlencode(ex).encode(), ct)
        save("token", "acr-exchange", 3, b)
        refresh = json.loads(b)["refresh_token"]
        save("token", "acr-refresh-jwt", 2, refresh.encode())
        save("codec", "acr-refresh-claims", 1, refresh.split(".")[1].encode())
        acr.script = ["401", "norefresh"]
        _, b = fetch(acr.url + "/oauth2/exchange", urllib.parse.urlencode(ex).encode(), ct)
        save("token", "acr-401", 1, b)
        _, b = fetch(acr.url + "/oauth2/exchange", urllib.parse.urlencode(ex).encode(), ct)
        save("token", "acr-norefresh", 3, b)
    finally:
        aad.close()
        acr.close()


def record_cache(dcgen):
    """A real cache entry and state record: dcgen's own, written against the
    AWS peer (DCGEN_BIN or build*/dcgen)."""
    import glob
    import shutil
    import subprocess
    import tempfile
    key = ("AKIDFUZZCACHE", "fuzz/cache+secret")
    srv = aws_json_server.AwsJsonServer({key[0]: (key[1], None)}).start()
    tmp = tempfile.mkdtemp(prefix="dcgen-seeds-")
    try:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "AWS_ACCESS_KEY_ID": key[0],
               "AWS_SECRET_ACCESS_KEY": key[1], "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": srv.url,
               "DCGEN_CACHE_DIR": os.path.join(tmp, "cache"), "DCGEN_TIMEOUT": "5"}
        subprocess.run([dcgen, os.path.join(tmp, "cfg")], env=env, capture_output=True, timeout=60)
        for path in glob.glob(os.path.join(tmp, "cache", "*.entry")):
            save("cache", "entry-ecr", 0, open(path, "rb").read())
        with open(os.path.join(tmp, "cfg"), "rb") as f:
            save("dockercfg", "dcgen-config", 1, f.read())
        env["AWS_ACCESS_KEY_ID"] = "AKIDOTHER"  # another principal: a fresh fetch that fails
        srv.default = "500"
        subprocess.run([dcgen, os.path.join(tmp, "cfg2")], env=env, capture_output=True, timeout=60)
        for path in glob.glob(os.path.join(tmp, "cache", "*.state")):
            save("cache", "state-fail", 2, open(path, "rb").read())
    finally:
        srv.close()
        shutil.rmtree(tmp, True)


FIXED_KEY = base64.b64encode(b"0123456789abcdef0123456789abcdef")  # fuzz/encfile.c's key


def record_encfile(dcgen):
    """Files `dcgen encrypt` writes under the encfile target's fixed key, both
    formats, of a CodeShip-style dockercfg and env file."""
    import shutil
    import subprocess
    import tempfile
    tmp = tempfile.mkdtemp(prefix="dcgen-seeds-")
    try:
        key = os.path.join(tmp, "codeship.aes")
        with open(key, "wb") as f:
            f.write(FIXED_KEY + b"\n")
        save("encfile", "keyfile", 1, FIXED_KEY + b"\n")
        plain = {"dockercfg": json.dumps({"auths": {"https://index.docker.io/v1/": {
                     "auth": base64.b64encode(b"user:pass").decode(), "email": "u@example.com"}}}).encode(),
                 "env": b"AWS_ACCESS_KEY_ID=AKIAEXAMPLE\nAWS_SECRET_ACCESS_KEY=secret/with=chars\n"}
        for name, text in plain.items():
            src = os.path.join(tmp, name)
            with open(src, "wb") as f:
                f.write(text)
            for legacy in ([], ["--legacy"]):
                out = src + ".encrypted"
                if os.path.exists(out):
                    os.unlink(out)
                subprocess.run([dcgen, "encrypt", "-q", "-k", key] + legacy + [src, out], check=True,
                               capture_output=True, timeout=60)
                with open(out, "rb") as f:
                    save("encfile", f"{name}{'-legacy' if legacy else '-v1'}", 0, f.read())
    finally:
        shutil.rmtree(tmp, True)


def main():
    dcgen = os.environ.get("DCGEN_BIN") or next(
        (p for p in (os.path.join(here, "..", d, "dcgen") for d in ("build", "build-dyn")) if os.path.exists(p)),
        None)
    if dcgen:
        record_cache(dcgen)
        record_encfile(dcgen)
    else:
        print("seeds: no dcgen binary (DCGEN_BIN): no cache files recorded", file=sys.stderr)
    record_aws()
    record_google()
    record_azure()
    n = sum(len([f for f in os.listdir(os.path.join(CORPUS, d)) if f.startswith("peer-")])
            for d in os.listdir(CORPUS))
    print(f"seeds: {n} recorded replies in {CORPUS}")


if __name__ == "__main__":
    main()
