/* steps.h -- the CodeShip commands: steps, run, load, validate, cleanup.
 * dc_cli_codeship() returns -1 when argv[1] is none of them, else the exit
 * code (0 ok, 1 a step or upstream failed, 2 usage or configuration,
 * 128+N after signal N). */
#ifndef DC_CLI_STEPS_H
#define DC_CLI_STEPS_H

int dc_cli_codeship(int argc, char **argv);

#endif
