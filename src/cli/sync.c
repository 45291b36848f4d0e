/* petrel sync: placeholder while the module lands (replaced before any release). */
#include <stdio.h>

#include "cli.h"

int
cmd_sync(struct cli_ctx *ctx, int argc, char **argv)
{
	fprintf(stderr, "petrel: sync is not in this build yet\n");
	return EXIT_ERROR;
}
