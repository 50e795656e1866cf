/* crypt.c -- dcgen keygen [PATH], dcgen encrypt|decrypt [--key-path K] IN OUT.
 * The formats are core/encfile's; this file reads and writes, prints, and
 * maps errors to exit codes (0 ok, 1 runtime, 2 usage or configuration). */
#include "cli/crypt.h"
#include "cli/print.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/encfile.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/secret.h"

enum { INPUT_MAX = 64 << 20 }; /* encrypted env files are a few hundred bytes */

static const char crypt_usage[] =
	"usage: dcgen keygen [PATH]\n"
	"       dcgen encrypt [--key-path KEY] [--legacy] IN OUT\n"
	"       dcgen decrypt [--key-path KEY] IN OUT\n"
	"\n"
	"CodeShip-compatible encrypted files. keygen writes a new AES key (base64 of\n"
	"32 random bytes, mode 0600; default PATH codeship.aes), never over an existing\n"
	"file. encrypt writes dcgen's authenticated format (AES-256-GCM); decrypt reads\n"
	"it and CodeShip's unversioned format. IN or OUT '-' is standard input/output;\n"
	"a file is written atomically, mode 0600.\n"
	"\n"
	"options:\n"
	"  -k, --key-path KEY    the key file (default codeship.aes)\n"
	"      --legacy          encrypt: write CodeShip's unversioned format (for jet;\n"
	"                        no integrity check)\n"
	"  -q, --quiet           print errors only\n"
	"  -h, --help            this help\n"
	"\n"
	"exit codes: 0 done, 1 runtime error (a wrong key or a changed file, I/O),\n"
	"2 usage or configuration error (bad key file, unknown format)\n";

/* One line on stderr; a quoted value (a path) may hold a newline or an
 * escape: shown as \n or \xNN. */
/* Nothing here registers a secret (no message ever quotes plaintext or a
 * key), so this log has no redactor. */
static dc_log crypt_log = { NULL, DC_LOG_INFO, NULL };

static int fail(int err)
{
	return dc_cli_fail(NULL, err);
}

static int usage_error(const char *what, const char *arg)
{
	return dc_cli_usage_error(what, arg, "dcgen encrypt --help");
}

/* Read all of standard input into `out` (a secret buffer); the chunk is wiped. */
static int read_stdin(dc_buf *out)
{
	char chunk[4096];
	ssize_t n;
	int err = 0;

	while ((n = read(STDIN_FILENO, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = dc_error_set(DC_ERR, "cannot read standard input: %s", strerror(errno));
			break;
		}
		if (dc_buf_put(out, chunk, (size_t)n) < 0) {
			err = out->overflow ? dc_error_set(DC_EUSAGE, "standard input is larger than %d bytes", INPUT_MAX)
					    : dc_error_set(DC_ERR, "out of memory");
			break;
		}
	}
	dc_secret_wipe(chunk, sizeof(chunk));
	return err;
}

static int read_input(dc_buf *out, const char *in)
{
	if (!strcmp(in, "-"))
		return read_stdin(out);
	return dc_fs_read_secret(out, in, INPUT_MAX, "input file");
}

/* Write to standard output with write(2): stdio would keep a copy of the
 * plaintext in its buffer. */
static int write_stdout(const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(STDOUT_FILENO, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return dc_error_set(DC_ERR, "cannot write standard output: %s", strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int write_output(const char *out, const dc_buf *data)
{
	if (!strcmp(out, "-"))
		return write_stdout(data->ptr, data->len);
	return dc_fs_write_atomic(out, data->ptr, data->len, 0600);
}

static int cmd_keygen(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "key-path", required_argument, NULL, 'k' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	dc_encfile_key key = DC_ENCFILE_KEY_INIT;
	const char *path = NULL;
	int c, err, quiet = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":k:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': path = optarg; break;
		case 'q': quiet = 1; break;
		case 'h': fputs(crypt_usage, stdout); return 0;
		case ':': return usage_error("this option needs a value:", argv[optind - 1]);
		default: return usage_error("unknown option", argv[optind - 1]);
		}
	}
	if (optind < argc && path)
		return usage_error("give the key path once, but also got", argv[optind]);
	if (optind + 1 < argc)
		return usage_error("one PATH only, but also got", argv[optind + 1]);
	if (optind < argc)
		path = argv[optind];
	if (!path)
		path = "codeship.aes";
	if (!strcmp(path, "-"))
		return usage_error("keygen writes a key file, not standard output; give a PATH", NULL);
	if ((err = dc_fs_check_writable(path)) < 0)
		return fail(err);
	if ((err = dc_encfile_key_generate(&key)) == 0)
		err = dc_encfile_key_write(&key, path);
	dc_encfile_key_release(&key);
	if (err < 0)
		return fail(err);
	if (!quiet)
		dc_log_info(&crypt_log, "wrote a new key to '%s' (mode 0600); keep it out of version control", path);
	return 0;
}

static int cmd_crypt(int argc, char **argv, int encrypt)
{
	static const struct option longopts[] = {
		{ "key-path", required_argument, NULL, 'k' },
		{ "legacy", no_argument, NULL, 'L' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	dc_encfile_key key = DC_ENCFILE_KEY_INIT;
	dc_buf in = DC_BUF_INIT, out = DC_BUF_INIT, what = DC_BUF_INIT;
	const char *key_path = "codeship.aes", *in_path, *out_path;
	dc_encfile_format format = DC_ENCFILE_UNKNOWN;
	int c, err, legacy = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":k:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': key_path = optarg; break;
		case 'L': legacy = 1; break;
		case 'q': crypt_log.sink = dc_cli_sink; crypt_log.max_level = DC_LOG_ERROR; break;
		case 'h': fputs(crypt_usage, stdout); return 0;
		case ':': return usage_error("this option needs a value:", argv[optind - 1]);
		default: return usage_error("unknown option", argv[optind - 1]);
		}
	}
	if (legacy && !encrypt)
		return usage_error("--legacy goes with 'encrypt' (decrypt reads every format)", NULL);
	if (argc - optind < 2)
		return usage_error(encrypt ? "say 'dcgen encrypt IN OUT'" : "say 'dcgen decrypt IN OUT'", NULL);
	if (argc - optind > 2)
		return usage_error("IN and OUT only, but also got", argv[optind + 2]);
	in_path = argv[optind];
	out_path = argv[optind + 1];

	dc_buf_init(&in, INPUT_MAX, encrypt ? DC_BUF_SECRET : 0);
	dc_buf_init(&out, 0, encrypt ? 0 : DC_BUF_SECRET);
	if (strcmp(out_path, "-") && (err = dc_fs_check_writable(out_path)) < 0)
		goto done;
	if ((err = dc_encfile_key_load(&key, key_path)) < 0)
		goto done;
	if ((err = read_input(&in, in_path)) < 0)
		goto done;
	if (encrypt) {
		if (legacy)
			dc_log_warn(&crypt_log, "the legacy format has no integrity check: a wrong key or a changed byte decrypts to garbage, not an error; use it only for jet");
		err = dc_encfile_encrypt(&out, &key, in.ptr, in.len, legacy);
	} else {
		if (dc_buf_printf(&what, "%s", strcmp(in_path, "-") ? in_path : "standard input") < 0) {
			err = dc_error_set(DC_ERR, "out of memory");
			goto done;
		}
		format = dc_encfile_detect(in.ptr, in.len);
		err = dc_encfile_decrypt(&out, &key, in.ptr, in.len, what.ptr);
	}
	dc_encfile_key_release(&key);
	if (err < 0 || (err = write_output(out_path, &out)) < 0)
		goto done;
	if (format == DC_ENCFILE_LEGACY)
		dc_log_warn(&crypt_log, "'%s' is in CodeShip's unversioned format, which has no integrity check (a wrong key gives garbage, not an error); 'dcgen encrypt' writes an authenticated one",
			    what.ptr);
	if (strcmp(out_path, "-"))
		dc_log_info(&crypt_log, "%s '%s' into '%s'%s", encrypt ? "encrypted" : "decrypted",
			    strcmp(in_path, "-") ? in_path : "standard input", out_path,
			    encrypt ? (legacy ? " (legacy format)" : " (dcgen:v1)") : " (mode 0600)");
done:
	dc_encfile_key_release(&key);
	dc_buf_release(&in);
	dc_buf_release(&out);
	dc_buf_release(&what);
	return err < 0 ? fail(err) : 0;
}

int dc_cli_crypt_is(const char *name)
{
	return !strcmp(name, "keygen") || !strcmp(name, "encrypt") || !strcmp(name, "decrypt");
}

int dc_cli_crypt(int argc, char **argv)
{
	crypt_log.sink = dc_cli_sink; crypt_log.max_level = DC_LOG_INFO;
	if (!strcmp(argv[0], "keygen"))
		return cmd_keygen(argc, argv);
	return cmd_crypt(argc, argv, !strcmp(argv[0], "encrypt"));
}
