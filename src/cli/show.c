/* petrel show: placeholder while the module lands (replaced before any release). */
#include <stdio.h>

#include "cli.h"

int
cmd_show(struct cli_ctx *ctx, int argc, char **argv)
{
	fprintf(stderr, "petrel: show is not in this build yet\n");
	return EXIT_ERROR;
}
