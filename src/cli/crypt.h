/* crypt.h -- the keygen, encrypt and decrypt subcommands (core/encfile).
 *
 *   if (dc_cli_crypt_is(argv[1])) return dc_cli_crypt(argc - 1, argv + 1);
 *
 * argv[0] is the subcommand; the result is the exit status (0, 1 runtime,
 * 2 usage or configuration), its errors already printed. */
#ifndef DC_CLI_CRYPT_H
#define DC_CLI_CRYPT_H

int dc_cli_crypt_is(const char *name);
int dc_cli_crypt(int argc, char **argv);

#endif
