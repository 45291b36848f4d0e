/* petrel list: placeholder while the module lands (replaced before any release). */
#include <stdio.h>

#include "cli.h"

int
cmd_list(struct cli_ctx *ctx, int argc, char **argv)
{
	fprintf(stderr, "petrel: list is not in this build yet\n");
	return EXIT_ERROR;
}
