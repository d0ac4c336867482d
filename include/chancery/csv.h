/*
 * csv: RFC 4180 records, read and written, in the dialects spreadsheets
 * use.
 *
 * The reader takes a whole text (UTF-8, an optional byte-order mark, LF or
 * CRLF line ends, quoted fields with embedded separators, quotes and line
 * breaks) and yields one record at a time with the line it started on, so
 * errors can name it. The separator is read off the first line: ',', ';'
 * (what Excel writes where the decimal separator is a comma) or a tab.
 *
 * The writer is the one every CSV chancery writes goes through, and it
 * neutralises cells a spreadsheet would run as a formula: a cell that is
 * any number of "'" followed by '=', '+', '-', '@', a tab or a CR is
 * written with one more "'" in front (OWASP's advice, made reversible);
 * csv_unneutralise undoes exactly that.
 */
#ifndef CHANCERY_CSV_H
#define CHANCERY_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "chancery/error.h"
#include "chancery/sbuf.h"

/* How a file is written: the separator, CRLF or LF, a byte-order mark. */
struct csv_dialect {
	char sep;  /* ',', ';' or '\t' */
	bool crlf; /* line ends CRLF (else LF) */
	bool bom;  /* the text starts with a UTF-8 byte-order mark */
};

/* RFC 4180: commas, CRLF, no byte-order mark. */
extern const struct csv_dialect csv_rfc4180;

struct csv_reader {
	const char *text;
	size_t len;
	size_t pos;
	unsigned line;        /* line the next record starts on (1-based) */
	const char *name;     /* for messages: the file name */
	struct csv_dialect dialect; /* as found by csv_reader_init */
};

struct csv_record {
	char **fields;        /* owned; each NUL-terminated */
	size_t count;
	size_t alloc;
	unsigned line;        /* line the record started on */
};

/* Starts reading text; skips a byte-order mark and finds the separator
 * (the one of ',', ';' and tab the first line holds most of outside
 * quotes; ',' when none) and the line end, both in rd->dialect. */
void csv_reader_init(struct csv_reader *rd, const char *name, const char *text,
		     size_t len);

/*
 * Reads the next record into rec (replacing its previous fields). Returns 1
 * when a record was read, 0 at the end of the text, or ERR_DATA for an
 * unterminated quote or a stray quote in an unquoted field. Blank lines,
 * and lines of nothing but separators (a spreadsheet's empty row), are
 * skipped.
 */
int csv_read(struct csv_reader *rd, struct csv_record *rec, struct error *err);

void csv_record_release(struct csv_record *rec);

/* True when field, with its surrounding spaces trimmed, is name in any
 * case (ASCII): how header cells are matched. */
bool csv_header_is(const char *field, const char *name);

/* Takes off the "'" the writer put in front of a formula-like cell, in
 * place: one leading "'" when the rest is any number of "'" followed by
 * '=', '+', '-', '@', tab or CR. Other cells are left as they are. */
void csv_unneutralise(char *field);

/* Appends one RFC 4180 field, neutralised and quoted only when it must
 * be; NULL writes nothing. */
void csv_add_field(struct sbuf *sb, const char *field);
/* The same for a separator other than ','. */
void csv_add_field_sep(struct sbuf *sb, const char *field, char sep);

/* Appends a whole record and its CRLF line end. */
void csv_add_record(struct sbuf *sb, const char *const *fields, size_t n);
/* The same in a dialect (its separator and line end; the byte-order mark
 * is the caller's, once at the start). */
void csv_add_record_dialect(struct sbuf *sb, const struct csv_dialect *d,
			    const char *const *fields, size_t n);

#endif
