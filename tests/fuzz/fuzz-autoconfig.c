/*
 * libFuzzer target for autoconfig documents (petrel setup reads them from
 * the network): whatever comes in, every server kept has TLS, a plain
 * host name, a port in range and a user name without spaces or controls.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct autoconfig_server	a[8];
	struct error			err;
	int				n, i;
	size_t				k;

	n = autoconfig_parse((const char *)data, size, "user@example.org", a,
	    8, &err);
	FUZZ_ASSERT(n >= -1 && n <= 8);
	for (i = 0; i < n; i++) {
		FUZZ_ASSERT(a[i].tls != TLS_NONE);
		FUZZ_ASSERT(a[i].port >= 1 && a[i].port <= 65535);
		FUZZ_ASSERT(a[i].host[0] != '\0' && strpbrk(a[i].host,
		    " /@\r\n") == NULL);
		for (k = 0; a[i].user[k] != '\0'; k++)
			FUZZ_ASSERT((unsigned char)a[i].user[k] > 0x20 &&
			    a[i].user[k] != 0x7f);
	}
	return 0;
}
