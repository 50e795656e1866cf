"""Local stand-ins for the AWS endpoints that have no emulator, each checking
requests as AWS documents them.

  Imds(creds)          IMDSv2 (docs.aws.amazon.com/AWSEC2/latest/UserGuide/
                       configuring-instance-metadata-service.html):
                       PUT /latest/api/token needs X-aws-ec2-metadata-token-ttl-seconds
                       in 1..21600 and no X-Forwarded-For; every GET needs the token
                       it handed out in X-aws-ec2-metadata-token (401 otherwise);
                       v2=False: no token API (PUT answers 405), v1 GETs only;
                       GET .../iam/security-credentials/ -> role name, then
                       .../ROLE -> JSON with Code Success. v1=False refuses
                       token-less GETs (IMDSv2 required, as AWS can be set to).
  Container(creds, auth)  the ECS / EKS Pod Identity endpoint: GET only, the
                       Authorization header must equal `auth` (when given).
  StsWebIdentity(...)  STS's AssumeRoleWithWebIdentity in front of moto.
(The GitHub Actions OIDC endpoint is in github_oidc_server.py.)
Each records (method, path, headers) for the tests.
"""
import secrets
import time
from urllib.parse import parse_qs, urlsplit

from localserver import LocalHandler, LocalServer


def creds_json(creds, code=True):
    doc = {"AccessKeyId": creds["AccessKeyId"], "SecretAccessKey": creds["SecretAccessKey"],
           "Token": creds.get("SessionToken", ""),
           "Expiration": creds.get("Expiration") or time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                  time.gmtime(time.time() + 3600))}
    if code:
        doc.update({"Code": "Success", "Type": "AWS-HMAC",
                    "LastUpdated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    return doc


class Imds(LocalServer):
    def __init__(self, creds, role="ec2-ecr-reader", v1=False, v2=True, **kw):
        super().__init__(**kw)
        self.creds, self.role, self.v1, self.v2 = creds, role, v1, v2
        self.tokens = set()

    def _handler(self):
        server = self

        class Handler(LocalHandler):
            def do_PUT(self):
                server._record("PUT", self.path, dict(self.headers))
                self.body()
                if server._next() == "hang":
                    time.sleep(5)
                    return
                ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
                if not server.v2:  # an old IMDS (or a proxy) without the token API
                    return self.send(405, b"", "text/plain")
                if self.path != "/latest/api/token" or self.headers.get("X-Forwarded-For"):
                    return self.send(403, b"", "text/plain")
                if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
                    return self.send(400, b"", "text/plain")
                tok = "AQAE" + secrets.token_urlsafe(40)
                server.tokens.add(tok)
                self.send(200, tok.encode(), "text/plain", headers=[("X-aws-ec2-metadata-token-ttl-seconds", ttl)])

            def do_GET(self):
                server._record("GET", self.path, dict(self.headers))
                tok = self.headers.get("X-aws-ec2-metadata-token")
                if tok is not None and tok not in server.tokens:
                    return self.send(401, b"", "text/plain")
                if tok is None and not server.v1:
                    return self.send(401, b"", "text/plain")
                base = "/latest/meta-data/iam/security-credentials/"
                if self.path == base:
                    return self.send(200, server.role.encode(), "text/plain")
                if self.path == base + server.role:
                    return self.send(200, creds_json(server.creds), "text/plain")
                self.send(404, b"", "text/plain")

        return Handler


class Container(LocalServer):
    def __init__(self, creds, auth=None, path="/v2/credentials/task", **kw):
        super().__init__(**kw)
        self.creds, self.auth, self.path = creds, auth, path

    def _handler(self):
        server = self

        class Handler(LocalHandler):
            def do_GET(self):
                server._record("GET", self.path, dict(self.headers))
                if server.auth is not None and self.headers.get("Authorization") != server.auth:
                    return self.send(401, {"Message": "unauthorized"})
                if urlsplit(self.path).path != server.path:
                    return self.send(404, {"Message": "not found"})
                self.send(200, creds_json(server.creds, code=False))

        return Handler


class StsWebIdentity(LocalServer):
    """STS's AssumeRoleWithWebIdentity, checked as AWS documents it: an
    unsigned form POST (no Authorization, no X-Amz-Security-Token) with
    Version 2011-06-15, RoleArn, RoleSessionName (2-64 of [\\w+=,.@-]) and a
    WebIdentityToken that `verify(token)` accepts (the issuer's signature and
    audience). The credentials then come from moto: a signed AssumeRole of the
    same role with `keys` (moto 5.2 with signature checks on fails unsigned
    calls: KeyError 'HTTP_AUTHORIZATION' in moto/iam/access_control.py), so
    moto's ECR checks what dcgen gets. .tokens keeps the tokens it was sent."""

    def __init__(self, moto_url, verify, keys, **kw):
        super().__init__(**kw)
        self.moto_url, self.verify, self.keys = moto_url, verify, keys
        self.tokens = []

    def _handler(self):
        server = self

        class Handler(LocalHandler):
            def do_POST(self):
                import re

                import boto3
                body = self.body()
                form = parse_qs(body.decode(), strict_parsing=True)
                server._record("POST", self.path, dict(self.headers), form)
                one = {k: v[0] for k, v in form.items() if len(v) == 1}
                problems = []
                if self.headers.get("Authorization") or self.headers.get("X-Amz-Security-Token"):
                    problems.append("signed")
                if one.get("Action") != "AssumeRoleWithWebIdentity" or one.get("Version") != "2011-06-15":
                    problems.append("action or version")
                if not re.fullmatch(r"[\w+=,.@-]{2,64}", one.get("RoleSessionName", "")):
                    problems.append("session name")
                if not re.fullmatch(r"arn:aws:iam::\d{12}:role/[\w+=,.@-]+", one.get("RoleArn", "")):
                    problems.append("role arn")
                try:
                    server.verify(one.get("WebIdentityToken", ""))
                    server.tokens.append(one["WebIdentityToken"])
                except (ValueError, KeyError) as e:
                    problems.append(f"token: {e}")
                if problems:
                    return self.send(400, ("<ErrorResponse><Error><Code>InvalidIdentityToken</Code><Message>"
                                           f"{'; '.join(problems)}</Message></Error></ErrorResponse>").encode(),
                                     "text/xml")
                sts = boto3.client("sts", endpoint_url=server.moto_url, region_name="us-east-1",
                                   aws_access_key_id=server.keys[0], aws_secret_access_key=server.keys[1])
                c = sts.assume_role(RoleArn=one["RoleArn"], RoleSessionName=one["RoleSessionName"])["Credentials"]
                xml = ("<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                       "<AssumeRoleWithWebIdentityResult><Credentials>"
                       f"<AccessKeyId>{c['AccessKeyId']}</AccessKeyId>"
                       f"<SecretAccessKey>{c['SecretAccessKey']}</SecretAccessKey>"
                       f"<SessionToken>{c['SessionToken']}</SessionToken>"
                       f"<Expiration>{c['Expiration'].strftime('%Y-%m-%dT%H:%M:%SZ')}</Expiration>"
                       "</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>")
                self.send(200, xml.encode(), "text/xml")

        return Handler
