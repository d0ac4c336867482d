#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/csv.h"
#include "chancery/table.h"
#include "chancery/utf8.h"
#include "chancery/xalloc.h"

struct cell {
	char *text; /* NULL for a null cell */
	bool is_int;
	long long value;
};

struct table {
	size_t ncols;
	char **headers;
	struct cell *cells; /* row-major, rows * ncols */
	size_t rows;
	size_t alloc;
	size_t next_col;
};

struct table *table_new(size_t ncols, const char *const *headers)
{
	struct table *t = xcalloc(1, sizeof(*t));

	t->ncols = ncols;
	t->headers = xcalloc(ncols, sizeof(*t->headers));
	for (size_t i = 0; i < ncols; i++)
		t->headers[i] = xstrdup(headers[i]);
	t->next_col = ncols;
	return t;
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->rows * t->ncols; i++)
		free(t->cells[i].text);
	for (size_t i = 0; i < t->ncols; i++)
		free(t->headers[i]);
	free(t->headers);
	free(t->cells);
	free(t);
}

void table_row(struct table *t)
{
	xgrow(&t->cells, sizeof(*t->cells), (t->rows + 1) * t->ncols, &t->alloc);
	memset(&t->cells[t->rows * t->ncols], 0, t->ncols * sizeof(*t->cells));
	t->rows++;
	t->next_col = 0;
}

static struct cell *next_cell(struct table *t)
{
	if (t->next_col >= t->ncols)
		abort(); /* more cells than columns, or no table_row */
	return &t->cells[(t->rows - 1) * t->ncols + t->next_col++];
}

void table_text(struct table *t, const char *s)
{
	next_cell(t)->text = xstrdup(s);
}

void table_int(struct table *t, long long v)
{
	struct cell *c = next_cell(t);

	c->text = xasprintf("%lld", v);
	c->is_int = true;
	c->value = v;
}

void table_null(struct table *t)
{
	next_cell(t);
}

size_t table_rows(const struct table *t) { return t->rows; }
size_t table_columns(const struct table *t) { return t->ncols; }

const char *table_header(const struct table *t, size_t col)
{
	return t->headers[col];
}

const char *table_cell(const struct table *t, size_t row, size_t col)
{
	return t->cells[row * t->ncols + col].text;
}

/* Writes s padded with spaces to width columns (not after the last). */
static void add_padded(struct sbuf *out, const char *s, size_t width,
		       bool last, const char *sgr)
{
	if (sgr)
		sbuf_addf(out, "\033[%sm%s\033[0m", sgr, s);
	else
		sbuf_addstr(out, s);
	if (last)
		return;
	for (size_t w = utf8_width(s); w < width + 2; w++)
		sbuf_addch(out, ' ');
}

/* Line breaks and tabs inside a cell would break the alignment; other
 * control characters (an escape sequence in a name) are shown, not
 * obeyed by the terminal. */
static char *flatten(const char *s)
{
	char *copy = xstrdup(s ? s : "-"), *out;

	for (char *p = copy; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	out = utf8_escaped(copy);
	free(copy);
	return out;
}

void table_format_text(const struct table *t, struct sbuf *out)
{
	table_format_text_styled(t, out, NULL, NULL);
}

void table_format_text_styled(const struct table *t, struct sbuf *out,
			      table_style_fn style, void *arg)
{
	size_t *width = xcalloc(t->ncols, sizeof(*width));

	for (size_t c = 0; c < t->ncols; c++)
		width[c] = utf8_width(t->headers[c]);
	for (size_t r = 0; r < t->rows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			char *s = flatten(table_cell(t, r, c));
			size_t w = utf8_width(s);

			if (w > width[c])
				width[c] = w;
			free(s);
		}
	}
	for (size_t c = 0; c < t->ncols; c++) {
		char *h = xstrdup(t->headers[c]);

		for (char *p = h; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		add_padded(out, h, width[c], c + 1 == t->ncols,
			   style ? "1" : NULL);
		free(h);
	}
	sbuf_addch(out, '\n');
	for (size_t r = 0; r < t->rows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			char *s = flatten(table_cell(t, r, c));
			const char *sgr = style ? style(t->headers[c], s, arg)
						: NULL;

			add_padded(out, s, width[c], c + 1 == t->ncols, sgr);
			free(s);
		}
		sbuf_addch(out, '\n');
	}
	free(width);
}

void table_format_csv(const struct table *t, struct sbuf *out)
{
	csv_add_record(out, (const char *const *)t->headers, t->ncols);
	for (size_t r = 0; r < t->rows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			if (c)
				sbuf_addch(out, ',');
			csv_add_field(out, table_cell(t, r, c));
		}
		sbuf_addstr(out, "\r\n");
	}
}

void table_format_json(const struct table *t, struct json *js)
{
	json_array_begin(js);
	for (size_t r = 0; r < t->rows; r++) {
		json_object_begin(js);
		for (size_t c = 0; c < t->ncols; c++) {
			const struct cell *cell = &t->cells[r * t->ncols + c];

			json_key(js, t->headers[c]);
			if (cell->is_int)
				json_int(js, cell->value);
			else
				json_string(js, cell->text);
		}
		json_object_end(js);
	}
	json_array_end(js);
}
