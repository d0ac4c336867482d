/*
 * template: the versioned statement templates stored in the templates
 * tables, built on the Mustache engine (mustache.c): the file format,
 * reading a template's files from its folder, storage, and rendering
 * for one addressee.
 *
 * One module above 1,000 lines: parsing the file, reading its folder,
 * measuring its size and storing it are the steps of one operation,
 * template_add (one transaction), all on one struct template.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chancery/anniversary.h"
#include "chancery/clock.h"
#include "chancery/ledger.h"
#include "chancery/locale_format.h"
#include "chancery/mustache.h"
#include "chancery/sha256.h"
#include "chancery/template.h"
#include "chancery/utf8.h"
#include "chancery/xalloc.h"

/* ------------------------------------------------------------------ */
/* statement templates: the file format                                */

const char *const template_variables[] = {
	"body.name",       "body.acronym",      "body.kind",
	"body.country",    "contact.name",      "contact.email",
	"contact.role",    "sender.name",       "sender.address",
	"sender.organization", "sender.reply_to", "campaign.name",
	"campaign.date",   "anniversary.ordinal", "anniversary.years",
	"anniversary.year", "event.date",
	/* locale_format: language-dependent forms (issue 21) */
	LOCALE_FORMAT_VARIABLES,
	NULL,
};

static void strv_push(char ***v, size_t *n, char *s)
{
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = s;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static size_t sat_add(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

void template_free(struct template *t)
{
	if (!t)
		return;
	free(t->source);
	mustache_free(t->subject);
	mustache_free(t->from);
	mustache_free(t->reply_to);
	mustache_free(t->text);
	mustache_free(t->html);
	for (size_t i = 0; i < t->npartials; i++) {
		free(t->partial_names[i]);
		free(t->partial_sources[i]);
	}
	free(t->partial_names);
	free(t->partial_sources);
	for (size_t i = 0; i < t->nattachments; i++) {
		free(t->attachments[i].filename);
		free(t->attachments[i].content_type);
		free(t->attachments[i].content);
		sbuf_release(&t->attachments[i].mime_part);
	}
	free(t->attachments);
	for (size_t i = 0; i < t->nattach_paths; i++)
		free(t->attach_paths[i]);
	free(t->attach_paths);
	free(t);
}

static int parse_header_line(struct template *t, const char *line, int lineno,
			     struct error *err)
{
	static const char *const names[] = {"Subject", "From", "Reply-To",
					    "Attach"};
	const char *colon = strchr(line, ':');
	const char *value;
	size_t nlen;
	int which = -1;

	if (!colon)
		return error_set(err, ERR_DATA, "line %d, column 1: a header "
				 "line must read 'Name: value' (the header "
				 "block ends at the first empty line)", lineno);
	nlen = (size_t)(colon - line);
	for (int i = 0; i < 4; i++)
		if (strlen(names[i]) == nlen &&
		    strncasecmp(line, names[i], nlen) == 0)
			which = i;
	if (which < 0)
		return error_set(err, ERR_DATA, "line %d, column 1: unknown "
				 "header '%.*s' (want Subject:, From:, "
				 "Reply-To: or Attach:)", lineno, (int)nlen,
				 line);
	/* A bare CR (or any control but tab) would end the header in some
	 * reader's eyes and let the rest of the line pass for another one. */
	for (const char *q = colon; *q; q++)
		if (((unsigned char)*q < 0x20 && *q != '\t') || *q == 0x7f)
			return error_set(err, ERR_DATA, "line %d, column %d: "
					 "control character 0x%02x in the %s: "
					 "header", lineno, (int)(q - line) + 1,
					 (unsigned char)*q, names[which]);
	value = colon + 1;
	while (is_blank(*value))
		value++;
	if (!*value)
		return error_set(err, ERR_DATA, "line %d, column %d: empty "
				 "%s: header", lineno, (int)nlen + 2,
				 names[which]);
	if (which == 3) {
		struct sbuf path = SBUF_INIT;

		sbuf_addstr(&path, value);
		sbuf_trim(&path);
		strv_push(&t->attach_paths, &t->nattach_paths,
			  sbuf_detach(&path, NULL));
		return 0;
	}
	{
		struct mustache **slot = which == 0 ? &t->subject :
					 which == 1 ? &t->from : &t->reply_to;
		if (*slot)
			return error_set(err, ERR_DATA, "line %d, column 1: "
					 "second %s: header", lineno,
					 names[which]);
		return mustache_compile_at(value, lineno,
				      (int)(value - line) + 1, slot, err);
	}
}

/* Splits the body at the HTML separator line and compiles both parts. */
static int parse_bodies(struct template *t, const char *body, int first_line,
			struct error *err)
{
	const char *p = body, *sep = NULL;
	int line = first_line, sep_line = 0;
	char *text;
	int rc;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (len && p[len - 1] == '\r')
			len--;
		if (len == strlen(TEMPLATE_HTML_SEPARATOR) &&
		    strncmp(p, TEMPLATE_HTML_SEPARATOR, len) == 0) {
			sep = p;
			sep_line = line;
			break;
		}
		if (!nl)
			break;
		p = nl + 1;
		line++;
	}
	text = sep ? xstrndup(body, (size_t)(sep - body)) : xstrdup(body);
	rc = mustache_compile(text, first_line, &t->text, err);
	free(text);
	if (rc || !sep)
		return rc;
	p = strchr(sep, '\n');
	return mustache_compile(p ? p + 1 : "", sep_line + 1, &t->html, err);
}

int template_parse(const char *source, struct template **out,
		   struct error *err)
{
	struct template *t = xcalloc(1, sizeof(*t));
	const char *p = source;
	int lineno = 1, rc = 0;
	bool ended = false;
	size_t bad;

	*out = NULL;
	if (!utf8_valid(source, strlen(source), &bad)) {
		int line, col;

		mustache_position(source, bad, 1, &line, &col);
		rc = error_set(err, ERR_DATA, "line %d, column %d: not UTF-8",
			       line, col);
		goto out;
	}
	t->source = xstrdup(source);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *line;

		if (len && p[len - 1] == '\r')
			len--;
		if (len == 0) {
			p = nl ? nl + 1 : p + strlen(p);
			lineno++;
			ended = true;
			break;
		}
		line = xstrndup(p, len);
		rc = parse_header_line(t, line, lineno, err);
		free(line);
		if (rc)
			goto out;
		if (!nl)
			break;
		p = nl + 1;
		lineno++;
	}
	if (!ended) {
		rc = error_set(err, ERR_DATA, "line %d: no empty line after the "
			       "header block (Subject: ...), so there is no "
			       "body", lineno);
		goto out;
	}
	if (!t->subject) {
		rc = error_set(err, ERR_DATA, "line 1, column 1: no Subject: "
			       "header");
		goto out;
	}
	rc = parse_bodies(t, p, lineno, err);
out:
	if (rc)
		template_free(t);
	else
		*out = t;
	return rc;
}

/* Partials of a template in memory, for rendering and checking. */
static const char *template_partial(void *arg, const char *name)
{
	const struct template *t = arg;

	for (size_t i = 0; i < t->npartials; i++)
		if (strcmp(t->partial_names[i], name) == 0)
			return t->partial_sources[i];
	return NULL;
}

/* Adds a partial (taking source) to t. */
static void add_partial(struct template *t, const char *name, char *source)
{
	size_t n = t->npartials;

	strv_push(&t->partial_names, &n, xstrdup(name));
	n = t->npartials;
	strv_push(&t->partial_sources, &n, source);
	t->npartials = n;
}

/* ------------------------------------------------------------------ */
/* the template's folder: the only place its files are read from        */

/*
 * A template's partials and attachments are read from its folder and
 * nowhere else: `template add` runs as the chancery user, which can read
 * the relay's password file, and whatever it reads is mailed out. The
 * folder is the template file's directory, taken by its real path.
 */
struct folder {
	char *real; /* the directory's real path, no trailing slash */
	int fd;     /* the directory, opened once */
};

static int folder_open(struct folder *f, const char *dir, struct error *err)
{
	f->fd = -1;
	f->real = realpath(dir, NULL);
	if (!f->real)
		return error_set_errno(err, ERR_NOINPUT, "%s: cannot resolve "
				       "the template's folder", dir);
	f->fd = open(f->real, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (f->fd < 0)
		return error_set_errno(err, ERR_NOINPUT, "%s: cannot open the "
				       "template's folder", f->real);
	return 0;
}

static void folder_close(struct folder *f)
{
	if (f->fd >= 0)
		close(f->fd);
	free(f->real);
	f->real = NULL;
	f->fd = -1;
}

/* Refuses a path that names a place outside the folder by its text:
 * absolute, or climbing with "..". */
static int folder_check_text(const struct folder *f, const char *rel,
			     struct error *err)
{
	if (rel[0] == '/')
		return error_set(err, ERR_DATA, "an absolute path; a "
				 "template's files must be inside its folder "
				 "%s", f->real);
	for (const char *c = rel; *c; c += strcspn(c, "/"), c += *c == '/')
		if (c[0] == '.' && c[1] == '.' && (c[2] == '/' || !c[2]))
			return error_set(err, ERR_DATA, "a '..' component; a "
					 "template's files must be inside its "
					 "folder %s", f->real);
	return 0;
}

/*
 * Opens rel (a path inside the folder with no symlink in it: what
 * realpath gave) one component at a time from the folder's descriptor,
 * never following a symlink: if the tree changed since it was resolved,
 * this fails instead of reading what a new symlink points at.
 */
static int folder_openat(const struct folder *f, const char *rel,
			 const char *shown, int *out, struct error *err)
{
	char *copy = xstrdup(rel), *comp = copy, *slash;
	int dfd = f->fd, fd = -1, rc = 0;

	while ((slash = strchr(comp, '/'))) {
		int next;

		*slash = '\0';
		next = openat(dfd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW |
					      O_CLOEXEC);
		if (dfd != f->fd)
			close(dfd);
		if (next < 0) {
			rc = error_set_errno(err, ERR_NOINPUT, "%s: changed "
					     "while being read", shown);
			goto out;
		}
		dfd = next;
		comp = slash + 1;
	}
	/* O_NONBLOCK: a FIFO must not hang the open (it is refused next) */
	fd = openat(dfd, comp, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
				       O_CLOEXEC);
	if (fd < 0)
		rc = error_set_errno(err, errno == ELOOP ? ERR_DATA : ERR_NOINPUT,
				     "%s: cannot open", shown);
	if (dfd != f->fd)
		close(dfd);
out:
	free(copy);
	*out = fd;
	return rc;
}

/*
 * Reads the file rel names inside the folder into sb (at most max bytes).
 * Refused with ERR_DATA: an absolute path, a ".." component, a path
 * whose real path (symlinks resolved, in any component) is outside the
 * folder, and anything but a regular file. A symlink that stays inside
 * the folder is allowed. Messages do not repeat rel: the caller puts it
 * in front.
 */
static int folder_read(const struct folder *f, const char *rel, size_t max,
		       struct sbuf *sb, struct error *err)
{
	char *full = NULL, *real = NULL;
	/* "/x" is inside "/": the prefix then is empty */
	size_t dlen = strcmp(f->real, "/") == 0 ? 0 : strlen(f->real);
	struct stat st;
	int fd = -1, rc;

	if ((rc = folder_check_text(f, rel, err)))
		return rc;
	full = xasprintf("%s/%s", f->real, rel);
	real = realpath(full, NULL);
	if (!real) {
		rc = error_set_errno(err, ERR_NOINPUT, "%s: cannot open", full);
		goto out;
	}
	if (strcmp(real, f->real) == 0) {
		rc = error_set(err, ERR_DATA, "%s: not a regular file", full);
		goto out;
	}
	if (strncmp(real, f->real, dlen) != 0 || real[dlen] != '/') {
		rc = error_set(err, ERR_DATA, "leads outside the template's "
			       "folder %s (to %s)", f->real, real);
		goto out;
	}
	if ((rc = folder_openat(f, real + dlen + 1, full, &fd, err)))
		goto out;
	if (fstat(fd, &st) != 0) {
		rc = error_set_errno(err, ERR_IO, "%s: cannot stat", full);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = error_set(err, ERR_DATA, "%s: not a regular file", full);
		goto out;
	}
	if ((size_t)st.st_size > max) {
		rc = error_set(err, ERR_DATA, "%s: %lld bytes, larger than the "
			       "limit of %zu", full, (long long)st.st_size, max);
		goto out;
	}
	rc = sbuf_read_fd(sb, fd, full, max, err);
out:
	if (fd >= 0)
		close(fd);
	free(full);
	free(real);
	return rc;
}

static bool safe_file_name(const char *name)
{
	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (const char *s = name; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_-.", *s))
			return false;
	return true;
}

/* Reads NAME.partial beside the template for every partial the parts use,
 * and the partials those use. */
static int load_partials(struct template *t, const struct folder *dir,
			 struct error *err)
{
	struct mustache *parts[5] = {t->subject, t->from, t->reply_to,
				     t->text, t->html};
	char **todo = NULL;
	size_t ntodo = 0;
	int rc = 0;

	for (int i = 0; i < 5; i++)
		if (parts[i])
			mustache_partial_names(parts[i], &todo, &ntodo);
	for (size_t i = 0; i < ntodo && !rc; i++) {
		struct sbuf src = SBUF_INIT;
		struct mustache *m = NULL;
		char *path;

		if (template_partial(t, todo[i]))
			continue;
		if (!safe_file_name(todo[i])) {
			rc = error_set(err, ERR_DATA, "partial name '%s' is not "
				       "a plain file name", todo[i]);
			break;
		}
		path = xasprintf("%s.partial", todo[i]);
		rc = folder_read(dir, path, TEMPLATE_MAX_SIZE, &src, err);
		if (rc) {
			error_prefix(err, "partial '%s' (%s)", todo[i], path);
		} else if ((rc = mustache_compile(src.buf, 1, &m, err))) {
			error_prefix(err, "%s", path);
		} else {
			mustache_partial_names(m, &todo, &ntodo);
			add_partial(t, todo[i], sbuf_detach(&src, NULL));
		}
		mustache_free(m);
		sbuf_release(&src);
		free(path);
	}
	for (size_t i = 0; i < ntodo; i++)
		free(todo[i]);
	free(todo);
	return rc;
}

static const struct {
	const char *ext, *type;
} content_types[] = {
	{".pdf", "application/pdf"},   {".txt", "text/plain"},
	{".html", "text/html"},        {".htm", "text/html"},
	{".png", "image/png"},         {".jpg", "image/jpeg"},
	{".jpeg", "image/jpeg"},       {".gif", "image/gif"},
	{".doc", "application/msword"},
	{".docx", "application/vnd.openxmlformats-officedocument."
		  "wordprocessingml.document"},
	{".odt", "application/vnd.oasis.opendocument.text"},
	{".zip", "application/zip"},   {".csv", "text/csv"},
};

/* The content type a file name's extension says, octet-stream if none. */
static const char *content_type_of(const char *filename)
{
	const char *dot = strrchr(filename, '.');

	for (size_t i = 0; dot && i < sizeof(content_types) /
						sizeof(content_types[0]); i++)
		if (strcasecmp(dot, content_types[i].ext) == 0)
			return content_types[i].type;
	return "application/octet-stream";
}

static int load_attachments(struct template *t, const struct folder *dir,
			    struct error *err)
{
	int rc = 0;

	t->attachments = xcalloc(t->nattach_paths + 1,
				 sizeof(*t->attachments));
	for (size_t i = 0; i < t->nattach_paths && !rc; i++) {
		const char *rel = t->attach_paths[i];
		struct template_attachment *a = &t->attachments[i];
		struct sbuf content = SBUF_INIT;
		const char *slash = strrchr(rel, '/');

		sbuf_init(&a->mime_part, 0);

		rc = folder_read(dir, rel, TEMPLATE_ATTACHMENT_MAX, &content,
				 err);
		if (rc) {
			error_prefix(err, "Attach: %s", rel);
		} else {
			a->filename = xstrdup(slash ? slash + 1 : rel);
			a->content_type = xstrdup(content_type_of(a->filename));
			a->size = content.len;
			a->content = (unsigned char *)sbuf_detach(&content,
								  NULL);
			t->nattachments++;
		}
		sbuf_release(&content);
	}
	return rc;
}

/* The version's digest, as described in template.h. */
static void template_digest(const struct template *t, char out[65])
{
	struct sha256 *h = sha256_new();
	size_t order[256], n = t->npartials < 256 ? t->npartials : 256;

	sha256_update(h, t->source, strlen(t->source));
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (size_t i = 1; i < n; i++) /* by name: few partials */
		for (size_t j = i; j > 0 &&
				   strcmp(t->partial_names[order[j - 1]],
					  t->partial_names[order[j]]) > 0; j--) {
			size_t tmp = order[j];
			order[j] = order[j - 1];
			order[j - 1] = tmp;
		}
	for (size_t i = 0; i < n; i++) {
		const char *name = t->partial_names[order[i]];
		const char *src = t->partial_sources[order[i]];

		sha256_update(h, "\0partial\0", 9);
		sha256_update(h, name, strlen(name) + 1);
		sha256_update(h, src, strlen(src));
	}
	for (size_t i = 0; i < t->nattachments; i++) {
		const struct template_attachment *a = &t->attachments[i];
		char hex[SHA256_HEX_SIZE];

		sha256_update(h, "\0attach\0", 8);
		sha256_update(h, a->filename, strlen(a->filename) + 1);
		sha256_update(h, a->content_type, strlen(a->content_type) + 1);
		sha256_hex(a->content, a->size, hex);
		sha256_update(h, hex, 64);
	}
	sha256_final_hex(h, out);
	sha256_free(h);
}

/* Every name of every part against template_variables. */
static int template_check_names(struct template *t, struct error *err)
{
	struct mustache *parts[5] = {t->subject, t->from, t->reply_to,
				     t->text, t->html};
	struct mustache_partials partials = {template_partial, t};

	for (int i = 0; i < 5; i++) {
		int rc;

		if (!parts[i])
			continue;
		rc = mustache_check_names(parts[i], template_variables,
					  &partials, err);
		if (rc)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* storage                                                             */

enum {
	ST_INSERT,
	ST_INSERT_PARTIAL,
	ST_INSERT_ATTACHMENT,
	ST_BY_VERSION,
	ST_LATEST,
	ST_BY_ID,
	ST_EACH,
	ST_SOURCE,
	ST_PARTIALS,
	ST_ATTACHMENTS,
	ST_LOCK,
	ST__COUNT
};

#define INFO_COLUMNS                                                      \
	"SELECT id, name, version, sha256, origin, locked, created_at, "   \
	"(SELECT count(*) FROM template_partials p "                       \
	"WHERE p.template_id = templates.id), "                            \
	"(SELECT count(*) FROM template_attachments a "                    \
	"WHERE a.template_id = templates.id) FROM templates "

static const char *const template_sql[ST__COUNT] = {
	[ST_INSERT] = "INSERT INTO templates (name, version, source, sha256, "
		      "origin, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_INSERT_PARTIAL] = "INSERT INTO template_partials (template_id, "
			      "name, source) VALUES (?1, ?2, ?3)",
	[ST_INSERT_ATTACHMENT] = "INSERT INTO template_attachments "
				 "(template_id, position, filename, "
				 "content_type, content, sha256) VALUES "
				 "(?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_BY_VERSION] = INFO_COLUMNS "WHERE name = ?1 AND version = ?2",
	[ST_LATEST] = INFO_COLUMNS "WHERE name = ?1 ORDER BY version DESC "
				   "LIMIT 1",
	[ST_BY_ID] = INFO_COLUMNS "WHERE id = ?1",
	[ST_EACH] = INFO_COLUMNS "WHERE ?1 IS NULL OR name = ?1 "
				 "ORDER BY name, version",
	[ST_SOURCE] = "SELECT source FROM templates WHERE id = ?1",
	[ST_PARTIALS] = "SELECT name, source FROM template_partials "
			"WHERE template_id = ?1 ORDER BY name",
	[ST_ATTACHMENTS] = "SELECT filename, content_type, content FROM "
			   "template_attachments WHERE template_id = ?1 "
			   "ORDER BY position",
	[ST_LOCK] = "UPDATE templates SET locked = 1 WHERE id = ?1",
};

static const struct db_statements template_statements = {
	"template", template_sql, ST__COUNT};

void template_info_release(struct template_info *info)
{
	if (!info)
		return;
	free(info->name);
	free(info->origin);
	memset(info, 0, sizeof(*info));
}

static void read_info(sqlite3_stmt *st, struct template_info *out)
{
	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(st, 0);
	out->name = db_column_strdup(st, 1);
	out->version = sqlite3_column_int(st, 2);
	snprintf(out->sha256, sizeof(out->sha256), "%s",
		 db_column_text(st, 3));
	out->origin = db_column_strdup(st, 4);
	out->locked = sqlite3_column_int(st, 5) != 0;
	out->created_at = sqlite3_column_int64(st, 6);
	out->npartials = sqlite3_column_int(st, 7);
	out->nattachments = sqlite3_column_int(st, 8);
}

/* Steps st expecting at most one row: 0 with out filled, ERR_NOTFOUND. */
static int one_info(struct db *db, sqlite3_stmt *st, struct template_info *out,
		    const char *what, struct error *err)
{
	int rc = db_step(db, st, err);

	if (rc < 0)
		return rc;
	if (rc == 0)
		return error_set(err, ERR_NOTFOUND, "no template %s", what);
	read_info(st, out);
	sqlite3_reset(st);
	return 0;
}

int template_find(struct db *db, const char *name, int version,
		  struct template_info *out, struct error *err)
{
	sqlite3_stmt *st;
	char what[300];
	int rc;

	rc = db_prepare(db, &template_statements,
			version > 0 ? ST_BY_VERSION : ST_LATEST, &st, err);
	if (rc)
		return rc;
	db_bind_text(st, 1, name);
	if (version > 0) {
		sqlite3_bind_int(st, 2, version);
		snprintf(what, sizeof(what), "'%s' version %d", name, version);
	} else {
		snprintf(what, sizeof(what), "'%s'", name);
	}
	return one_info(db, st, out, what, err);
}

int template_get(struct db *db, int64_t template_id,
		 struct template_info *out, struct error *err)
{
	sqlite3_stmt *st;
	char what[64];
	int rc;

	rc = db_prepare(db, &template_statements, ST_BY_ID, &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, template_id);
	snprintf(what, sizeof(what), "with id %lld", (long long)template_id);
	return one_info(db, st, out, what, err);
}

/* template_each's callback and its argument, for each_row. */
struct each {
	template_fn fn;
	void *arg;
};

static int each_row(sqlite3_stmt *st, void *arg)
{
	const struct each *e = arg;
	struct template_info info;
	int rc;

	read_info(st, &info);
	rc = e->fn(&info, e->arg);
	template_info_release(&info);
	return rc;
}

int template_each(struct db *db, const char *name, template_fn fn, void *arg,
		  struct error *err)
{
	struct each e = {fn, arg};
	sqlite3_stmt *st;
	int rc;

	rc = db_prepare(db, &template_statements, ST_EACH, &st, err);
	if (rc)
		return rc;
	db_bind_text(st, 1, name);
	return db_each_row(db, st, each_row, &e, err);
}

int template_source(struct db *db, int64_t template_id, char **out,
		    struct error *err)
{
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	rc = db_prepare(db, &template_statements, ST_SOURCE, &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, template_id);
	rc = db_step(db, st, err);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return error_set(err, ERR_NOTFOUND, "no template with id %lld",
				 (long long)template_id);
	*out = db_column_strdup(st, 0);
	sqlite3_reset(st);
	return 0;
}

static int store_version(struct db *db, const char *name, int version,
			 const char *path, const struct template *t,
			 const char *sha, int64_t *id, struct error *err)
{
	sqlite3_stmt *st;
	int rc;

	rc = db_prepare(db, &template_statements, ST_INSERT, &st, err);
	if (rc)
		return rc;
	db_bind_text(st, 1, name);
	sqlite3_bind_int(st, 2, version);
	db_bind_text(st, 3, t->source);
	db_bind_text(st, 4, sha);
	db_bind_text(st, 5, path);
	sqlite3_bind_int64(st, 6, clock_now());
	rc = db_step_done(db, st, err);
	if (rc)
		return rc;
	*id = db_last_id(db);
	for (size_t i = 0; i < t->npartials && !rc; i++) {
		rc = db_prepare(db, &template_statements, ST_INSERT_PARTIAL,
				&st, err);
		if (rc)
			break;
		sqlite3_bind_int64(st, 1, *id);
		db_bind_text(st, 2, t->partial_names[i]);
		db_bind_text(st, 3, t->partial_sources[i]);
		rc = db_step_done(db, st, err);
	}
	for (size_t i = 0; i < t->nattachments && !rc; i++) {
		const struct template_attachment *a = &t->attachments[i];
		char hex[SHA256_HEX_SIZE];

		rc = db_prepare(db, &template_statements, ST_INSERT_ATTACHMENT,
				&st, err);
		if (rc)
			break;
		sha256_hex(a->content, a->size, hex);
		sqlite3_bind_int64(st, 1, *id);
		sqlite3_bind_int(st, 2, (int)i);
		db_bind_text(st, 3, a->filename);
		db_bind_text(st, 4, a->content_type);
		sqlite3_bind_blob(st, 5, a->size ? (const void *)a->content : "",
				  (int)a->size, SQLITE_TRANSIENT);
		db_bind_text(st, 6, hex);
		rc = db_step_done(db, st, err);
	}
	return rc;
}

static int record_added(struct db *db, const char *name, int version,
			const char *sha, struct error *err)
{
	struct ledger_entry e;
	int rc;

	ledger_entry_init(&e, LEDGER_TEMPLATE_ADDED, 0, 0, 0, 0);
	ledger_entry_str(&e, "name", name);
	ledger_entry_int(&e, "version", version);
	ledger_entry_str(&e, "sha256", sha);
	rc = ledger_entry_append(db, &e, NULL, err);
	ledger_entry_release(&e);
	return rc;
}

/* "25 MB", "64 KB" or "1000 bytes". */
static void format_size(size_t n, char *buf, size_t size)
{
	if (n >= 1024 * 1024 && n % (1024 * 1024) == 0)
		snprintf(buf, size, "%zu MB", n / (1024 * 1024));
	else if (n >= 1024 && n % 1024 == 0)
		snprintf(buf, size, "%zu KB", n / 1024);
	else
		snprintf(buf, size, "%zu bytes", n);
}

size_t template_max_size(const struct conf *cfg)
{
	return cfg && cfg->message_max_size > 0 ?
		       (size_t)cfg->message_max_size :
		       TEMPLATE_MESSAGE_MAX_DEFAULT;
}

/* The message template_too_big sets, in buf. */
static void too_big_message(size_t max_size, char *buf, size_t size)
{
	char limit[40];

	format_size(max_size, limit, sizeof(limit));
	snprintf(buf, size, "rendered message exceeds message.max_size (%s)",
		 limit);
}

int template_too_big(size_t max_size, struct error *err)
{
	char msg[100];

	too_big_message(max_size, msg, sizeof(msg));
	return error_set(err, ERR_DATA, "%s", msg);
}

/* The size of n bytes in base64 with CRLF every 76 characters. */
static size_t base64_size(size_t n)
{
	size_t chars = (n + 2) / 3 * 4;

	return chars + (chars + 75) / 76 * 2;
}

/*
 * Refuses a template that cannot render within max_size whatever the
 * data: its literal text with the partials expanded (every section
 * counted: a value is a string, so a section renders at most once) and
 * its attachments as encoded; or that expands more than
 * TEMPLATE_MAX_EXPANSION steps. Measured, not rendered: a fan-out of
 * 10^8 inclusions is refused in microseconds.
 */
static int template_check_size(struct template *t, size_t max_size,
			       struct error *err)
{
	struct mustache *parts[5] = {t->subject, t->from, t->reply_to,
				     t->text, t->html};
	struct mustache_partials partials = {template_partial, t};
	size_t text = 0, steps = 0, attached = 0;
	char limit[40], got[40];

	for (int i = 0; i < 5; i++) {
		size_t b, s;

		if (!parts[i])
			continue;
		mustache_expansion(parts[i], &partials, &b, &s);
		text = sat_add(text, b);
		steps = sat_add(steps, s);
	}
	for (size_t i = 0; i < t->nattachments; i++)
		attached = sat_add(attached, base64_size(t->attachments[i].size));
	format_size(max_size, limit, sizeof(limit));
	if (sat_add(text, attached) > max_size) {
		if (text == SIZE_MAX)
			snprintf(got, sizeof(got), "more than %zu bytes",
				 SIZE_MAX / 2);
		else
			snprintf(got, sizeof(got), "%zu bytes", text);
		return error_set(err, ERR_DATA, "the message would exceed "
				 "message.max_size (%s): its text with the "
				 "partials expanded is %s, its attachments "
				 "%zu bytes encoded", limit, got, attached);
	}
	if (steps > TEMPLATE_MAX_EXPANSION)
		return error_set(err, ERR_DATA, "its partials expand to more "
				 "than %d texts and tags (a partial fan-out)",
				 TEMPLATE_MAX_EXPANSION);
	return 0;
}

/* Reads and checks the file completely, before anything is stored. */
static int template_read(const char *path, size_t max_size,
			 struct template **out, struct error *err)
{
	struct sbuf src = SBUF_INIT;
	struct template *t = NULL;
	struct folder dir = {NULL, -1};
	char *copy = xstrdup(path);
	int rc;

	*out = NULL;
	rc = sbuf_read_file(&src, path, TEMPLATE_MAX_SIZE, err);
	if (rc)
		goto out;
	if (memchr(src.buf, '\0', src.len)) {
		rc = error_set(err, ERR_DATA, "%s: holds a NUL byte", path);
		goto out;
	}
	rc = template_parse(src.buf, &t, err);
	if (!rc)
		rc = folder_open(&dir, dirname(copy), err);
	if (!rc)
		rc = load_partials(t, &dir, err);
	if (!rc)
		rc = template_check_names(t, err);
	if (!rc)
		rc = load_attachments(t, &dir, err);
	if (!rc)
		rc = template_check_size(t, max_size, err);
	if (rc) {
		error_prefix(err, "%s", path);
		template_free(t);
		t = NULL;
	}
	*out = t;
out:
	folder_close(&dir);
	free(copy);
	sbuf_release(&src);
	return rc;
}

int template_add(struct db *db, const char *name, const char *path,
		 struct template_info *out, bool *unchanged, struct error *err)
{
	return template_add_max(db, name, path, TEMPLATE_MESSAGE_MAX_DEFAULT,
				out, unchanged, err);
}

int template_add_max(struct db *db, const char *name, const char *path,
		     size_t max_size, struct template_info *out,
		     bool *unchanged, struct error *err)
{
	struct template_info latest = {0};
	struct template *t = NULL;
	char sha[SHA256_HEX_SIZE];
	int64_t id = 0;
	int rc, version = 1;

	memset(out, 0, sizeof(*out));
	*unchanged = false;
	if (!*name || utf8_has_control(name))
		return error_set(err, ERR_USAGE, "template name '%s' is empty "
				 "or holds control characters", name);
	rc = template_read(path, max_size, &t, err);
	if (rc)
		return rc;
	template_digest(t, sha);
	rc = db_begin(db, err);
	if (rc)
		goto out;
	rc = template_find(db, name, 0, &latest, err);
	if (rc == 0) {
		version = latest.version + 1;
		if (strcmp(latest.sha256, sha) == 0) {
			*unchanged = true;
			*out = latest;
			memset(&latest, 0, sizeof(latest));
			db_rollback(db);
			goto out;
		}
	} else if (rc != ERR_NOTFOUND) {
		db_rollback(db);
		goto out;
	}
	error_clear(err);
	rc = store_version(db, name, version, path, t, sha, &id, err);
	if (!rc)
		rc = record_added(db, name, version, sha, err);
	if (!rc)
		rc = db_commit(db, err);
	if (rc) {
		db_rollback(db);
		goto out;
	}
	rc = template_get(db, id, out, err);
out:
	template_info_release(&latest);
	template_free(t);
	return rc;
}

int template_load(struct db *db, int64_t template_id, struct template **out,
		  struct error *err)
{
	struct template *t = NULL;
	sqlite3_stmt *st;
	char *source = NULL;
	int rc;

	*out = NULL;
	rc = template_source(db, template_id, &source, err);
	if (rc)
		return rc;
	rc = template_parse(source, &t, err);
	if (rc) {
		error_prefix(err, "stored template %lld",
			     (long long)template_id);
		goto out;
	}
	rc = db_prepare(db, &template_statements, ST_PARTIALS, &st, err);
	if (rc)
		goto out;
	sqlite3_bind_int64(st, 1, template_id);
	while ((rc = db_step(db, st, err)) == 1)
		add_partial(t, db_column_text(st, 0), db_column_strdup(st, 1));
	if (rc < 0)
		goto out;
	rc = db_prepare(db, &template_statements, ST_ATTACHMENTS, &st, err);
	if (rc)
		goto out;
	sqlite3_bind_int64(st, 1, template_id);
	t->attachments = xcalloc(t->nattach_paths + 1, sizeof(*t->attachments));
	while ((rc = db_step(db, st, err)) == 1 &&
	       t->nattachments < t->nattach_paths) {
		struct template_attachment *a =
			&t->attachments[t->nattachments++];
		int size = sqlite3_column_bytes(st, 2);

		sbuf_init(&a->mime_part, 0);
		a->filename = db_column_strdup(st, 0);
		a->content_type = db_column_strdup(st, 1);
		a->size = (size_t)size;
		a->content = xmalloc(a->size + 1);
		if (size)
			memcpy(a->content, sqlite3_column_blob(st, 2), a->size);
	}
	if (rc == 1) {
		sqlite3_reset(st);
		rc = 0;
	}
out:
	free(source);
	if (rc) {
		template_free(t);
		t = NULL;
	}
	*out = t;
	return rc;
}

int template_lock(struct db *db, int64_t template_id, struct error *err)
{
	struct template_info info;
	sqlite3_stmt *st;
	int rc;

	rc = template_get(db, template_id, &info, err);
	if (rc)
		return rc;
	template_info_release(&info);
	rc = db_prepare(db, &template_statements, ST_LOCK, &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, template_id);
	return db_step_done(db, st, err);
}

/* ------------------------------------------------------------------ */
/* rendering for one addressee                                         */

/* The calendar date of t (UTC seconds) in zone. */
static int date_in_zone(int64_t t, const char *zone, int *y, int *m, int *d,
			struct error *err)
{
	GTimeZone *tz = g_time_zone_new_identifier(zone && *zone ? zone :
								  "UTC");
	GDateTime *utc = NULL, *local = NULL;
	int rc = 0;

	if (!tz)
		return error_set(err, ERR_DATA, "unknown time zone '%s'", zone);
	utc = g_date_time_new_from_unix_utc(t);
	local = utc ? g_date_time_to_timezone(utc, tz) : NULL;
	if (!local) {
		rc = error_set(err, ERR_DATA, "time %lld is out of range",
			       (long long)t);
		goto out;
	}
	g_date_time_get_ymd(local, y, m, d);
out:
	if (local)
		g_date_time_unref(local);
	if (utc)
		g_date_time_unref(utc);
	g_time_zone_unref(tz);
	return rc;
}

int template_context_build(const struct render_context *ctx,
			   struct tvalue **out, struct error *err)
{
	struct tvalue *root = tvalue_new(TVALUE_OBJECT);
	int64_t when = ctx->send_at ? ctx->send_at : clock_now();
	int y, m, d, rc;

	*out = NULL;
	rc = date_in_zone(when, ctx->tz, &y, &m, &d, err);
	if (rc)
		goto out;
	if (ctx->body) {
		tvalue_set_path(root, "body.name", ctx->body->name);
		tvalue_set_path(root, "body.acronym", ctx->body->acronym);
		tvalue_set_path(root, "body.kind", ctx->body->kind);
		tvalue_set_path(root, "body.country", ctx->body->country);
	}
	if (ctx->contact) {
		tvalue_set_path(root, "contact.name", ctx->contact->name);
		tvalue_set_path(root, "contact.email", ctx->contact->email);
		tvalue_set_path(root, "contact.role", ctx->contact->role);
	}
	if (ctx->cfg) {
		tvalue_set_path(root, "sender.name", ctx->cfg->sender.name);
		tvalue_set_path(root, "sender.address",
				ctx->cfg->sender.address);
		tvalue_set_path(root, "sender.organization",
				ctx->cfg->sender.organization);
		tvalue_set_path(root, "sender.reply_to",
				ctx->cfg->sender.reply_to);
	}
	tvalue_set_path(root, "campaign.name", ctx->campaign_name);
	/* dates, anniversary.*, protocol forms: in ctx->lang (issue 21) */
	rc = locale_format_context(root, ctx, y, m, d, err);
out:
	if (rc)
		tvalue_free(root);
	else
		*out = root;
	return rc;
}

void template_output_init(struct template_output *o)
{
	memset(o, 0, sizeof(*o));
	sbuf_init(&o->subject, 0);
	sbuf_init(&o->from, 0);
	sbuf_init(&o->reply_to, 0);
	sbuf_init(&o->text, 0);
	sbuf_init(&o->html, 0);
}

void template_output_release(struct template_output *o)
{
	sbuf_release(&o->subject);
	sbuf_release(&o->from);
	sbuf_release(&o->reply_to);
	sbuf_release(&o->text);
	sbuf_release(&o->html);
}

static int render_header(struct template *t, struct mustache *m,
			 const struct tvalue *root, const char *what,
			 struct mustache_budget *budget, struct sbuf *out,
			 struct error *err)
{
	struct mustache_partials partials = {template_partial, t};
	struct mustache_render_opts opts = {.single_line = true,
					    .what_for = what,
					    .budget = budget};
	int rc = mustache_render(m, root, &partials, &opts, out, err);

	if (!rc && strpbrk(out->buf, "\r\n"))
		rc = error_set(err, ERR_DATA, "%s would hold a line break "
			       "(from a partial or a section)", what);
	if (!rc)
		sbuf_trim(out);
	return rc;
}

int template_render(struct template *t, const struct render_context *ctx,
		    struct template_output *out, struct error *err)
{
	struct mustache_partials partials = {template_partial, t};
	char too_big[100], too_long[100];
	struct mustache_budget budget = {template_max_size(ctx->cfg),
					 TEMPLATE_MAX_EXPANSION, too_big,
					 too_long};
	struct mustache_render_opts text = {.budget = &budget},
				    html = {.html_escape = true,
					    .budget = &budget};
	struct tvalue *root = NULL;
	int rc;

	too_big_message(budget.bytes, too_big, sizeof(too_big));
	snprintf(too_long, sizeof(too_long), "the template expands to more "
		 "than %d texts and tags", TEMPLATE_MAX_EXPANSION);
	rc = template_context_build(ctx, &root, err);
	if (rc)
		return rc;
	rc = render_header(t, t->subject, root, "the Subject header", &budget,
			   &out->subject, err);
	if (!rc && t->from) {
		out->has_from = true;
		rc = render_header(t, t->from, root, "the From header",
				   &budget, &out->from, err);
	}
	if (!rc && t->reply_to) {
		out->has_reply_to = true;
		rc = render_header(t, t->reply_to, root, "the Reply-To header",
				   &budget, &out->reply_to, err);
	}
	if (!rc)
		rc = mustache_render(t->text, root, &partials, &text,
				     &out->text, err);
	if (!rc && t->html) {
		out->has_html = true;
		rc = mustache_render(t->html, root, &partials, &html,
				     &out->html, err);
	}
	tvalue_free(root);
	return rc;
}

/* Whether a variable is filled only from the event date. */
static bool needs_event(const char *name)
{
	return strncmp(name, "anniversary.", 12) == 0 ||
	       strcmp(name, "event.date") == 0;
}

int template_check_event_date(struct db *db, int64_t template_id,
			      const char *event_date, struct error *err)
{
	const char *known[sizeof(template_variables) /
			  sizeof(template_variables[0])];
	struct template *t = NULL;
	struct error why = ERROR_INIT;
	size_t n = 0;
	int rc;

	if (event_date)
		return 0;
	for (const char *const *v = template_variables; *v; v++)
		if (!needs_event(*v))
			known[n++] = *v;
	known[n] = NULL;
	if ((rc = template_load(db, template_id, &t, err)))
		return rc;
	{
		struct mustache *parts[5] = {t->subject, t->from, t->reply_to,
					     t->text, t->html};
		struct mustache_partials partials = {template_partial, t};

		for (int i = 0; i < 5 && !rc; i++)
			if (parts[i] && mustache_check_names(parts[i], known,
							     &partials, &why))
				rc = error_set(err, ERR_DATA,
					       "the template uses the event "
					       "date, which this campaign does "
					       "not have (%s); create it with "
					       "--event-date",
					       why.msg);
	}
	template_free(t);
	return rc;
}
