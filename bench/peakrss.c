/*
 * peakrss: run a command and write its peak resident set size.
 *
 * usage: peakrss OUTFILE COMMAND [ARG...]
 *
 * Linux reports in ru_maxrss the high-water mark of the process's memory
 * before exec too, so a child forked from a big parent (the Python
 * benchmark) shows at least the parent's size. Forked from this small
 * program, the floor is about a megabyte. OUTFILE gets "maxrss_kb=N
 * status=S"; the exit status is the command's (128+signal if killed).
 */
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct rusage ru;
	pid_t pid;
	FILE *f;
	int status, code;

	if (argc < 3) {
		fprintf(stderr, "usage: peakrss OUTFILE COMMAND [ARG...]\n");
		return 2;
	}
	if ((pid = fork()) == -1) {
		fprintf(stderr, "peakrss: fork: %s\n", strerror(errno));
		return 127;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		fprintf(stderr, "peakrss: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	while (wait4(pid, &status, 0, &ru) == -1) {
		if (errno != EINTR) {
			fprintf(stderr, "peakrss: wait4: %s\n", strerror(errno));
			return 127;
		}
	}
	code = WIFEXITED(status) ? WEXITSTATUS(status) :
	    128 + WTERMSIG(status);
	if ((f = fopen(argv[1], "w")) == NULL) {
		fprintf(stderr, "peakrss: %s: %s\n", argv[1], strerror(errno));
		return 127;
	}
	fprintf(f, "maxrss_kb=%ld status=%d\n", ru.ru_maxrss, code);
	if (fclose(f) == EOF)
		return 127;
	return code;
}
