/*
 * Run a libFuzzer entry point over files without libFuzzer: every file named
 * on the command line, or every file in a named directory. Used to replay the
 * seed corpus and saved crashes as ordinary regression tests.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
run_file(const char *path)
{
	FILE	*f;
	uint8_t	*data;
	long	 len;

	if ((f = fopen(path, "rb")) == NULL) {
		perror(path);
		return -1;
	}
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc(len > 0 ? (size_t)len : 1);
	if (data == NULL || (len > 0 && fread(data, 1, (size_t)len, f) != (size_t)len)) {
		fprintf(stderr, "%s: read failed\n", path);
		fclose(f);
		free(data);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(data, (size_t)len);
	free(data);
	return 0;
}

int
main(int argc, char **argv)
{
	int	i, n = 0, bad = 0;

	for (i = 1; i < argc; i++) {
		struct stat	 st;
		DIR		*d;
		struct dirent	*de;
		char		 path[4096];

		if (stat(argv[i], &st) == -1) {
			perror(argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			bad += run_file(argv[i]) != 0;
			n++;
			continue;
		}
		if ((d = opendir(argv[i])) == NULL) {
			perror(argv[i]);
			return 1;
		}
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "%s/%s", argv[i], de->d_name);
			bad += run_file(path) != 0;
			n++;
		}
		closedir(d);
	}
	printf("%d input(s) replayed, %d unreadable\n", n, bad);
	return n == 0 || bad != 0 ? 1 : 0;
}
