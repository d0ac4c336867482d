/*
 * import: the registry as CSV. Validation reads the whole file and
 * collects every problem before anything is written, so a user fixes a
 * file in one pass and a bad file never half-loads.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chancery/address.h"
#include "chancery/addressee.h"
#include "chancery/addressee_plan.h"
#include "chancery/csv.h"
#include "chancery/embedded.h"
#include "chancery/import.h"
#include "chancery/locale_names.h"
#include "chancery/progress.h"
#include "chancery/registry.h"
#include "chancery/utf8.h"
#include "chancery/xalloc.h"

const char import_csv_header[] =
	"acronym,name,kind,country,notes,aliases,email,contact_name,role,"
	"language,status";

enum col {
	C_ACRONYM, C_NAME, C_KIND, C_COUNTRY, C_NOTES, C_ALIASES, C_EMAIL,
	C_CONTACT, C_ROLE, C_LANGUAGE, C_STATUS, C_COUNT
};

static const char *const col_names[C_COUNT] = {
	"acronym", "name", "kind", "country", "notes", "aliases", "email",
	"contact_name", "role", "language", "status",
};

struct icontact {
	char *email, *name, *role, *language;
	enum registry_contact_status status;
	unsigned line;
};

struct ibody {
	char *f[C_ALIASES]; /* acronym .. notes; NULL when empty */
	unsigned line;
	char **aliases;
	size_t naliases, aalloc;
	struct icontact *contacts;
	size_t ncontacts, calloc_;
};

struct ifile {
	const char *name;
	struct ibody *bodies;
	size_t nbodies, alloc;
	struct sbuf *problems;
	int bad_rows;
	int rows;
	unsigned current_line;
	bool line_bad;
	FILE *progress_out; /* a progress line goes here (on a terminal) */
};

static void ifile_release(struct ifile *f)
{
	for (size_t i = 0; i < f->nbodies; i++) {
		struct ibody *b = &f->bodies[i];

		for (int c = 0; c < C_ALIASES; c++)
			free(b->f[c]);
		for (size_t k = 0; k < b->naliases; k++)
			free(b->aliases[k]);
		free(b->aliases);
		for (size_t k = 0; k < b->ncontacts; k++) {
			free(b->contacts[k].email);
			free(b->contacts[k].name);
			free(b->contacts[k].role);
			free(b->contacts[k].language);
		}
		free(b->contacts);
	}
	free(f->bodies);
}

/* Records a problem of the current row. */
static void problem(struct ifile *f, const char *col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void problem(struct ifile *f, const char *col, const char *fmt, ...)
{
	struct sbuf line = SBUF_INIT;
	va_list ap;

	if (!f->line_bad)
		f->bad_rows++;
	f->line_bad = true;
	if (!f->problems)
		return;
	sbuf_addf(&line, "%s:%u: ", f->name, f->current_line);
	for (int c = 0; c < C_COUNT; c++)
		if (strcmp(col, col_names[c]) == 0) {
			sbuf_addf(&line, "column '%s': ", col);
			col = NULL;
			break;
		}
	if (col)
		sbuf_addf(&line, "%s: ", col);
	va_start(ap, fmt);
	sbuf_vaddf(&line, fmt, ap);
	va_end(ap);
	/* The line quotes the file's values: an escape sequence in one is
	 * shown as \x1b, not played on the terminal. */
	utf8_escape_terminal(f->problems, line.buf);
	sbuf_addch(f->problems, '\n');
	sbuf_release(&line);
}

/* A cell as its value: the "'" export put in front of a formula-like
 * cell taken off, a line break inside it made LF, the spaces around it
 * trimmed; NULL when that leaves nothing. */
static char *field(const struct csv_record *r, enum col c)
{
	struct sbuf b = SBUF_INIT;

	for (const char *p = r->fields[c]; *p; p++)
		if (!(p[0] == '\r' && p[1] == '\n'))
			sbuf_addch(&b, *p);
	csv_unneutralise(b.buf);
	sbuf_setlen(&b, strlen(b.buf));
	sbuf_trim(&b);
	if (!b.len) {
		sbuf_release(&b);
		return NULL;
	}
	return sbuf_detach(&b, NULL);
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* True when s holds a control character other than a tab, or other
 * than a tab and a line break when lines is set. */
static bool has_control(const char *s, bool lines)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (((*p < 0x20 && *p != '\t') || *p == 0x7f) &&
		    !(lines && *p == '\n'))
			return true;
	return false;
}

/* A text cell; only notes may hold line breaks (a name or a role goes
 * into mail headers). */
static void check_text(struct ifile *f, enum col c, const char *v, size_t max)
{
	bool lines = c == C_NOTES;

	if (v && has_control(v, lines))
		problem(f, col_names[c], lines ?
			"contains a control character (line breaks and "
			"tabs are the only ones a note may hold)" :
			"contains a line break or control character (only "
			"notes may hold line breaks)");
	else if (v && strlen(v) > max)
		problem(f, col_names[c], "longer than %zu bytes", max);
}

/* The kind code a cell names: any case, and ' ' or '_' for '-' ("NGO",
 * "UN organ"); NULL when none. */
static const char *kind_code(const char *cell)
{
	for (int i = 0; registry_kinds[i]; i++) {
		const char *k = registry_kinds[i], *p = cell;

		for (; *k && *p; k++, p++)
			if (tolower((unsigned char)*p) != *k &&
			    !(*k == '-' && (*p == ' ' || *p == '_')))
				break;
		if (!*k && !*p)
			return registry_kinds[i];
	}
	return NULL;
}

/* Replaces *v by what replacement says it means (NULL: keeps it). */
static void replace_cell(char **v, const char *replacement)
{
	if (!replacement)
		return;
	free(*v);
	*v = xstrdup(replacement);
}

/* The body fields of a row, checked one by one; a kind or country
 * written as a person would is replaced by its code. */
static void check_body_fields(struct ifile *f, char **v)
{
	char country[3];

	if (v[C_ACRONYM] && (strpbrk(v[C_ACRONYM], " \t|,") ||
			     strlen(v[C_ACRONYM]) > 32))
		problem(f, "acronym", "'%s' is not an acronym (no spaces, "
			"commas or '|', at most 32 bytes)", v[C_ACRONYM]);
	if (!v[C_NAME])
		problem(f, "name", "empty");
	check_text(f, C_NAME, v[C_NAME], 300);
	check_text(f, C_NOTES, v[C_NOTES], 2000);
	if (!v[C_KIND]) {
		problem(f, "kind", "empty");
	} else if (kind_code(v[C_KIND])) {
		replace_cell(&v[C_KIND], kind_code(v[C_KIND]));
	} else {
		struct sbuf k = SBUF_INIT;

		for (int i = 0; registry_kinds[i]; i++)
			sbuf_addf(&k, "%s%s", i ? ", " : "", registry_kinds[i]);
		problem(f, "kind", "'%s' is not a kind (one of %s, in any "
			"case)", v[C_KIND], k.buf);
		sbuf_release(&k);
	}
	if (v[C_COUNTRY] && locale_country_parse(v[C_COUNTRY], country))
		replace_cell(&v[C_COUNTRY], country);
	else if (v[C_COUNTRY])
		problem(f, "country", "'%s' is not a country (an ISO 3166 "
			"code like 'FR' or an English name like 'France')",
			v[C_COUNTRY]);
}

/* Notes belong to the body, and a spreadsheet often gives them on one
 * of its rows only: an empty notes cell agrees with any, and the body
 * takes the first given. Two different ones are an error that says so. */
static void body_notes(struct ifile *f, struct ibody *b, char **v)
{
	if (!v[C_NOTES] || same(b->f[C_NOTES], v[C_NOTES]))
		return;
	if (!b->f[C_NOTES]) {
		b->f[C_NOTES] = v[C_NOTES];
		v[C_NOTES] = NULL;
		return;
	}
	problem(f, "notes", "differs from the notes at line %u: notes belong "
		"to the body, not to a contact (there is no column for a "
		"contact's notes); give them once, on any row of the body",
		b->line);
}

/* The body a row belongs to: same acronym, or same name when neither
 * has one; NULL for a new body. Reports rows that disagree. */
static struct ibody *row_body(struct ifile *f, char **v)
{
	for (size_t i = 0; i < f->nbodies; i++) {
		struct ibody *b = &f->bodies[i];
		bool key = v[C_ACRONYM] ? b->f[C_ACRONYM] &&
						  strcasecmp(b->f[C_ACRONYM],
							     v[C_ACRONYM]) == 0
					: !b->f[C_ACRONYM] && v[C_NAME] &&
						  strcasecmp(b->f[C_NAME],
							     v[C_NAME]) == 0;

		if (key) {
			for (int c = C_NAME; c < C_NOTES; c++)
				if (!same(b->f[c], v[c]))
					problem(f, col_names[c],
						"differs from line %u for the "
						"same body", b->line);
			body_notes(f, b, v);
			return b;
		}
		if (v[C_NAME] && strcasecmp(b->f[C_NAME], v[C_NAME]) == 0)
			problem(f, "name", "'%s' is also the name of another "
				"body at line %u", v[C_NAME], b->line);
	}
	return NULL;
}

/* A body of the file that clashes with the database: its name is that
 * of another live body. */
static void check_against_db(struct ifile *f, struct db *db, char **v)
{
	struct registry_body by_name = {0}, by_acr = {0};
	struct error e = ERROR_INIT;
	bool has_acr = false;

	if (!v[C_NAME])
		return;
	if (v[C_ACRONYM] && registry_body_find(db, v[C_ACRONYM], &by_acr, &e) == 0)
		has_acr = by_acr.acronym &&
			  strcasecmp(by_acr.acronym, v[C_ACRONYM]) == 0;
	if (registry_body_find(db, v[C_NAME], &by_name, &e) == 0 &&
	    strcasecmp(by_name.name, v[C_NAME]) == 0 &&
	    (has_acr ? by_name.id != by_acr.id
		     : v[C_ACRONYM] && by_name.acronym &&
			       strcasecmp(by_name.acronym, v[C_ACRONYM]) != 0))
		problem(f, "name", "'%s' is already the name of body %s",
			v[C_NAME], by_name.acronym ? by_name.acronym : "#");
	registry_body_release(&by_acr);
	registry_body_release(&by_name);
}

static void add_aliases(struct ifile *f, struct ibody *b, const char *list)
{
	const char *p = list;

	while (p && *p) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);
		struct sbuf a = SBUF_INIT;
		bool dup = false;

		sbuf_add(&a, p, n);
		sbuf_trim(&a);
		if (a.len && utf8_has_control(a.buf))
			problem(f, "aliases", "'%s' contains control characters",
				a.buf);
		for (size_t k = 0; k < b->naliases; k++)
			dup |= strcmp(b->aliases[k], a.buf) == 0;
		if (a.len && !dup) {
			xgrow(&b->aliases, sizeof(*b->aliases), b->naliases + 1,
			      &b->aalloc);
			b->aliases[b->naliases++] = sbuf_detach(&a, NULL);
		}
		sbuf_release(&a);
		p = bar ? bar + 1 : NULL;
	}
}

static void add_contact(struct ifile *f, struct ibody *b, char **v)
{
	struct error e = ERROR_INIT;
	enum registry_contact_status st = CONTACT_ACTIVE;
	struct icontact *c;

	if (!v[C_EMAIL]) {
		if (v[C_CONTACT] || v[C_ROLE] || v[C_LANGUAGE] || v[C_STATUS])
			problem(f, "email", "empty, but the row names a contact");
		return;
	}
	if (address_check(v[C_EMAIL], &e))
		problem(f, "email", "%s", e.msg);
	check_text(f, C_CONTACT, v[C_CONTACT], 300);
	check_text(f, C_ROLE, v[C_ROLE], 300);
	if (v[C_LANGUAGE]) {
		char *tag = locale_language_parse(v[C_LANGUAGE]);

		if (tag)
			replace_cell(&v[C_LANGUAGE], tag);
		else
			problem(f, "language", "'%s' is not a language (a BCP "
				"47 tag like 'fr' or 'fr-CH', or an English "
				"name like 'French')", v[C_LANGUAGE]);
		free(tag);
	}
	if (v[C_STATUS])
		for (char *p = v[C_STATUS]; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	if (v[C_STATUS] && registry_contact_status_parse(v[C_STATUS], &st))
		problem(f, "status", "'%s' is not one of active, disabled, "
			"bouncing, suppressed", v[C_STATUS]);
	for (size_t k = 0; k < b->ncontacts; k++)
		if (strcasecmp(b->contacts[k].email, v[C_EMAIL]) == 0)
			problem(f, "email", "'%s' is already given at line %u "
				"for this body", v[C_EMAIL], b->contacts[k].line);
	if (f->line_bad)
		return;
	xgrow(&b->contacts, sizeof(*b->contacts), b->ncontacts + 1,
	      &b->calloc_);
	c = &b->contacts[b->ncontacts++];
	c->email = xstrdup(v[C_EMAIL]);
	c->name = xstrdup(v[C_CONTACT]);
	c->role = xstrdup(v[C_ROLE]);
	c->language = xstrdup(v[C_LANGUAGE]);
	c->status = st;
	c->line = f->current_line;
}

static void take_row(struct ifile *f, struct db *db,
		     const struct csv_record *r)
{
	char *v[C_COUNT] = {0};
	struct ibody *b;

	f->current_line = r->line;
	f->line_bad = false;
	if (r->count != C_COUNT) {
		problem(f, "row", "has %zu fields, expected %d", r->count,
			C_COUNT);
		return;
	}
	for (int c = 0; c < C_COUNT; c++)
		v[c] = field(r, c);
	check_body_fields(f, v);
	b = row_body(f, v);
	if (!b && !f->line_bad)
		check_against_db(f, db, v);
	if (!b && !f->line_bad) {
		xgrow(&f->bodies, sizeof(*f->bodies), f->nbodies + 1, &f->alloc);
		b = &f->bodies[f->nbodies++];
		memset(b, 0, sizeof(*b));
		for (int c = 0; c < C_ALIASES; c++) {
			b->f[c] = v[c];
			v[c] = NULL;
		}
		b->line = r->line;
	}
	if (b) {
		add_aliases(f, b, v[C_ALIASES]);
		add_contact(f, b, v);
	}
	for (int c = 0; c < C_COUNT; c++)
		free(v[c]);
}

static int check_header(struct ifile *f, const struct csv_record *r)
{
	bool ok = r->count == C_COUNT;

	for (size_t c = 0; ok && c < C_COUNT; c++)
		ok = csv_header_is(r->fields[c], col_names[c]);
	if (!ok) {
		f->current_line = r->line;
		problem(f, "header", "expected '%s' (in any case, separated by "
			"',' ';' or tabs)", import_csv_header);
	}
	return ok ? 0 : -1;
}

/* Reads and checks the whole file into f. */
static void read_all(struct ifile *f, struct db *db, const char *text,
		     size_t len)
{
	struct csv_reader rd;
	struct csv_record rec = {0};
	struct error e = ERROR_INIT;
	const char *nul;
	size_t bad;
	int rc;

	f->current_line = 1;
	if (!utf8_valid(text, len, &bad)) {
		/* name the line, as every other problem does */
		for (size_t i = 0; i < bad; i++)
			f->current_line += text[i] == '\n';
		problem(f, "file", "invalid UTF-8 at byte %zu", bad);
		return;
	}
	/* a field would end at a NUL and the rest of it vanish unseen */
	nul = memchr(text, '\0', len);
	if (nul) {
		for (const char *p = text; p < nul; p++)
			f->current_line += *p == '\n';
		problem(f, "file", "NUL byte at byte %zu",
			(size_t)(nul - text));
		return;
	}
	csv_reader_init(&rd, f->name, text, len);
	rc = csv_read(&rd, &rec, &e);
	if (rc == 0)
		problem(f, "header", "the file is empty; expected '%s'",
			import_csv_header);
	if (rc == 1 && check_header(f, &rec) == 0) {
		struct progress p;

		progress_init(&p, f->progress_out, "checking rows", 0,
			      f->progress_out ? PROGRESS_AUTO : PROGRESS_NEVER);
		while ((rc = csv_read(&rd, &rec, &e)) == 1) {
			f->rows++;
			take_row(f, db, &rec);
			progress_update(&p, (uint64_t)f->rows);
		}
		progress_release(&p);
	}
	if (rc < 0) { /* the reader's message names the file and line */
		f->bad_rows++;
		if (f->problems)
			sbuf_addf(f->problems, "%s\n", e.msg);
	}
	csv_record_release(&rec);
}

/* ---- applying ------------------------------------------------------------ */

/* The live body an imported one is: same acronym, or same name. */
static int existing_body(struct db *db, const struct ibody *b,
			 struct registry_body *out, struct error *err)
{
	const char *key = b->f[C_ACRONYM] ? b->f[C_ACRONYM] : b->f[C_NAME];
	int rc = registry_body_find(db, key, out, err);

	if (rc == 0) {
		bool match = b->f[C_ACRONYM]
				     ? out->acronym &&
					       strcasecmp(out->acronym, key) == 0
				     : strcasecmp(out->name, key) == 0;

		if (match)
			return 1;
		registry_body_release(out);
		memset(out, 0, sizeof(*out));
		return 0;
	}
	if (rc == ERR_NOTFOUND || rc == ERR_DATA) {
		error_clear(err);
		return 0;
	}
	return rc;
}

/* want when it says something new; an empty field keeps what is there. */
static const char *changed(const char *want, const char *have)
{
	return want && !same(want, have) ? want : NULL;
}

static int apply_body(struct db *db, const struct ibody *b, int64_t *id,
		      struct import_stats *st, struct error *err)
{
	struct registry_body cur = {0};
	const char *name, *kind, *country, *notes;
	int rc = existing_body(db, b, &cur, err);

	if (rc < 0)
		return rc;
	if (rc == 0) {
		st->bodies_added++;
		return registry_body_add(db, b->f[C_ACRONYM], b->f[C_NAME],
					 b->f[C_KIND], b->f[C_COUNTRY],
					 b->f[C_NOTES], id, err);
	}
	*id = cur.id;
	name = changed(b->f[C_NAME], cur.name);
	kind = changed(b->f[C_KIND], cur.kind);
	country = changed(b->f[C_COUNTRY], cur.country);
	notes = changed(b->f[C_NOTES], cur.notes);
	rc = 0;
	if (name || kind || country || notes) {
		st->bodies_changed++;
		rc = registry_body_update(db, cur.id, NULL, name, kind, country,
					  notes, err);
	}
	registry_body_release(&cur);
	return rc;
}

static int apply_alias(struct db *db, int64_t id, const char *alias,
		       const char *source, struct import_stats *st,
		       struct error *err)
{
	int64_t ids[16];
	int n = registry_match_name(db, alias, ids, 16, err);

	if (n < 0)
		return n;
	for (int i = 0; i < n && i < 16; i++)
		if (ids[i] == id)
			return 0;
	st->aliases_added++;
	return registry_alias_add(db, id, alias, source, err);
}

static int apply_contact(struct db *db, int64_t id, const struct icontact *c,
			 struct import_stats *st, struct error *err)
{
	struct registry_contact cur = {0};
	int64_t cid = 0;
	int rc = registry_contact_find(db, id, c->email, &cur, err);

	if (rc == 0) {
		cid = cur.id;
		rc = cur.status == c->status ? 1 : 0;
		registry_contact_release(&cur);
		if (rc == 1)
			return 0;
		st->contacts_changed++;
		return registry_contact_set_status(db, cid, c->status,
						   "registry import", err);
	}
	if (rc != ERR_NOTFOUND)
		return rc;
	error_clear(err);
	st->contacts_added++;
	rc = registry_contact_add(db, id, c->email, c->name, c->role,
				  c->language, &cid, err);
	if (rc == 0 && c->status != CONTACT_ACTIVE)
		rc = registry_contact_set_status(db, cid, c->status,
						 "registry import", err);
	return rc;
}

static int apply_all(struct db *db, const struct ifile *f, const char *source,
		     struct import_stats *st, struct error *err)
{
	struct progress p;
	int rc = db_begin(db, err);

	progress_init(&p, f->progress_out, "importing bodies", f->nbodies,
		      f->progress_out ? PROGRESS_AUTO : PROGRESS_NEVER);
	for (size_t i = 0; rc == 0 && i < f->nbodies; i++) {
		progress_update(&p, i);
		const struct ibody *b = &f->bodies[i];
		int64_t id = 0;

		rc = apply_body(db, b, &id, st, err);
		for (size_t k = 0; rc == 0 && k < b->naliases; k++)
			rc = apply_alias(db, id, b->aliases[k], source, st, err);
		for (size_t k = 0; rc == 0 && k < b->ncontacts; k++)
			rc = apply_contact(db, id, &b->contacts[k], st, err);
		if (rc)
			error_prefix(err, "%s:%u", f->name, b->line);
	}
	progress_update(&p, f->nbodies);
	progress_release(&p);
	if (rc == 0)
		rc = db_commit(db, err);
	if (rc)
		db_rollback(db);
	return rc;
}

int import_csv(struct db *db, const char *name, const char *text, size_t len,
	       const char *source, struct sbuf *problems,
	       struct import_stats *stats, struct error *err)
{
	return import_csv_progress(db, name, text, len, source, problems,
				   stats, NULL, err);
}

int import_csv_progress(struct db *db, const char *name, const char *text,
			size_t len, const char *source, struct sbuf *problems,
			struct import_stats *stats, FILE *progress_out,
			struct error *err)
{
	struct ifile f = {.name = name, .problems = problems,
			  .progress_out = progress_out};
	struct import_stats st = {0};
	int rc = 0;

	read_all(&f, db, text, len);
	if (f.bad_rows) {
		rc = error_set(err, ERR_DATA, "%s: %d bad row%s; nothing "
			       "imported", name, f.bad_rows,
			       f.bad_rows == 1 ? "" : "s");
		goto out;
	}
	st.rows = f.rows;
	rc = apply_all(db, &f, source, &st, err);
	if (rc == 0 && stats)
		*stats = st;
out:
	ifile_release(&f);
	return rc;
}

/* ---- export -------------------------------------------------------------- */

struct body_vec {
	struct registry_body *v;
	size_t n, alloc;
};

static int copy_body(const struct registry_body *b, void *arg)
{
	struct body_vec *bv = arg;
	struct registry_body *c;

	xgrow(&bv->v, sizeof(*bv->v), bv->n + 1, &bv->alloc);
	c = &bv->v[bv->n++];
	*c = *b;
	c->acronym = xstrdup(b->acronym);
	c->name = xstrdup(b->name);
	c->kind = xstrdup(b->kind);
	c->country = xstrdup(b->country);
	c->notes = xstrdup(b->notes);
	return 0;
}

struct alias_join {
	const struct registry_body *b;
	struct sbuf out;
};

/* The aliases beyond the name and acronym, which import adds anyway. */
static int join_alias(const char *alias, void *arg)
{
	struct alias_join *j = arg;

	if (strcmp(alias, j->b->name) == 0 ||
	    (j->b->acronym && strcmp(alias, j->b->acronym) == 0))
		return 0;
	if (j->out.len)
		sbuf_addch(&j->out, '|');
	sbuf_addstr(&j->out, alias);
	return 0;
}

struct contact_rows {
	const struct registry_body *b;
	const char *aliases;
	const struct csv_dialect *dialect;
	struct sbuf *out;
	int rows;
};

static void body_row(struct contact_rows *cr, const struct registry_contact *c)
{
	const struct registry_body *b = cr->b;
	const char *f[C_COUNT] = {
		b->acronym, b->name, b->kind, b->country, b->notes, cr->aliases,
		c ? c->email : NULL, c ? c->name : NULL, c ? c->role : NULL,
		c ? c->language : NULL,
		c ? registry_contact_status_name(c->status) : NULL,
	};

	csv_add_record_dialect(cr->out, cr->dialect, f, C_COUNT);
	cr->rows++;
}

static int contact_row(const struct registry_contact *c, void *arg)
{
	body_row(arg, c);
	return 0;
}

int import_export_csv(struct db *db, struct sbuf *out, struct error *err)
{
	return import_export_csv_dialect(db, &csv_rfc4180, out, err);
}

int import_export_csv_dialect(struct db *db, const struct csv_dialect *d,
			      struct sbuf *out, struct error *err)
{
	struct body_vec bv = {0};
	int rc;

	if (d->bom)
		sbuf_addstr(out, "\xef\xbb\xbf");
	csv_add_record_dialect(out, d, col_names, C_COUNT);
	rc = registry_body_each(db, NULL, copy_body, &bv, err);
	for (size_t i = 0; rc == 0 && i < bv.n; i++) {
		struct alias_join j = {.b = &bv.v[i], .out = SBUF_INIT};
		struct contact_rows cr = {.b = &bv.v[i], .dialect = d,
					  .out = out};

		rc = registry_alias_each(db, bv.v[i].id, join_alias, &j, err);
		cr.aliases = j.out.buf;
		if (rc == 0)
			rc = registry_contact_each(db, bv.v[i].id, contact_row,
						   &cr, err);
		if (rc == 0 && cr.rows == 0)
			body_row(&cr, NULL);
		sbuf_release(&j.out);
	}
	for (size_t i = 0; i < bv.n; i++)
		registry_body_release(&bv.v[i]);
	free(bv.v);
	return rc;
}

/* ---- the seed ------------------------------------------------------------ */

/* The group addressees the statements in the seed name, as they write
 * them: each becomes the rule list addressee_group_classify gives it. */
static const char *const seed_groups[] = {
	"ombudspersons of different countries",
	"national human rights institutions of different countries",
	"diplomatic missions of Azerbaijan in foreign countries",
	"diplomatic missions of foreign countries in Azerbaijan",
	"diaspora organizations of Azerbaijan",
};

static int seed_group(struct db *db, const char *phrase,
		      struct import_stats *st, struct error *err)
{
	const char *kind;
	char *country = NULL;
	int64_t id = 0;
	int rc;

	if (!addressee_group_classify(phrase, &kind, &country))
		return error_set(err, ERR_SOFTWARE, "seed group '%s' is not "
				 "a group", phrase);
	rc = addressee_plan_group_list(db, kind, country, false, &id, err);
	if (rc == 0 && !id) {
		rc = addressee_plan_group_list(db, kind, country, true, &id,
					       err);
		st->lists_created += rc == 0;
	}
	free(country);
	return rc;
}

int import_seed(struct db *db, struct import_stats *stats, struct error *err)
{
	const struct embedded_file *ef = embedded_find("seed_registry.csv");
	struct sbuf problems = SBUF_INIT;
	struct import_stats st = {0};
	int rc;

	if (!ef)
		return error_set(err, ERR_SOFTWARE,
				 "the seed registry is not compiled in");
	rc = db_begin(db, err);
	if (rc)
		return rc;
	rc = import_csv(db, "seed_registry.csv", ef->data, ef->size, "seed",
			&problems, &st, err);
	if (rc && problems.len) /* a bug in the shipped file: name the row */
		error_set(err, rc, "%.*s", (int)strcspn(problems.buf, "\n"),
			  problems.buf);
	for (size_t i = 0;
	     rc == 0 && i < sizeof(seed_groups) / sizeof(seed_groups[0]); i++)
		rc = seed_group(db, seed_groups[i], &st, err);
	if (rc == 0)
		rc = db_commit(db, err);
	if (rc)
		db_rollback(db);
	else if (stats)
		*stats = st;
	sbuf_release(&problems);
	return rc;
}
