/* Fuzzes the CSV reader that registry imports go through (separator
 * detection included), and checks that writing what it read and reading
 * that again gives the same fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/csv.h"
#include "chancery/sbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv_reader rd, again;
	struct csv_record rec = {0}, rec2 = {0};
	struct error err = ERROR_INIT;
	struct sbuf out = SBUF_INIT;

	csv_reader_init(&rd, "fuzz", (const char *)data, size);
	while (csv_read(&rd, &rec, &err) == 1) {
		/* Records holding NUL bytes cannot round-trip through C
		 * strings; the importer refuses them elsewhere. */
		if (memchr(data, 0, size))
			continue;
		/* A leading byte-order mark is taken off when read again. */
		if (rec.count && strncmp(rec.fields[0], "\xef\xbb\xbf", 3) == 0)
			continue;
		sbuf_reset(&out);
		csv_add_record(&out, (const char *const *)rec.fields,
			       rec.count);
		csv_reader_init(&again, "again", out.buf, out.len);
		if (csv_read(&again, &rec2, &err) != 1 && rec.count > 0 &&
		    !(rec.count == 1 && rec.fields[0][0] == '\0'))
			abort();
		/* the same fields, once the writer's "'" in front of a
		 * formula-like cell is taken off again */
		if (rec2.count != rec.count)
			abort();
		for (size_t i = 0; i < rec.count; i++) {
			csv_unneutralise(rec2.fields[i]);
			if (strcmp(rec2.fields[i], rec.fields[i]) != 0)
				abort();
		}
	}
	csv_record_release(&rec);
	csv_record_release(&rec2);
	sbuf_release(&out);
	return 0;
}
