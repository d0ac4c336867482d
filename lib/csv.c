/*
 * csv: RFC 4180 and the dialects spreadsheets write (see csv.h).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chancery/csv.h"
#include "chancery/xalloc.h"

const struct csv_dialect csv_rfc4180 = {',', true, false};

/* The separators a first line may use, in the order a tie prefers. */
static const char separators[] = {',', ';', '\t'};

/* Reads the dialect off the first line: the separator it holds most of
 * outside quotes, and its line end. */
static void detect_dialect(struct csv_reader *rd)
{
	size_t count[sizeof(separators)] = {0}, best = 0;
	bool quoted = false;

	rd->dialect.sep = ',';
	rd->dialect.crlf = false;
	for (size_t i = rd->pos; i < rd->len; i++) {
		char c = rd->text[i];

		if (c == '"') {
			quoted = !quoted; /* "" inside quotes toggles twice */
			continue;
		}
		if (quoted)
			continue;
		if (c == '\n' || c == '\r') {
			rd->dialect.crlf = c == '\r';
			break;
		}
		for (size_t k = 0; k < sizeof(separators); k++)
			count[k] += c == separators[k];
	}
	for (size_t k = 1; k < sizeof(separators); k++)
		if (count[k] > count[best])
			best = k;
	rd->dialect.sep = separators[best];
}

void csv_reader_init(struct csv_reader *rd, const char *name, const char *text,
		     size_t len)
{
	rd->text = text;
	rd->len = len;
	rd->pos = 0;
	rd->line = 1;
	rd->name = name;
	rd->dialect.bom = len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0;
	if (rd->dialect.bom)
		rd->pos = 3;
	detect_dialect(rd);
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

static bool record_empty(const struct csv_record *rec)
{
	for (size_t i = 0; i < rec->count; i++)
		if (rec->fields[i][0])
			return false;
	return true;
}

static int read_record(struct csv_reader *rd, struct csv_record *rec,
		       struct error *err)
{
	struct sbuf field = SBUF_INIT;
	const char sep = rd->dialect.sep;
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
		while (rd->pos < rd->len && rd->text[rd->pos] != sep &&
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
		if (rd->pos < rd->len && rd->text[rd->pos] == sep) {
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

int csv_read(struct csv_reader *rd, struct csv_record *rec, struct error *err)
{
	int rc;

	/* a spreadsheet writes an empty row as a line of separators */
	while ((rc = read_record(rd, rec, err)) == 1 && record_empty(rec))
		;
	return rc;
}

bool csv_header_is(const char *field, const char *name)
{
	size_t n;

	while (*field == ' ' || *field == '\t')
		field++;
	n = strlen(field);
	while (n && (field[n - 1] == ' ' || field[n - 1] == '\t'))
		n--;
	return n == strlen(name) && strncasecmp(field, name, n) == 0;
}

/* What a spreadsheet reads as the start of a formula (OWASP, "CSV
 * injection"): '=', '+', '-', '@', and a tab or CR in front of one. */
static bool formula_start(char c)
{
	return c && strchr("=+-@\t\r", c) != NULL;
}

/* True when s is any number of "'" followed by a formula start: the
 * cells the writer puts one more "'" in front of. */
static bool needs_quote_mark(const char *s)
{
	while (*s == '\'')
		s++;
	return formula_start(*s);
}

void csv_unneutralise(char *field)
{
	if (field[0] == '\'' && needs_quote_mark(field + 1))
		memmove(field, field + 1, strlen(field));
}

void csv_add_field_sep(struct sbuf *sb, const char *field, char sep)
{
	bool mark, quote;

	if (!field)
		return;
	mark = needs_quote_mark(field);
	/* Every separator a reader might detect is quoted, whichever this
	 * file uses, so that the first line always tells the right one. */
	quote = strpbrk(field, ",;\t\"\r\n") != NULL ||
		strchr(field, sep) != NULL || field[0] == ' ' ||
		(field[0] && field[strlen(field) - 1] == ' ');
	if (quote)
		sbuf_addch(sb, '"');
	if (mark)
		sbuf_addch(sb, '\'');
	for (const char *p = field; *p; p++) {
		if (*p == '"')
			sbuf_addch(sb, '"');
		sbuf_addch(sb, *p);
	}
	if (quote)
		sbuf_addch(sb, '"');
}

void csv_add_field(struct sbuf *sb, const char *field)
{
	csv_add_field_sep(sb, field, ',');
}

void csv_add_record_dialect(struct sbuf *sb, const struct csv_dialect *d,
			    const char *const *fields, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			sbuf_addch(sb, d->sep);
		csv_add_field_sep(sb, fields[i], d->sep);
	}
	sbuf_addstr(sb, d->crlf ? "\r\n" : "\n");
}

void csv_add_record(struct sbuf *sb, const char *const *fields, size_t n)
{
	csv_add_record_dialect(sb, &csv_rfc4180, fields, n);
}
