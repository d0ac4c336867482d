/*
 * table: rows of typed cells, printed as an aligned terminal table, as
 * JSON (an array of objects keyed by column name) or as CSV. Every listing
 * of the command line goes through it, so --json and --format csv mean the
 * same thing everywhere.
 */
#ifndef CHANCERY_TABLE_H
#define CHANCERY_TABLE_H

#include <stddef.h>

#include "chancery/json.h"
#include "chancery/sbuf.h"

struct table;

/* Columns are named by headers[0..ncols); the strings are copied. */
struct table *table_new(size_t ncols, const char *const *headers);
void table_free(struct table *t);

/* Starts a new row; the cells that follow fill it left to right. */
void table_row(struct table *t);
void table_text(struct table *t, const char *s); /* NULL is a null cell */
void table_int(struct table *t, long long v);
void table_null(struct table *t);

size_t table_rows(const struct table *t);
size_t table_columns(const struct table *t);
const char *table_header(const struct table *t, size_t col);
/* The cell's text ("" for null, digits for a number); NULL for null. */
const char *table_cell(const struct table *t, size_t row, size_t col);

/* Aligned columns under upper-case headers; null cells show as "-". */
void table_format_text(const struct table *t, struct sbuf *out);
/*
 * The same, with terminal colours: style returns the SGR parameters
 * ("32", "1;31") for a cell given its column header and text, or NULL for
 * none; headers are bold. Alignment counts only the visible text.
 */
typedef const char *(*table_style_fn)(const char *header, const char *text,
				      void *arg);
void table_format_text_styled(const struct table *t, struct sbuf *out,
			      table_style_fn style, void *arg);
void table_format_csv(const struct table *t, struct sbuf *out);
/* Appends the array of row objects to an open JSON writer. */
void table_format_json(const struct table *t, struct json *js);

#endif
