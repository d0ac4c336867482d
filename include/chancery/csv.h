/*
 * csv: RFC 4180 records, read and written.
 *
 * The reader takes a whole text (UTF-8, an optional byte-order mark, LF or
 * CRLF line ends, quoted fields with embedded commas, quotes and line
 * breaks) and yields one record at a time with the line it started on, so
 * errors can name it.
 */
#ifndef CHANCERY_CSV_H
#define CHANCERY_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "chancery/error.h"
#include "chancery/sbuf.h"

struct csv_reader {
	const char *text;
	size_t len;
	size_t pos;
	unsigned line;        /* line the next record starts on (1-based) */
	const char *name;     /* for messages: the file name */
};

struct csv_record {
	char **fields;        /* owned; each NUL-terminated */
	size_t count;
	size_t alloc;
	unsigned line;        /* line the record started on */
};

void csv_reader_init(struct csv_reader *rd, const char *name, const char *text,
		     size_t len);

/*
 * Reads the next record into rec (replacing its previous fields). Returns 1
 * when a record was read, 0 at the end of the text, or ERR_DATA for an
 * unterminated quote or a stray quote in an unquoted field. Blank lines are
 * skipped.
 */
int csv_read(struct csv_reader *rd, struct csv_record *rec, struct error *err);

void csv_record_release(struct csv_record *rec);

/* Appends one field, quoted only when it must be; NULL writes nothing. */
void csv_add_field(struct sbuf *sb, const char *field);

/* Appends a whole record and its CRLF line end. */
void csv_add_record(struct sbuf *sb, const char *const *fields, size_t n);

#endif
