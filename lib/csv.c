#include <stdlib.h>
#include <string.h>

#include "chancery/csv.h"
#include "chancery/xalloc.h"

void csv_reader_init(struct csv_reader *rd, const char *name, const char *text,
		     size_t len)
{
	rd->text = text;
	rd->len = len;
	rd->pos = 0;
	rd->line = 1;
	rd->name = name;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		rd->pos = 3;
}

static void record_clear(struct csv_record *rec)
{
	for (size_t i = 0; i < rec->count; i++)
		free(rec->fields[i]);
	rec->count = 0;
}

void csv_record_release(struct csv_record *rec)
{
	record_clear(rec);
	free(rec->fields);
	rec->fields = NULL;
	rec->alloc = 0;
}

static void record_push(struct csv_record *rec, struct sbuf *field)
{
	xgrow(&rec->fields, sizeof(*rec->fields), rec->count + 1, &rec->alloc);
	rec->fields[rec->count++] = sbuf_detach(field, NULL);
}

/* Consumes a line end at pos (LF or CRLF); true when there was one. */
static bool eat_newline(struct csv_reader *rd)
{
	if (rd->pos < rd->len && rd->text[rd->pos] == '\r' &&
	    rd->pos + 1 < rd->len && rd->text[rd->pos + 1] == '\n')
		rd->pos++;
	if (rd->pos < rd->len &&
	    (rd->text[rd->pos] == '\n' || rd->text[rd->pos] == '\r')) {
		rd->pos++;
		rd->line++;
		return true;
	}
	return false;
}

static int read_quoted(struct csv_reader *rd, struct sbuf *field,
		       unsigned start_line, struct error *err)
{
	rd->pos++; /* the opening quote */
	for (;;) {
		char c;

		if (rd->pos >= rd->len)
			return error_set(err, ERR_DATA,
					 "%s:%u: unterminated quoted field",
					 rd->name, start_line);
		c = rd->text[rd->pos];
		if (c == '"') {
			if (rd->pos + 1 < rd->len && rd->text[rd->pos + 1] == '"') {
				sbuf_addch(field, '"');
				rd->pos += 2;
				continue;
			}
			rd->pos++;
			return 0;
		}
		if (c == '\n')
			rd->line++;
		sbuf_addch(field, c);
		rd->pos++;
	}
}

int csv_read(struct csv_reader *rd, struct csv_record *rec, struct error *err)
{
	struct sbuf field = SBUF_INIT;
	int rc;

	record_clear(rec);
	while (rd->pos < rd->len && eat_newline(rd))
		; /* blank lines */
	if (rd->pos >= rd->len)
		return 0;
	rec->line = rd->line;
	for (;;) {
		if (rd->pos < rd->len && rd->text[rd->pos] == '"') {
			rc = read_quoted(rd, &field, rec->line, err);
			if (rc)
				goto out;
		}
		while (rd->pos < rd->len && rd->text[rd->pos] != ',' &&
		       rd->text[rd->pos] != '\n' && rd->text[rd->pos] != '\r') {
			if (rd->text[rd->pos] == '"') {
				rc = error_set(err, ERR_DATA,
					       "%s:%u: stray quote in field %zu",
					       rd->name, rd->line, rec->count + 1);
				goto out;
			}
			sbuf_addch(&field, rd->text[rd->pos++]);
		}
		record_push(rec, &field);
		if (rd->pos < rd->len && rd->text[rd->pos] == ',') {
			rd->pos++;
			continue;
		}
		eat_newline(rd);
		rc = 1;
		goto out;
	}
out:
	sbuf_release(&field);
	return rc;
}

void csv_add_field(struct sbuf *sb, const char *field)
{
	bool quote;

	if (!field)
		return;
	quote = strpbrk(field, ",\"\r\n") != NULL || field[0] == ' ' ||
		(field[0] && field[strlen(field) - 1] == ' ');
	if (!quote) {
		sbuf_addstr(sb, field);
		return;
	}
	sbuf_addch(sb, '"');
	for (const char *p = field; *p; p++) {
		if (*p == '"')
			sbuf_addch(sb, '"');
		sbuf_addch(sb, *p);
	}
	sbuf_addch(sb, '"');
}

void csv_add_record(struct sbuf *sb, const char *const *fields, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			sbuf_addch(sb, ',');
		csv_add_field(sb, fields[i]);
	}
	sbuf_addstr(sb, "\r\n");
}
