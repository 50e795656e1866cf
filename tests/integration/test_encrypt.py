"""dcgen keygen, encrypt and decrypt, run as the real binary: key files (mode,
refusal to overwrite, white space), files and stdin/stdout, CodeShip's
unversioned format made and read by another implementation (Python's
`cryptography`), the public test vector, the refused codeship:v2 and
cloudbees:v1 headers, wrong keys and changed files, and what is left on disk:
outputs 0600, no temp files, a failed command leaves an existing OUT as it
was, and no secret ever appears on stderr."""
import base64
import os
import shutil
import stat
import subprocess
import tempfile
import unittest
import warnings

import peers

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
try:  # cryptography >= 43 keeps CFB among the "decrepit" modes
    from cryptography.hazmat.decrepit.ciphers.modes import CFB
except ImportError:  # pragma: no cover
    from cryptography.hazmat.primitives.ciphers.modes import CFB

warnings.simplefilter("ignore")

# Public test data: github.com/codeship/codeship-tool-examples keys/aes/key.key
# and 11.encrypted-aes/environment.encrypted, made by jet with that key.
VECTOR_KEY = "E6kwQsGsIGMWrDQYmfnUcnHb+Yq2slOHH4/IBkVzaHo="
VECTOR = ("6UU+0y1kdnR2CqcxLQ9WYwBtv0EjbbGfKLw994VzfZC7XA27dFIZygdU8ylr236OtuQ+PA/PUE11HPObTgWew"
          "gAl3zcIxvJKKEJcUAbnn3n0Ns0zw291nA8/EergAWKoog8P")
VECTOR_PLAIN = b"# jet encrypt --key-path=key.key environment environment.encrypted\nFOO=bar\nBAZ=bat\n"

SECRET = "s3cr3t-Value-0123456789"
PLAIN = f"AWS_ACCESS_KEY_ID=AKIAEXAMPLE\nAWS_SECRET_ACCESS_KEY={SECRET}\n".encode()


def cfb_encrypt(key, plain, iv=None):
    iv = iv or os.urandom(16)
    enc = Cipher(algorithms.AES(key), CFB(iv)).encryptor()
    return base64.b64encode(iv + enc.update(plain) + enc.finalize())


def cfb_decrypt(key, text):
    raw = base64.b64decode(text, validate=True)
    dec = Cipher(algorithms.AES(key), CFB(raw[:16])).decryptor()
    return dec.update(raw[16:]) + dec.finalize()


HEADER = b"dcgen:v1:aes-256-gcm"


def v1_key(key):
    """The GCM key of dcgen:v1, as README "Encrypted files" specifies it."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HEADER).derive(key)


def v1_encrypt(key, plain):
    nonce = os.urandom(12)
    return HEADER + b"\n" + base64.b64encode(nonce + AESGCM(v1_key(key)).encrypt(nonce, plain, HEADER)) + b"\n"


def v1_decrypt(key, text):
    header, body, rest = text.split(b"\n")
    assert header == HEADER and rest == b"", text
    raw = base64.b64decode(body, validate=True)
    return AESGCM(v1_key(key)).decrypt(raw[:12], raw[12:], HEADER)


class Encrypt(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="dcgen-encrypt-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.key_text = base64.b64encode(os.urandom(32)).decode()
        self.write("codeship.aes", self.key_text)

    def p(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, data, mode=0o644):
        if isinstance(data, str):
            data = data.encode()
        with open(self.p(name), "wb") as f:
            f.write(data)
        os.chmod(self.p(name), mode)

    def read(self, name):
        with open(self.p(name), "rb") as f:
            return f.read()

    def dcgen(self, *args, stdin=b"", rc=0, secrets=()):
        """Run dcgen in the test directory; check the exit code and that
        neither the key nor any plaintext shows on stderr."""
        p = subprocess.run([peers.DCGEN] + list(args), cwd=self.dir, input=stdin, capture_output=True,
                           env=peers.env(), timeout=30)
        err = p.stderr.decode(errors="replace")
        self.assertEqual(p.returncode, rc, err)
        for s in (SECRET, self.key_text, "FOO=bar") + tuple(secrets):
            self.assertNotIn(s, err)
        if rc:
            self.assertTrue(err.startswith("dcgen: error: "), err)
            self.assertEqual(len([line for line in err.splitlines() if "error:" in line]), 1, err)
        return p.stdout, err

    def assert_private(self, name):
        self.assertEqual(stat.S_IMODE(os.stat(self.p(name)).st_mode), 0o600)

    def assert_only(self, *names):
        """The directory holds exactly these names: no temp file left."""
        self.assertEqual(sorted(os.listdir(self.dir)), sorted(names + ("codeship.aes",)))

    # keygen

    def test_keygen(self):
        os.unlink(self.p("codeship.aes"))
        _, err = self.dcgen("keygen")
        key = self.read("codeship.aes")
        self.assertEqual(len(key), 45)
        self.assertTrue(key.endswith(b"\n"))
        self.assertEqual(len(base64.b64decode(key.strip(), validate=True)), 32)
        self.assert_private("codeship.aes")
        self.assertIn("codeship.aes", err)
        self.assertNotIn(key.strip().decode(), err)
        # refuses to overwrite, leaves the key as it was
        _, err = self.dcgen("keygen", rc=2, secrets=(key.strip().decode(),))
        self.assertIn("refusing to overwrite", err)
        self.assertEqual(self.read("codeship.aes"), key)
        # an explicit PATH; a second key differs; a missing directory is a usage error
        self.dcgen("keygen", "other.aes")
        self.assertNotEqual(self.read("other.aes"), key)
        self.assert_private("other.aes")
        self.dcgen("keygen", "no/such/dir.aes", rc=2)
        self.dcgen("keygen", "a.aes", "b.aes", rc=2)
        self.dcgen("keygen", "-", rc=2)
        self.assert_only("other.aes")
        # the key works: encrypt with it, decrypt with it
        self.dcgen("encrypt", "--key-path", "other.aes", "-", "x.enc", stdin=PLAIN)
        out, _ = self.dcgen("decrypt", "--key-path=other.aes", "x.enc", "-")
        self.assertEqual(out, PLAIN)

    # round trips

    def test_files_round_trip(self):
        self.write("env", PLAIN)
        _, err = self.dcgen("encrypt", "env", "env.encrypted")
        text = self.read("env.encrypted")
        self.assertTrue(text.startswith(b"dcgen:v1:aes-256-gcm\n"), text)
        self.assertNotIn(SECRET.encode(), text)
        self.assertNotIn("warning", err)
        self.dcgen("decrypt", "env.encrypted", "env.decrypted")
        self.assertEqual(self.read("env.decrypted"), PLAIN)
        self.assert_private("env.decrypted")
        self.assert_private("env.encrypted")
        # decrypting over an existing, readable file: replaced, now 0600
        self.write("env.decrypted", "old\n", 0o644)
        self.dcgen("decrypt", "env.encrypted", "env.decrypted")
        self.assertEqual(self.read("env.decrypted"), PLAIN)
        self.assert_private("env.decrypted")
        self.assert_only("env", "env.encrypted", "env.decrypted")

    def test_stdin_stdout(self):
        text, _ = self.dcgen("encrypt", "-", "-", stdin=PLAIN)
        self.assertTrue(text.startswith(b"dcgen:v1:aes-256-gcm\n"))
        out, err = self.dcgen("decrypt", "-", "-", stdin=text)
        self.assertEqual(out, PLAIN)
        self.assertEqual(err, "")
        # binary data, and empty input
        blob = bytes(range(256)) * 40
        text, _ = self.dcgen("encrypt", "-q", "-", "-", stdin=blob)
        out, _ = self.dcgen("decrypt", "-", "-", stdin=text)
        self.assertEqual(out, blob)
        text, _ = self.dcgen("encrypt", "-", "-", stdin=b"")
        out, _ = self.dcgen("decrypt", "-", "-", stdin=text)
        self.assertEqual(out, b"")
        self.assert_only()

    def test_key_with_white_space(self):
        # `echo KEY > codeship.aes`, as users were told, and a pasted one
        for text in (self.key_text + "\n", "  " + self.key_text + " \r\n\n"):
            self.write("codeship.aes", text)
            enc, _ = self.dcgen("encrypt", "-", "-", stdin=PLAIN)
            self.write("codeship.aes", self.key_text)
            out, _ = self.dcgen("decrypt", "-", "-", stdin=enc)
            self.assertEqual(out, PLAIN)

    # CodeShip's unversioned format, with another implementation

    def test_legacy_from_python(self):
        key = base64.b64decode(self.key_text)
        for plain in (PLAIN, b"", b"x", bytes(range(256)) * 3):
            self.write("legacy.encrypted", cfb_encrypt(key, plain))
            _, err = self.dcgen("decrypt", "legacy.encrypted", "plain")
            self.assertEqual(self.read("plain"), plain)
            self.assertIn("no integrity check", err)
        self.assert_private("plain")
        self.assert_only("legacy.encrypted", "plain")

    def test_legacy_to_python(self):
        key = base64.b64decode(self.key_text)
        self.write("env", PLAIN)
        _, err = self.dcgen("encrypt", "--legacy", "env", "env.encrypted")
        self.assertIn("warning: the legacy format has no integrity check", err)
        text = self.read("env.encrypted")
        self.assertFalse(text.endswith(b"\n"))  # one line, as jet wrote it
        self.assertEqual(len(base64.b64decode(text)), 16 + len(PLAIN))
        self.assertEqual(cfb_decrypt(key, text), PLAIN)
        # and dcgen reads its own legacy output too
        out, _ = self.dcgen("decrypt", "env.encrypted", "-")
        self.assertEqual(out, PLAIN)
        self.dcgen("decrypt", "--legacy", "env.encrypted", "-", rc=2)

    def test_public_vector(self):
        self.write("codeship.aes", VECTOR_KEY + "\n")
        self.write("environment.encrypted", VECTOR)
        out, _ = self.dcgen("decrypt", "environment.encrypted", "-", secrets=(VECTOR_KEY,))
        self.assertEqual(out, VECTOR_PLAIN)
        # Python agrees, and re-encrypting with the same IV gives the same file
        key = base64.b64decode(VECTOR_KEY)
        self.assertEqual(cfb_decrypt(key, VECTOR), VECTOR_PLAIN)
        self.assertEqual(cfb_encrypt(key, VECTOR_PLAIN, base64.b64decode(VECTOR)[:16]).decode(), VECTOR)

    def test_v1_with_python(self):
        """Another implementation of the documented dcgen:v1 reads what dcgen
        writes, and dcgen reads what it writes."""
        key = base64.b64decode(self.key_text)
        text, _ = self.dcgen("encrypt", "-", "-", stdin=PLAIN)
        self.assertEqual(v1_decrypt(key, text), PLAIN)
        out, _ = self.dcgen("decrypt", "-", "-", stdin=v1_encrypt(key, PLAIN))
        self.assertEqual(out, PLAIN)

    # refusals and failures

    def test_unpublished_formats(self):
        for header in ("codeship:v2", "cloudbees:v1"):
            body = base64.b64encode(os.urandom(96)).decode()
            self.write("x.encrypted", f"{header}\n{body}")
            self.write("out", "previous\n")
            _, err = self.dcgen("decrypt", "x.encrypted", "out", rc=2)
            self.assertIn(header, err)
            self.assertIn("'x.encrypted'", err)
            self.assertIn("jet decrypt", err)
            self.assertIn("dcgen encrypt", err)
            self.assertEqual(self.read("out"), b"previous\n")
            self.assert_only("x.encrypted", "out")

    def test_wrong_key_and_tampering(self):
        self.write("env", PLAIN)
        self.dcgen("encrypt", "env", "env.encrypted")
        good = self.read("env.encrypted")
        self.write("out", "previous\n", 0o644)
        # another key
        self.write("other.aes", base64.b64encode(os.urandom(32)).decode())
        _, err = self.dcgen("decrypt", "-k", "other.aes", "env.encrypted", "out", rc=1)
        self.assertIn("authentication failed", err)
        # a changed character in the nonce, the ciphertext, the tag; a cut file
        body = good.split(b"\n")[1]
        for i in (0, 10, len(body) // 2, len(body) - 4):
            bad = bytearray(good)
            pos = len(b"dcgen:v1:aes-256-gcm\n") + i
            bad[pos] = ord("A") if bad[pos] != ord("A") else ord("B")
            self.write("bad.encrypted", bytes(bad))
            self.dcgen("decrypt", "bad.encrypted", "out", rc=1)
        self.write("bad.encrypted", good[:-9] + b"\n")
        self.dcgen("decrypt", "bad.encrypted", "out", rc=1)
        # stdout gets nothing either
        out, _ = self.dcgen("decrypt", "bad.encrypted", "-", rc=1)
        self.assertEqual(out, b"")
        self.assertEqual(self.read("out"), b"previous\n")
        self.assertEqual(stat.S_IMODE(os.stat(self.p("out")).st_mode), 0o644)
        self.assert_only("env", "env.encrypted", "other.aes", "bad.encrypted", "out")

    def test_bad_keys_and_arguments(self):
        self.write("env", PLAIN)
        self.write("out", "previous\n")
        cases = {
            "short.aes": base64.b64encode(os.urandom(16)).decode(),
            "notb64.aes": "this is not a key at all!",
            "empty.aes": "",
        }
        for name, text in cases.items():
            self.write(name, text)
            _, err = self.dcgen("encrypt", "--key-path", name, "env", "out", rc=2, secrets=(text,) if text else ())
            self.assertIn(name, err)
            os.unlink(self.p(name))
        _, err = self.dcgen("decrypt", "-k", "missing.aes", "env", "out", rc=2)
        self.assertIn("missing.aes", err)
        self.dcgen("encrypt", "env", rc=2)
        self.dcgen("encrypt", "env", "out", "more", rc=2)
        self.dcgen("encrypt", "--bogus", "env", "out", rc=2)
        self.dcgen("encrypt", "missing", "out", rc=2)
        self.dcgen("encrypt", "env", "no/such/dir", rc=2)
        # a plaintext file given to decrypt: not a known format, not echoed
        _, err = self.dcgen("decrypt", "env", "out", rc=2)
        self.assertIn("not in a format dcgen knows", err)
        self.assertEqual(self.read("out"), b"previous\n")
        out, _ = self.dcgen("encrypt", "--help")
        self.assertIn(b"--key-path", out)
        self.assert_only("env", "out")


if __name__ == "__main__":
    peers.main()
