/*
 * import: the registry as CSV. Validation reads the whole file and
 * collects every problem before anything is written, so a user fixes a
 * file in one pass and a bad file never half-loads.
 *
 * It is one file above 1,000 lines because reading, checking every cell,
 * planning and applying work on one in-memory model of the file (struct
 * ifile) that no other module needs; the export and the seed use its
 * column table.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chancery/address.h"
#include "chancery/addressee.h"
#include "chancery/addressee_plan.h"
#include "chancery/csv.h"
#include "chancery/embedded.h"
#include "chancery/import.h"
#include "chancery/json.h"
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
	bool has_status; /* an empty cell keeps the registry's */
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

/*
 * A map from a string to a number (open addressing, keys owned): the
 * rows are looked up in it rather than compared with every row before
 * them, which made an import of n rows take n²/2 comparisons.
 */
struct strmap {
	char **keys;
	size_t *vals;
	size_t count, cap;
};

static uint64_t strmap_hash(const char *s)
{
	uint64_t h = 14695981039346656037u; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

static size_t strmap_slot(const struct strmap *m, const char *key)
{
	size_t i = (size_t)strmap_hash(key) & (m->cap - 1);

	while (m->keys[i] && strcmp(m->keys[i], key) != 0)
		i = (i + 1) & (m->cap - 1);
	return i;
}

/* The number stored for key, or NULL. */
static size_t *strmap_get(const struct strmap *m, const char *key)
{
	size_t i;

	if (!m->count)
		return NULL;
	i = strmap_slot(m, key);
	return m->keys[i] ? &m->vals[i] : NULL;
}

/* Stores val for key (taking key over) unless key is there already. */
static void strmap_put(struct strmap *m, char *key, size_t val)
{
	size_t i;

	if ((m->count + 1) * 2 > m->cap) {
		struct strmap bigger = {.cap = m->cap ? m->cap * 2 : 64};

		bigger.keys = xcalloc(bigger.cap, sizeof(*bigger.keys));
		bigger.vals = xcalloc(bigger.cap, sizeof(*bigger.vals));
		for (size_t k = 0; k < m->cap; k++)
			if (m->keys[k]) {
				i = strmap_slot(&bigger, m->keys[k]);
				bigger.keys[i] = m->keys[k];
				bigger.vals[i] = m->vals[k];
			}
		bigger.count = m->count;
		free(m->keys);
		free(m->vals);
		*m = bigger;
	}
	i = strmap_slot(m, key);
	if (m->keys[i]) {
		free(key);
		return;
	}
	m->keys[i] = key;
	m->vals[i] = val;
	m->count++;
}

static void strmap_release(struct strmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

/* tag, then a and b folded to lower case as strcasecmp compares them
 * (ASCII), as one key. */
static char *fold_key(char tag, const char *a, const char *b)
{
	struct sbuf k = SBUF_INIT;

	sbuf_addch(&k, tag);
	for (const char *p = a; p && *p; p++)
		sbuf_addch(&k, (char)tolower((unsigned char)*p));
	sbuf_addch(&k, '\x1f');
	for (const char *p = b; p && *p; p++)
		sbuf_addch(&k, (char)tolower((unsigned char)*p));
	return sbuf_detach(&k, NULL);
}

struct ifile {
	const char *name;
	struct strmap keys;  /* body key (acronym, or name) → index */
	struct strmap names; /* body name → index */
	struct strmap seen;  /* contact and alias of a body → line */
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
	strmap_release(&f->keys);
	strmap_release(&f->names);
	strmap_release(&f->seen);
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
/* A text cell; only notes may hold line breaks (a name or a role goes
 * into mail headers). */
static void check_text(struct ifile *f, enum col c, const char *v, size_t max)
{
	bool lines = c == C_NOTES;

	if (v && (lines ? utf8_has_control_in_lines(v) : utf8_has_control(v)))
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

/* The key of a body of the file: its acronym, or its name when it has
 * none. */
static char *body_key(char **v)
{
	return v[C_ACRONYM] ? fold_key('a', v[C_ACRONYM], NULL)
			    : fold_key('n', v[C_NAME], NULL);
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
	char *key = body_key(v), *nkey = fold_key('n', v[C_NAME], NULL);
	size_t *at = strmap_get(&f->keys, key);
	size_t *named = strmap_get(&f->names, nkey);
	struct ibody *b = at ? &f->bodies[*at] : NULL;

	free(key);
	free(nkey);
	if (named && (!at || *named != *at))
		problem(f, "name", "'%s' is also the name of another "
			"body at line %u", v[C_NAME], f->bodies[*named].line);
	if (!b)
		return NULL;
	for (int c = C_NAME; c < C_NOTES; c++)
		if (!same(b->f[c], v[c]))
			problem(f, col_names[c], "differs from line %u for "
				"the same body", b->line);
	body_notes(f, b, v);
	return b;
}

static void add_aliases(struct ifile *f, struct ibody *b, const char *list)
{
	const char *p = list;

	while (p && *p) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);
		struct sbuf a = SBUF_INIT;
		char *key;

		sbuf_add(&a, p, n);
		sbuf_trim(&a);
		if (a.len && utf8_has_control(a.buf))
			problem(f, "aliases", "'%s' contains control characters",
				a.buf);
		key = xasprintf("l%u\x1f%s", b->line, a.buf);
		if (a.len && !strmap_get(&f->seen, key)) {
			strmap_put(&f->seen, key, f->current_line);
			key = NULL;
			xgrow(&b->aliases, sizeof(*b->aliases), b->naliases + 1,
			      &b->aalloc);
			b->aliases[b->naliases++] = sbuf_detach(&a, NULL);
		}
		free(key);
		sbuf_release(&a);
		p = bar ? bar + 1 : NULL;
	}
}

static void add_contact(struct ifile *f, struct ibody *b, char **v)
{
	struct error e = ERROR_INIT;
	enum registry_contact_status st = CONTACT_ACTIVE;
	struct icontact *c;
	char line[16], *key;
	size_t *dup;

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
	snprintf(line, sizeof(line), "%u", b->line);
	key = fold_key('c', line, v[C_EMAIL]);
	dup = strmap_get(&f->seen, key);
	if (dup)
		problem(f, "email", "'%s' is already given at line %zu "
			"for this body", v[C_EMAIL], *dup);
	if (f->line_bad) {
		free(key);
		return;
	}
	strmap_put(&f->seen, key, f->current_line);
	xgrow(&b->contacts, sizeof(*b->contacts), b->ncontacts + 1,
	      &b->calloc_);
	c = &b->contacts[b->ncontacts++];
	c->email = xstrdup(v[C_EMAIL]);
	c->name = xstrdup(v[C_CONTACT]);
	c->role = xstrdup(v[C_ROLE]);
	c->language = xstrdup(v[C_LANGUAGE]);
	c->status = st;
	c->has_status = v[C_STATUS] != NULL;
	c->line = f->current_line;
}

static void take_row(struct ifile *f, const struct csv_record *r)
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
	b = v[C_NAME] ? row_body(f, v) : NULL;
	if (!b && !f->line_bad) {
		xgrow(&f->bodies, sizeof(*f->bodies), f->nbodies + 1, &f->alloc);
		strmap_put(&f->keys, body_key(v), f->nbodies);
		strmap_put(&f->names, fold_key('n', v[C_NAME], NULL),
			   f->nbodies);
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
static void read_all(struct ifile *f, const char *text, size_t len)
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
			take_row(f, &rec);
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

/* ---- the plan ------------------------------------------------------------ */

void import_plan_release(struct import_plan *plan)
{
	for (size_t i = 0; i < plan->count; i++) {
		struct import_item *it = &plan->items[i];

		free(it->body);
		free(it->contact);
		free(it->from);
		free(it->to);
		free(it->detail);
	}
	free(plan->items);
	memset(plan, 0, sizeof(*plan));
}

static struct import_item *plan_add(struct import_plan *plan,
				    enum import_action action, unsigned line,
				    const char *object, const char *body,
				    const char *contact)
{
	struct import_item *it;

	xgrow(&plan->items, sizeof(*plan->items), plan->count + 1,
	      &plan->alloc);
	it = &plan->items[plan->count++];
	memset(it, 0, sizeof(*it));
	it->action = action;
	it->line = line;
	it->object = object;
	it->body = xstrdup(body);
	it->contact = xstrdup(contact);
	if (action == IMPORT_KEPT)
		plan->stats.kept++;
	if (action == IMPORT_CONFLICT)
		plan->stats.conflicts++;
	return it;
}

/* How far a status is from sending: an import only moves it up. A
 * suppression was asked for by the body, disabling decided by a person,
 * bouncing by the streak rule. */
static int status_rank(enum registry_contact_status s)
{
	switch (s) {
	case CONTACT_ACTIVE:
		return 0;
	case CONTACT_BOUNCING:
		return 1;
	case CONTACT_DISABLED:
		return 2;
	case CONTACT_SUPPRESSED:
		return 3;
	}
	return 3;
}

enum import_action import_status_move(enum registry_contact_status from,
				      enum registry_contact_status to,
				      bool reactivate)
{
	if (from == to)
		return IMPORT_UNCHANGED;
	if (status_rank(to) > status_rank(from) || reactivate)
		return IMPORT_CHANGED;
	return IMPORT_KEPT;
}

static void quoted(struct sbuf *out, const char *s)
{
	sbuf_addch(out, '\'');
	sbuf_addstr(out, s ? s : "");
	sbuf_addch(out, '\'');
}

void import_item_format(const struct import_item *it, struct sbuf *out)
{
	struct sbuf line = SBUF_INIT;
	bool status = it->field && strcmp(it->field, "status") == 0;

	sbuf_addf(&line, "line %u: ", it->line);
	if (it->contact)
		sbuf_addf(&line, "contact %s of %s: ", it->contact, it->body);
	else
		sbuf_addf(&line, "body %s: ", it->body);
	switch (it->action) {
	case IMPORT_ADDED:
		sbuf_addstr(&line, "added");
		if (strcmp(it->object, "alias") == 0) {
			sbuf_addstr(&line, " alias ");
			quoted(&line, it->to);
		} else if (status) {
			sbuf_addf(&line, " (status %s)", it->to);
		}
		break;
	case IMPORT_CHANGED:
		sbuf_addf(&line, "changed %s ", it->field);
		if (status)
			sbuf_addf(&line, "%s → %s", it->from, it->to);
		else {
			quoted(&line, it->from);
			sbuf_addstr(&line, " → ");
			quoted(&line, it->to);
		}
		break;
	case IMPORT_KEPT:
		if (status && strcmp(it->from, "removed") == 0) {
			sbuf_addf(&line, "kept removed (the file names it; %s "
				  "adds it back)", it->option);
			break;
		}
		sbuf_addf(&line, "kept %s ", it->field);
		if (status)
			sbuf_addstr(&line, it->from);
		else
			quoted(&line, it->from);
		if (status && !it->to) {
			sbuf_addstr(&line, " (the file's status cell is empty)");
			break;
		}
		sbuf_addstr(&line, " (the file says ");
		if (status)
			sbuf_addstr(&line, it->to);
		else
			quoted(&line, it->to);
		sbuf_addf(&line, "; %s applies it)", it->option);
		break;
	case IMPORT_CONFLICT:
		sbuf_addf(&line, "conflict: %s", it->detail);
		break;
	case IMPORT_UNCHANGED:
		sbuf_addstr(&line, "unchanged");
		break;
	}
	/* the values are the file's: an escape sequence is shown, not played */
	utf8_escape_terminal(out, line.buf);
	sbuf_release(&line);
}

static const char *const action_names[] = {
	[IMPORT_UNCHANGED] = "unchanged", [IMPORT_ADDED] = "added",
	[IMPORT_CHANGED] = "changed",     [IMPORT_KEPT] = "kept",
	[IMPORT_CONFLICT] = "conflict",
};

void import_plan_json(const struct import_plan *plan, const char *name,
		      struct json *js)
{
	const struct import_stats *st = &plan->stats;

	json_object_begin(js);
	json_kv_string(js, "file", name);
	json_kv_bool(js, "applied", plan->applied);
	json_key(js, "items");
	json_array_begin(js);
	for (size_t i = 0; i < plan->count; i++) {
		const struct import_item *it = &plan->items[i];

		json_object_begin(js);
		json_kv_int(js, "line", it->line);
		json_kv_string(js, "action", action_names[it->action]);
		json_kv_string(js, "object", it->object);
		json_kv_string(js, "body", it->body);
		json_kv_string(js, "contact", it->contact);
		json_kv_string(js, "field", it->field);
		json_kv_string(js, "from", it->from);
		json_kv_string(js, "to", it->to);
		json_kv_string(js, "option", it->option);
		json_kv_string(js, "detail", it->detail);
		json_object_end(js);
	}
	json_array_end(js);
	json_key(js, "summary");
	json_object_begin(js);
	json_kv_int(js, "rows", st->rows);
	json_kv_int(js, "bodies_added", st->bodies_added);
	json_kv_int(js, "bodies_changed", st->bodies_changed);
	json_kv_int(js, "aliases_added", st->aliases_added);
	json_kv_int(js, "contacts_added", st->contacts_added);
	json_kv_int(js, "contacts_changed", st->contacts_changed);
	json_kv_int(js, "unchanged", st->unchanged);
	json_kv_int(js, "kept", st->kept);
	json_kv_int(js, "conflicts", st->conflicts);
	json_object_end(js);
	json_object_end(js);
}

/* ---- applying ------------------------------------------------------------ */

struct applier {
	struct db *db;
	const struct import_options *opt;
	struct import_plan *plan;
	struct strmap claimed; /* registry body id → line of the file */
	size_t first_conflict; /* index of the first conflict item */
};

static const char *label(const struct registry_body *b)
{
	return b->acronym ? b->acronym : b->name;
}

/* Adds the live body of that id to the candidates, once. */
static void candidate(int64_t *ids, int *n, int64_t id)
{
	for (int i = 0; i < *n; i++)
		if (ids[i] == id)
			return;
	if (*n < 8)
		ids[(*n)++] = id;
}

/* The bodies one of whose aliases normalises as key does: added to
 * ids. */
static int alias_candidates(struct db *db, const char *key, int64_t *ids,
			    int *n, struct error *err)
{
	int64_t found[8];
	int m = key ? registry_match_name(db, key, found, 8, err) : 0;

	for (int i = 0; i < m && i < 8; i++)
		candidate(ids, n, found[i]);
	return m < 0 ? m : 0;
}

/*
 * The live body an imported one is: by acronym, else by name, else by
 * alias (of its name or its acronym). 1 with *out filled, 0 for a new
 * body, 2 for a conflict (detail says why), or an error.
 *
 * A body's name and acronym are among its aliases, so the alias lookup
 * finds every candidate; a new body (the common case of a large file)
 * costs two indexed queries. Only when there are several does the exact
 * acronym, then the exact name, decide.
 */
static int match_body(struct applier *ap, const struct ibody *b,
		      struct registry_body *out, struct sbuf *detail,
		      struct error *err)
{
	const char *acr = b->f[C_ACRONYM], *name = b->f[C_NAME];
	int64_t ids[8];
	int n = 0, rc;

	memset(out, 0, sizeof(*out));
	if ((rc = alias_candidates(ap->db, name, ids, &n, err)) ||
	    (rc = alias_candidates(ap->db, acr, ids, &n, err)))
		return rc;
	if (n == 0)
		return 0;
	for (int i = 0; i < n; i++) {
		if ((rc = registry_body_get(ap->db, ids[i], out, err)))
			return rc;
		if (acr && out->acronym && strcasecmp(out->acronym, acr) == 0)
			break;
		registry_body_release(out);
	}
	/* the acronym decides, unless the name is another body's */
	if (out->id) {
		for (int i = 0; i < n; i++) {
			struct registry_body o = {0};
			bool clash;

			if (ids[i] == out->id)
				continue;
			if ((rc = registry_body_get(ap->db, ids[i], &o, err)))
				return rc;
			clash = strcasecmp(o.name, name) == 0;
			if (clash)
				sbuf_addf(detail, "acronym %s is body %s, "
					  "name '%s' is body %s", acr,
					  label(out), name, label(&o));
			registry_body_release(&o);
			if (clash) {
				registry_body_release(out);
				return 2;
			}
		}
		return 1;
	}
	for (int i = 0; i < n; i++) {
		if ((rc = registry_body_get(ap->db, ids[i], out, err)))
			return rc;
		if (strcasecmp(out->name, name) == 0)
			return 1;
		registry_body_release(out);
	}
	if (n == 1) {
		rc = registry_body_get(ap->db, ids[0], out, err);
		return rc ? rc : 1;
	}
	sbuf_addf(detail, "'%s' matches %s%d bodies:", acr ? acr : name,
		  n == 8 ? "at least " : "", n);
	for (int i = 0; i < n; i++) {
		struct registry_body o = {0};

		if (registry_body_get(ap->db, ids[i], &o, err) == 0)
			sbuf_addf(detail, "%s %s", i ? "," : "", label(&o));
		registry_body_release(&o);
	}
	sbuf_addstr(detail, "; write the acronym of one of them");
	return 2;
}

/* A field of the file against the registry's: nothing (empty cell or
 * the same value), applied (*apply set) or kept, and listed. */
static void compare(struct applier *ap, unsigned line, const char *object,
		    const char *body, const char *contact, const char *field,
		    const char *have, const char *want, bool nocase,
		    const char **apply, bool *listed)
{
	struct import_item *it;

	if (!want || (have && (nocase ? strcasecmp(have, want)
				      : strcmp(have, want)) == 0))
		return;
	*listed = true;
	it = plan_add(ap->plan, ap->opt->update ? IMPORT_CHANGED : IMPORT_KEPT,
		      line, object, body, contact);
	it->field = field;
	it->from = xstrdup(have);
	it->to = xstrdup(want);
	if (ap->opt->update)
		*apply = want;
	else
		it->option = "--update";
}

static void conflict(struct applier *ap, unsigned line, const char *body,
		     const char *detail)
{
	struct import_item *it =
		plan_add(ap->plan, IMPORT_CONFLICT, line, "body", body, NULL);

	it->detail = xstrdup(detail);
	if (ap->plan->stats.conflicts == 1)
		ap->first_conflict = ap->plan->count - 1;
}

/* 1: the body, *id and *lbl set; 0: skipped as a conflict. */
static int apply_body(struct applier *ap, const struct ibody *b, int64_t *id,
		      char **lbl, struct error *err)
{
	struct import_stats *st = &ap->plan->stats;
	struct registry_body cur = {0};
	struct sbuf detail = SBUF_INIT;
	const char *acr = NULL, *name = NULL, *kind = NULL, *country = NULL,
		   *notes = NULL;
	bool listed = false;
	char *key = NULL;
	size_t *other;
	int rc = match_body(ap, b, &cur, &detail, err);

	if (rc < 0)
		goto out;
	if (rc == 2) {
		conflict(ap, b->line, b->f[C_ACRONYM] ? b->f[C_ACRONYM]
						      : b->f[C_NAME],
			 detail.buf);
		rc = 0;
		goto out;
	}
	if (rc == 0) {
		st->bodies_added++;
		*lbl = xstrdup(b->f[C_ACRONYM] ? b->f[C_ACRONYM] : b->f[C_NAME]);
		plan_add(ap->plan, IMPORT_ADDED, b->line, "body", *lbl, NULL);
		rc = registry_body_add(ap->db, b->f[C_ACRONYM], b->f[C_NAME],
				       b->f[C_KIND], b->f[C_COUNTRY],
				       b->f[C_NOTES], id, err);
		rc = rc ? rc : 1;
		goto out;
	}
	key = xasprintf("%lld", (long long)cur.id);
	other = strmap_get(&ap->claimed, key);
	if (other) {
		sbuf_addf(&detail, "body %s is also matched by line %zu",
			  label(&cur), *other);
		conflict(ap, b->line, label(&cur), detail.buf);
		rc = 0;
		goto out;
	}
	strmap_put(&ap->claimed, key, b->line);
	key = NULL;
	*id = cur.id;
	*lbl = xstrdup(label(&cur));
	compare(ap, b->line, "body", *lbl, NULL, "acronym", cur.acronym,
		b->f[C_ACRONYM], true, &acr, &listed);
	compare(ap, b->line, "body", *lbl, NULL, "name", cur.name,
		b->f[C_NAME], false, &name, &listed);
	compare(ap, b->line, "body", *lbl, NULL, "kind", cur.kind,
		b->f[C_KIND], false, &kind, &listed);
	compare(ap, b->line, "body", *lbl, NULL, "country", cur.country,
		b->f[C_COUNTRY], false, &country, &listed);
	compare(ap, b->line, "body", *lbl, NULL, "notes", cur.notes,
		b->f[C_NOTES], false, &notes, &listed);
	rc = 1;
	if (acr || name || kind || country || notes) {
		st->bodies_changed++;
		rc = registry_body_update(ap->db, cur.id, acr, name, kind,
					  country, notes, err);
		rc = rc ? rc : 1;
	} else if (!listed) {
		st->unchanged++;
	}
out:
	free(key);
	sbuf_release(&detail);
	registry_body_release(&cur);
	return rc;
}

static int apply_alias(struct applier *ap, int64_t id, const char *lbl,
		       unsigned line, const char *alias, struct error *err)
{
	int64_t ids[16];
	int n = registry_match_name(ap->db, alias, ids, 16, err);
	struct import_item *it;

	if (n < 0)
		return n;
	for (int i = 0; i < n && i < 16; i++)
		if (ids[i] == id)
			return 0;
	ap->plan->stats.aliases_added++;
	it = plan_add(ap->plan, IMPORT_ADDED, line, "alias", lbl, NULL);
	it->to = xstrdup(alias);
	return registry_alias_add(ap->db, id, alias,
				  ap->opt->source ? ap->opt->source : "csv", err);
}

static int add_new_contact(struct applier *ap, int64_t id, const char *lbl,
			   const struct icontact *c, struct error *err)
{
	struct import_item *it;
	int64_t cid = 0;
	int rc;

	ap->plan->stats.contacts_added++;
	it = plan_add(ap->plan, IMPORT_ADDED, c->line, "contact", lbl,
		      c->email);
	if (c->status != CONTACT_ACTIVE) {
		it->field = "status";
		it->to = xstrdup(registry_contact_status_name(c->status));
	}
	rc = registry_contact_add(ap->db, id, c->email, c->name, c->role,
				  c->language, &cid, err);
	if (rc == 0 && c->status != CONTACT_ACTIVE)
		rc = registry_contact_set_status(ap->db, cid, c->status,
						 "registry import", err);
	return rc;
}

/* A contact the file names that was removed: kept removed, or added
 * anew with --reactivate (its history stays with the removed one). */
static int removed_contact(struct applier *ap, int64_t id, const char *lbl,
			   const struct icontact *c, bool *handled,
			   struct error *err)
{
	struct registry_contact gone = {0};
	struct import_item *it;
	int rc = registry_contact_find_removed(ap->db, id, c->email, &gone,
					       err);

	*handled = false;
	if (rc == ERR_NOTFOUND) {
		error_clear(err);
		return 0;
	}
	registry_contact_release(&gone);
	if (rc)
		return rc;
	if (ap->opt->reactivate)
		return 0; /* the caller adds it */
	*handled = true;
	it = plan_add(ap->plan, IMPORT_KEPT, c->line, "contact", lbl, c->email);
	it->field = "status";
	it->from = xstrdup("removed");
	if (c->has_status)
		it->to = xstrdup(registry_contact_status_name(c->status));
	it->option = "--reactivate";
	return 0;
}

/* A contact of the file: added, or compared with the live one. A body
 * added by this import has no contact yet (nor a removed one) to look
 * up. */
static int apply_contact(struct applier *ap, int64_t id, bool new_body,
			 const char *lbl, const struct icontact *c,
			 struct error *err)
{
	struct registry_contact cur = {0};
	const char *name = NULL, *role = NULL, *language = NULL;
	bool listed = false, changed = false, handled;
	int rc;

	if (new_body)
		return add_new_contact(ap, id, lbl, c, err);
	rc = registry_contact_find(ap->db, id, c->email, &cur, err);

	if (rc == ERR_NOTFOUND) {
		error_clear(err);
		rc = removed_contact(ap, id, lbl, c, &handled, err);
		if (rc == 0 && !handled)
			rc = add_new_contact(ap, id, lbl, c, err);
		return rc;
	}
	if (rc)
		return rc;
	compare(ap, c->line, "contact", lbl, cur.email, "name", cur.name,
		c->name, false, &name, &listed);
	compare(ap, c->line, "contact", lbl, cur.email, "role", cur.role,
		c->role, false, &role, &listed);
	compare(ap, c->line, "contact", lbl, cur.email, "language",
		cur.language, c->language, true, &language, &listed);
	if (name || role || language) {
		struct registry_contact_edit edit = {
			.name = name, .role = role, .language = language,
		};
		int changed = 0;

		rc = registry_contact_update(ap->db, cur.id, &edit, &changed,
					     err);
	}
	if (rc == 0 && !c->has_status && cur.status != CONTACT_ACTIVE) {
		/* not a change, but a clerk reading the plan should know */
		struct import_item *it = plan_add(ap->plan, IMPORT_KEPT,
						  c->line, "contact", lbl,
						  cur.email);

		listed = true;
		it->field = "status";
		it->from = xstrdup(registry_contact_status_name(cur.status));
	}
	if (rc == 0 && c->has_status) {
		enum import_action a = import_status_move(
			cur.status, c->status, ap->opt->reactivate);

		if (a != IMPORT_UNCHANGED) {
			struct import_item *it = plan_add(
				ap->plan, a, c->line, "contact", lbl,
				cur.email);

			listed = true;
			it->field = "status";
			it->from = xstrdup(
				registry_contact_status_name(cur.status));
			it->to = xstrdup(
				registry_contact_status_name(c->status));
			if (a == IMPORT_KEPT)
				it->option = "--reactivate";
		}
		/* back to active the way "contact enable" goes */
		if (a == IMPORT_CHANGED)
			rc = registry_contact_set_status(ap->db, cur.id,
							 c->status,
							 "registry import",
							 err);
		changed = a == IMPORT_CHANGED;
	}
	if (changed || name || role || language)
		ap->plan->stats.contacts_changed++;
	else if (!listed)
		ap->plan->stats.unchanged++;
	registry_contact_release(&cur);
	return rc;
}

static int apply_all(struct applier *ap, const struct ifile *f,
		     struct error *err)
{
	const struct import_stats *st = &ap->plan->stats;
	struct progress p;
	int rc = 0;

	progress_init(&p, ap->opt->progress_out, "importing bodies",
		      f->nbodies, ap->opt->progress_out ? PROGRESS_AUTO
							 : PROGRESS_NEVER);
	for (size_t i = 0; rc == 0 && i < f->nbodies; i++) {
		const struct ibody *b = &f->bodies[i];
		char *lbl = NULL;
		int64_t id = 0;

		int added = st->bodies_added;

		progress_update(&p, i);
		rc = apply_body(ap, b, &id, &lbl, err);
		if (rc == 1) {
			rc = 0;
			for (size_t k = 0; rc == 0 && k < b->naliases; k++)
				rc = apply_alias(ap, id, lbl, b->line,
						 b->aliases[k], err);
			for (size_t k = 0; rc == 0 && k < b->ncontacts; k++)
				rc = apply_contact(ap, id, added < st->bodies_added,
						   lbl, &b->contacts[k], err);
		}
		if (rc)
			error_prefix(err, "%s:%u", f->name, b->line);
		free(lbl);
	}
	progress_update(&p, f->nbodies);
	progress_release(&p);
	return rc;
}

int import_csv_plan(struct db *db, const char *name, const char *text,
		    size_t len, const struct import_options *opt,
		    struct import_plan *plan, struct sbuf *problems,
		    struct error *err)
{
	struct ifile f = {.name = name, .problems = problems,
			  .progress_out = opt->progress_out};
	struct applier ap = {.db = db, .opt = opt, .plan = plan};
	bool bulk = false;
	int rc = 0;

	read_all(&f, text, len);
	if (f.bad_rows) {
		rc = error_set(err, ERR_DATA, "%s: %d bad row%s; nothing "
			       "imported", name, f.bad_rows,
			       f.bad_rows == 1 ? "" : "s");
		goto out;
	}
	plan->stats.rows = f.rows;
	/* inside a caller's transaction (the seed's), the settings are fixed */
	bulk = !db_in_transaction(db);
	if (bulk && (rc = db_bulk_begin(db, err)))
		goto out;
	if ((rc = db_begin(db, err)))
		goto end;
	rc = apply_all(&ap, &f, err);
	if (rc == 0 && plan->stats.conflicts) {
		const struct import_item *c = &plan->items[ap.first_conflict];

		rc = error_set(err, ERR_DATA, "%s:%u: %s%s; nothing imported",
			       name, c->line, c->detail,
			       plan->stats.conflicts > 1 ? " (and more "
							   "conflicts)" : "");
	}
	if (rc == 0 && !opt->dry_run)
		rc = db_commit(db, err);
	else
		db_rollback(db);
	plan->applied = rc == 0 && !opt->dry_run;
end:
	if (bulk)
		db_bulk_end(db);
out:
	strmap_release(&ap.claimed);
	ifile_release(&f);
	return rc;
}

int import_csv(struct db *db, const char *name, const char *text, size_t len,
	       const char *source, struct sbuf *problems,
	       struct import_stats *stats, struct error *err)
{
	struct import_options opt = {.source = source ? source : "csv"};
	struct import_plan plan = {0};
	int rc = import_csv_plan(db, name, text, len, &opt, &plan, problems,
				 err);

	if (rc == 0 && stats)
		*stats = plan.stats;
	import_plan_release(&plan);
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
