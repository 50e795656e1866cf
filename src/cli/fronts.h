/* fronts.h -- the command lines of the front doors other programs call:
 *
 *   docker-credential-dcgen ACTION      (argv[0]; or `dcgen credential-helper ACTION`)
 *   dcgen kubelet                       (or argv[0] dcgen-kubelet-provider)
 *   dcgen configure-docker [--hosts H,...] [--creds-store]
 *
 * Each returns the process's exit status; main() dispatches to them. */
#ifndef DC_CLI_FRONTS_H
#define DC_CLI_FRONTS_H

#define DC_HELPER_PROGRAM "docker-credential-dcgen"
#define DC_KUBELET_PROGRAM "dcgen-kubelet-provider"

/* argv[1] is the action (argv[0] the name docker ran). */
int dc_cli_helper(int argc, char **argv);
int dc_cli_kubelet(int argc, char **argv);
int dc_cli_configure_docker(int argc, char **argv);

#endif
