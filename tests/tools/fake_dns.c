/*
 * fake_dns.so: an LD_PRELOAD shim for test_transport.py that gives a relay
 * a name whose address changes between look-ups, as a DNS name can.
 *
 *   CHANCERY_FAKE_DNS_NAME   the name (compared without case)
 *   CHANCERY_FAKE_DNS_ADDRS  "A1,A2,...": the k-th getaddrinfo() of the
 *                            name answers Ak (numeric), the last one from
 *                            then on
 *
 * Every other name goes to the real getaddrinfo(). Each look-up of the
 * name is logged on stderr as "fake_dns: lookup N -> ADDR". Not installed.
 */
#include <dlfcn.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef int (*gai_fn)(const char *, const char *, const struct addrinfo *,
		      struct addrinfo **);

static atomic_int lookups;

int getaddrinfo(const char *node, const char *service,
		const struct addrinfo *hints, struct addrinfo **res)
{
	gai_fn real = (gai_fn)dlsym(RTLD_NEXT, "getaddrinfo");
	const char *name = getenv("CHANCERY_FAKE_DNS_NAME");
	const char *list = getenv("CHANCERY_FAKE_DNS_ADDRS");
	struct addrinfo h = {0};
	char addr[64] = "";
	const char *p;
	int k, n = 0;

	if (!real)
		return EAI_SYSTEM;
	if (!node || !name || !list || strcasecmp(node, name) != 0)
		return real(node, service, hints, res);
	k = atomic_fetch_add(&lookups, 1);
	for (p = list; *p; n++) {
		size_t len = strcspn(p, ",");

		if (len < sizeof(addr)) {
			memcpy(addr, p, len);
			addr[len] = '\0';
		}
		p += len + (p[len] == ',');
		if (n == k)
			break;
	}
	fprintf(stderr, "fake_dns: lookup %d -> %s\n", k + 1, addr);
	if (hints)
		h = *hints;
	h.ai_flags |= AI_NUMERICHOST;
	return real(addr, service, &h, res);
}
