/* petrel folders: placeholder while the module lands (replaced before any release). */
#include <stdio.h>

#include "cli.h"

int
cmd_folders(struct cli_ctx *ctx, int argc, char **argv)
{
	fprintf(stderr, "petrel: folders is not in this build yet\n");
	return EXIT_ERROR;
}
