/* petrel render: placeholder while the module lands (replaced before any release). */
#include <stdio.h>

#include "cli.h"

int
cmd_render(struct cli_ctx *ctx, int argc, char **argv)
{
	fprintf(stderr, "petrel: render is not in this build yet\n");
	return EXIT_ERROR;
}
