/* Fuzzes the addressee paragraph finder and splitter on statement text. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "chancery/addressee.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A few names the registry would know, so the join-by-registry paths run. */
static bool known(const char *name, void *arg)
{
	static const char *const names[] = {
		"OSCE", "UNICEF", "Organization of Islamic Cooperation",
		"International Ombudsman Institute", NULL};

	(void)arg;
	for (int i = 0; names[i]; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct addressee_list list = {0};
	struct error err = ERROR_INIT;

	(void)addressee_parse((const char *)data, size, known, NULL, &list,
			      &err);
	addressee_list_release(&list);
	return 0;
}
