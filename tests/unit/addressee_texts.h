/*
 * What the parser's tests (test_addressee.c) and the plan's
 * (test_addressee_plan.c) both read: the statements in tests/data and
 * two paragraphs written for the tests.
 */
#ifndef CHANCERY_TEST_ADDRESSEE_TEXTS_H
#define CHANCERY_TEST_ADDRESSEE_TEXTS_H

#include <stdlib.h>

#include "chancery/sbuf.h"
#include "chancery/xalloc.h"
#include "testutil.h"

static char *read_statement(const char *name, size_t *len)
{
	const char *src = getenv("CHANCERY_SOURCE_DIR");
	struct error err = ERROR_INIT;
	struct sbuf sb = SBUF_INIT;
	char *path = xasprintf("%s/tests/data/statements/%s",
			       src ? src : "../..", name);

	if (sbuf_read_file(&sb, path, 1 << 20, &err))
		fail_msg("%s", err.msg);
	free(path);
	return sbuf_detach(&sb, len);
}
/* Names with "and" and commas kept whole, a slashed acronym, and a
 * clause after the list that is no addressee. */
static const char names_and[] =
	"Kyiv, 2022. The appeal of the Commissioner was sent to the\n"
	"Organization for Security and Cooperation in Europe, the International\n"
	"Federation of Red Cross and Red Crescent Societies, the OSCE Office for\n"
	"Democratic Institutions and Human Rights (OSCE/ODIHR) and the Council\n"
	"of Europe, urging them to defend the right to truth, justice and\n"
	"reparation; and to the Office for Democratic Institutions and Human\n"
	"Rights, calling for a visit.\n";
/* Groups routed by country and quantity. */
static const char groups[] =
	"Baku, 2024. The appeal was sent to the diplomatic missions accredited "
	"in the Republic of Azerbaijan; the embassies accredited in Baku; the "
	"embassies of Azerbaijan abroad; the ombudsman institutions of 120 "
	"countries; the ombudsmen of the OIC member states; Azerbaijan's "
	"diaspora organizations; and the embassies of Turkey abroad.\n";
#endif
