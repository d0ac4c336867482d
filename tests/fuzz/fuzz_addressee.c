/* Fuzzes the addressee paragraph finder and splitter on statement text:
 * the whole text, then the passage pointed at by --paragraph (the
 * paragraph the first byte names) and by --from, and the kind proposed
 * for every phrase. */
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

	const char *text = (const char *)data;
	size_t start = 0;

	(void)addressee_parse(text, size, known, NULL, &list, &err);
	for (size_t i = 0; i < list.count; i++)
		(void)addressee_propose_kind(list.items[i].phrase, NULL, NULL);
	addressee_list_release(&list);
	if (size && addressee_locate_paragraph(text, size, data[0] % 8 + 1,
					       &start, &err) == 0) {
		(void)addressee_parse_at(text, size, start, known, NULL, &list,
					 &err);
		addressee_list_release(&list);
	}
	if (addressee_locate_text(text, size, "sent to", &start, &err) == 0) {
		(void)addressee_parse_at(text, size, start, known, NULL, &list,
					 &err);
		addressee_list_release(&list);
	}
	return 0;
}
