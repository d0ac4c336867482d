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
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <unicode/uloc.h>

#include "chancery/anniversary.h"
#include "chancery/calendar.h"
#include "chancery/clock.h"
#include "chancery/ledger.h"
#include "chancery/media_type.h"
#include "chancery/mime.h"
#include "chancery/locale_format.h"
#include "chancery/locale_names.h"
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
	"contact.role",    "contact.language",  "sender.name",       "sender.address",
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
	for (size_t i = 0; i < t->nvariants; i++)
		template_free(t->variants[i]);
	free(t->variants);
	mime_qp_cache_free(t->qp_cache);
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 3; j++)
			free(t->mailbox_memo[i][j]);
	free(t->lang);
	free(t->origin);
	free(t);
}

/* ------------------------------------------------------------------ */
/* language variants                                                   */

int template_lang_canonical(const char *text, char **out, struct error *err)
{
	char lang[ULOC_LANG_CAPACITY];

	*out = NULL;
	if (*text && !utf8_has_control(text))
		*out = locale_tag_canonical(text, lang, sizeof(lang));
	if (*out && strcmp(lang, "und") != 0)
		return 0;
	free(*out);
	*out = NULL;
	return error_set(err, ERR_USAGE, "'%s' is not a BCP 47 language tag "
			 "(such as fr, fr-CA or az-Latn)", text);
}

struct template *template_variant(struct template *t, const char *lang)
{
	for (size_t i = 0; lang && i < t->nvariants; i++)
		if (strcasecmp(t->variants[i]->lang, lang) == 0)
			return t->variants[i];
	return NULL;
}

/* Puts v (taking it) among t's variants in language order, replacing the
 * one of the same language. */
static void variant_put(struct template *t, struct template *v)
{
	size_t i;

	for (i = 0; i < t->nvariants; i++) {
		int c = strcmp(t->variants[i]->lang, v->lang);

		if (c == 0) {
			template_free(t->variants[i]);
			t->variants[i] = v;
			return;
		}
		if (c > 0)
			break;
	}
	t->variants = xrealloc(t->variants,
			       (t->nvariants + 1) * sizeof(*t->variants));
	memmove(t->variants + i + 1, t->variants + i,
		(t->nvariants - i) * sizeof(*t->variants));
	t->variants[i] = v;
	t->nvariants++;
}

/* The language language.fallback names for lang ("fr-CA=fr, de=fr"),
 * written into to; false when it names none. */
static bool fallback_of(const char *fallback, const char *lang, char *to,
			size_t size)
{
	const char *p = fallback;

	while (p && *p) {
		const char *end = p + strcspn(p, ",");
		const char *eq = memchr(p, '=', (size_t)(end - p));

		if (eq) {
			const char *a = p, *ae = eq, *b = eq + 1, *be = end;

			while (a < ae && is_blank(*a))
				a++;
			while (ae > a && is_blank(ae[-1]))
				ae--;
			while (b < be && is_blank(*b))
				b++;
			while (be > b && is_blank(be[-1]))
				be--;
			if ((size_t)(ae - a) == strlen(lang) &&
			    strncasecmp(a, lang, (size_t)(ae - a)) == 0 &&
			    be > b && (size_t)(be - b) < size) {
				memcpy(to, b, (size_t)(be - b));
				to[be - b] = '\0';
				return true;
			}
		}
		p = *end ? end + 1 : end;
	}
	return false;
}

/* lang's ICU parent as a tag ("fr-CA" -> "fr"), in to; false at the root. */
static bool parent_of(const char *lang, char *to, size_t size)
{
	char loc[ULOC_FULLNAME_CAPACITY], parent[ULOC_FULLNAME_CAPACITY];
	UErrorCode st = U_ZERO_ERROR;
	int32_t parsed = 0;

	uloc_forLanguageTag(lang, loc, sizeof(loc), &parsed, &st);
	if (U_FAILURE(st))
		return false;
	uloc_getParent(loc, parent, sizeof(parent), &st);
	if (U_FAILURE(st) || !parent[0] || strcmp(parent, "root") == 0)
		return false;
	uloc_toLanguageTag(parent, to, (int32_t)size, 0, &st);
	return U_SUCCESS(st) && st != U_STRING_NOT_TERMINATED_WARNING &&
	       *to && strcmp(to, "und") != 0;
}

/* The variant (or t, the default) lang or its fallback chain reaches;
 * NULL when none. */
static struct template *chain_find(struct template *t, const char *lang,
				   const char *default_lang,
				   const char *fallback, bool *exact)
{
	char cur[ULOC_FULLNAME_CAPACITY], next[ULOC_FULLNAME_CAPACITY];

	*exact = true;
	if (!lang || !*lang || strlen(lang) >= sizeof(cur))
		return NULL;
	snprintf(cur, sizeof(cur), "%s", lang);
	/* a bounded walk: a fallback map may loop (a=b, b=a) */
	for (int step = 0; step < 8; step++) {
		struct template *v = template_variant(t, cur);

		if (v)
			return v;
		if (strcasecmp(cur, default_lang) == 0)
			return t;
		*exact = false;
		if (!fallback_of(fallback, cur, next, sizeof(next)) &&
		    !parent_of(cur, next, sizeof(next)))
			return NULL;
		memcpy(cur, next, sizeof(cur));
	}
	return NULL;
}

void template_choose(struct template *t, const struct template_wanted *w,
		     const char *default_lang, const char *fallback,
		     struct template_choice *out)
{
	const char *wanted[3] = {w->contact, w->body, w->campaign};
	static const enum template_choice_via via[3] = {
		TEMPLATE_VIA_CONTACT, TEMPLATE_VIA_BODY,
		TEMPLATE_VIA_CAMPAIGN};

	if (!default_lang || !*default_lang)
		default_lang = "en";
	memset(out, 0, sizeof(*out));
	out->variant = t;
	out->via = TEMPLATE_VIA_DEFAULT;
	for (int i = 0; i < 3; i++) {
		bool exact;
		struct template *v = chain_find(t, wanted[i], default_lang,
						fallback, &exact);

		if (!v)
			continue;
		out->variant = v;
		out->via = via[i];
		out->exact = i == 0 && exact;
		break;
	}
	out->lang = out->variant->lang;
	out->sent = out->lang ? out->lang : default_lang;
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
			a->content_type = xstrdup(media_type_of(a->filename));
			a->size = content.len;
			a->content = (unsigned char *)sbuf_detach(&content,
								  NULL);
			t->nattachments++;
		}
		sbuf_release(&content);
	}
	return rc;
}

/* One variant's digest, as described in template.h. */
static void variant_digest(const struct template *t, char out[65])
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

/* The version's digest: its default variant's, or over every variant. */
static void template_digest(const struct template *t, char out[65])
{
	struct sha256 *h;
	char hex[SHA256_HEX_SIZE];

	variant_digest(t, hex);
	if (!t->nvariants) {
		memcpy(out, hex, SHA256_HEX_SIZE);
		return;
	}
	h = sha256_new();
	sha256_update(h, hex, 64);
	for (size_t i = 0; i < t->nvariants; i++) {
		const struct template *v = t->variants[i];

		variant_digest(v, hex);
		sha256_update(h, "\0variant\0", 9);
		sha256_update(h, v->lang, strlen(v->lang) + 1);
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
	ST_INSERT_VARIANT,
	ST_INSERT_VPARTIAL,
	ST_INSERT_VATTACHMENT,
	ST_VARIANTS,
	ST_VPARTIALS,
	ST_VATTACHMENTS,
	ST_VSOURCE,
	ST__COUNT
};

#define INFO_COLUMNS                                                      \
	"SELECT id, name, version, sha256, origin, locked, created_at, "   \
	"(SELECT count(*) FROM template_partials p "                       \
	"WHERE p.template_id = templates.id) + "                           \
	"(SELECT count(*) FROM template_variant_partials p "               \
	"WHERE p.template_id = templates.id), "                            \
	"(SELECT count(*) FROM template_attachments a "                    \
	"WHERE a.template_id = templates.id) + "                           \
	"(SELECT count(*) FROM template_variant_attachments a "            \
	"WHERE a.template_id = templates.id), "                            \
	"(SELECT group_concat(lang, ',') FROM (SELECT lang FROM "          \
	"template_variants v WHERE v.template_id = templates.id "          \
	"ORDER BY lang)) FROM templates "

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
	[ST_INSERT_VARIANT] = "INSERT INTO template_variants (template_id, "
			      "lang, source, origin) VALUES (?1, ?2, ?3, ?4)",
	[ST_INSERT_VPARTIAL] = "INSERT INTO template_variant_partials "
			       "(template_id, lang, name, source) VALUES "
			       "(?1, ?2, ?3, ?4)",
	[ST_INSERT_VATTACHMENT] = "INSERT INTO template_variant_attachments "
				  "(template_id, lang, position, filename, "
				  "content_type, content, sha256) VALUES "
				  "(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_VARIANTS] = "SELECT lang, source, origin FROM template_variants "
			"WHERE template_id = ?1 ORDER BY lang",
	[ST_VPARTIALS] = "SELECT name, source FROM template_variant_partials "
			 "WHERE template_id = ?1 AND lang = ?2 ORDER BY name",
	[ST_VATTACHMENTS] = "SELECT filename, content_type, content FROM "
			    "template_variant_attachments WHERE template_id = "
			    "?1 AND lang = ?2 ORDER BY position",
	[ST_VSOURCE] = "SELECT source FROM template_variants WHERE "
		       "template_id = ?1 AND lang = ?2",
};

static const struct db_statements template_statements = {
	"template", template_sql, ST__COUNT};

void template_info_release(struct template_info *info)
{
	if (!info)
		return;
	free(info->name);
	free(info->origin);
	free(info->langs);
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
	out->langs = db_column_strdup(st, 9);
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

/* Stores t's partials and attachments under version id: the default
 * variant's (lang NULL) or the variant lang's. */
static int store_parts(struct db *db, int64_t id, const char *lang,
		       const struct template *t, struct error *err)
{
	sqlite3_stmt *st;
	int rc = 0, k = lang ? 2 : 1; /* where the columns after lang start */

	for (size_t i = 0; i < t->npartials && !rc; i++) {
		rc = db_prepare(db, &template_statements,
				lang ? ST_INSERT_VPARTIAL : ST_INSERT_PARTIAL,
				&st, err);
		if (rc)
			break;
		sqlite3_bind_int64(st, 1, id);
		if (lang)
			db_bind_text(st, 2, lang);
		db_bind_text(st, k + 1, t->partial_names[i]);
		db_bind_text(st, k + 2, t->partial_sources[i]);
		rc = db_step_done(db, st, err);
	}
	for (size_t i = 0; i < t->nattachments && !rc; i++) {
		const struct template_attachment *a = &t->attachments[i];
		char hex[SHA256_HEX_SIZE];

		rc = db_prepare(db, &template_statements,
				lang ? ST_INSERT_VATTACHMENT :
				       ST_INSERT_ATTACHMENT, &st, err);
		if (rc)
			break;
		sha256_hex(a->content, a->size, hex);
		sqlite3_bind_int64(st, 1, id);
		if (lang)
			db_bind_text(st, 2, lang);
		sqlite3_bind_int(st, k + 1, (int)i);
		db_bind_text(st, k + 2, a->filename);
		db_bind_text(st, k + 3, a->content_type);
		sqlite3_bind_blob(st, k + 4,
				  a->size ? (const void *)a->content : "",
				  (int)a->size, SQLITE_TRANSIENT);
		db_bind_text(st, k + 5, hex);
		rc = db_step_done(db, st, err);
	}
	return rc;
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
	rc = store_parts(db, *id, NULL, t, err);
	for (size_t i = 0; i < t->nvariants && !rc; i++) {
		const struct template *v = t->variants[i];

		rc = db_prepare(db, &template_statements, ST_INSERT_VARIANT,
				&st, err);
		if (rc)
			break;
		sqlite3_bind_int64(st, 1, *id);
		db_bind_text(st, 2, v->lang);
		db_bind_text(st, 3, v->source);
		db_bind_text(st, 4, v->origin);
		rc = db_step_done(db, st, err);
		if (!rc)
			rc = store_parts(db, *id, v->lang, v, err);
	}
	return rc;
}

static int record_added(struct db *db, const char *name, int version,
			const char *sha, const char *lang, struct error *err)
{
	struct ledger_entry e;
	int rc;

	ledger_entry_init(&e, LEDGER_TEMPLATE_ADDED, 0, 0, 0, 0);
	ledger_entry_str(&e, "name", name);
	ledger_entry_int(&e, "version", version);
	ledger_entry_str(&e, "sha256", sha);
	if (lang)
		ledger_entry_str(&e, "lang", lang);
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
	return template_add_lang(db, name, path, NULL, max_size, out,
				 unchanged, err);
}

/*
 * The version to store: t (the new file) with the variants of latest
 * (when there is one) around it. Takes t; *out is the version.
 */
static int compose_version(struct db *db, const struct template_info *latest,
			   struct template *t, const char *lang,
			   struct template **out, struct error *err)
{
	struct template *base = NULL;
	int rc;

	*out = NULL;
	if (!latest) {
		if (lang) {
			template_free(t);
			return error_set(err, ERR_NOTFOUND, "no default "
					 "variant to add a '%s' variant to: "
					 "add the template without --lang "
					 "first", lang);
		}
		*out = t;
		return 0;
	}
	rc = template_load(db, latest->id, &base, err);
	if (rc) {
		template_free(t);
		return rc;
	}
	if (lang) {
		t->lang = xstrdup(lang);
		variant_put(base, t);
		*out = base;
		return 0;
	}
	/* a new default variant: the others carry over */
	t->variants = base->variants;
	t->nvariants = base->nvariants;
	base->variants = NULL;
	base->nvariants = 0;
	template_free(base);
	*out = t;
	return 0;
}

int template_add_lang(struct db *db, const char *name, const char *path,
		      const char *lang_text, size_t max_size,
		      struct template_info *out, bool *unchanged,
		      struct error *err)
{
	struct template_info latest = {0};
	struct template *t = NULL, *version_t = NULL;
	char sha[SHA256_HEX_SIZE], *lang = NULL;
	const char *origin = path;
	bool have_latest = false;
	int64_t id = 0;
	int rc, version = 1;

	memset(out, 0, sizeof(*out));
	*unchanged = false;
	if (!*name || utf8_has_control(name))
		return error_set(err, ERR_USAGE, "template name '%s' is empty "
				 "or holds control characters", name);
	if (lang_text && (rc = template_lang_canonical(lang_text, &lang, err)))
		return rc;
	rc = template_read(path, max_size, &t, err);
	if (rc)
		goto out;
	if (lang)
		t->origin = xstrdup(path);
	rc = db_begin(db, err);
	if (rc)
		goto out;
	rc = template_find(db, name, 0, &latest, err);
	if (rc == 0) {
		have_latest = true;
		version = latest.version + 1;
	} else if (rc != ERR_NOTFOUND) {
		db_rollback(db);
		goto out;
	}
	error_clear(err);
	rc = compose_version(db, have_latest ? &latest : NULL, t, lang,
			     &version_t, err);
	t = NULL;
	if (rc) {
		db_rollback(db);
		goto out;
	}
	template_digest(version_t, sha);
	if (have_latest && strcmp(latest.sha256, sha) == 0) {
		*unchanged = true;
		*out = latest;
		memset(&latest, 0, sizeof(latest));
		db_rollback(db);
		goto out;
	}
	/* a variant keeps the version's origin: the default's file */
	if (lang && have_latest)
		origin = latest.origin;
	rc = store_version(db, name, version, origin, version_t, sha, &id, err);
	if (!rc)
		rc = record_added(db, name, version, sha, lang, err);
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
	template_free(version_t);
	free(lang);
	return rc;
}

/* Reads the partials and attachments of version id's default variant
 * (lang NULL) or of its variant lang into t. */
static int load_parts(struct db *db, int64_t id, const char *lang,
		      struct template *t, struct error *err)
{
	sqlite3_stmt *st;
	int rc;

	rc = db_prepare(db, &template_statements,
			lang ? ST_VPARTIALS : ST_PARTIALS, &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	if (lang)
		db_bind_text(st, 2, lang);
	while ((rc = db_step(db, st, err)) == 1)
		add_partial(t, db_column_text(st, 0), db_column_strdup(st, 1));
	if (rc < 0)
		return rc;
	rc = db_prepare(db, &template_statements,
			lang ? ST_VATTACHMENTS : ST_ATTACHMENTS, &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	if (lang)
		db_bind_text(st, 2, lang);
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
	return rc;
}

/* Reads version id's variants into t, each with its parts. */
static int load_variants(struct db *db, int64_t id, struct template *t,
			 struct error *err)
{
	char **langs = NULL, **sources = NULL, **origins = NULL;
	size_t n = 0, n2 = 0, n3 = 0;
	sqlite3_stmt *st;
	int rc;

	rc = db_prepare(db, &template_statements, ST_VARIANTS, &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = db_step(db, st, err)) == 1) {
		strv_push(&langs, &n, db_column_strdup(st, 0));
		strv_push(&sources, &n2, db_column_strdup(st, 1));
		strv_push(&origins, &n3, db_column_strdup(st, 2));
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct template *v = NULL;

		rc = template_parse(sources[i], &v, err);
		if (rc) {
			error_prefix(err, "stored template %lld, variant %s",
				     (long long)id, langs[i]);
			break;
		}
		v->lang = langs[i];
		v->origin = origins[i];
		langs[i] = origins[i] = NULL;
		variant_put(t, v);
		rc = load_parts(db, id, v->lang, v, err);
	}
	for (size_t i = 0; i < n; i++) {
		free(langs[i]);
		free(sources[i]);
		free(origins[i]);
	}
	free(langs);
	free(sources);
	free(origins);
	return rc;
}

int template_load(struct db *db, int64_t template_id, struct template **out,
		  struct error *err)
{
	struct template *t = NULL;
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
	rc = load_parts(db, template_id, NULL, t, err);
	if (!rc)
		rc = load_variants(db, template_id, t, err);
out:
	free(source);
	if (rc) {
		template_free(t);
		t = NULL;
	}
	*out = t;
	return rc;
}

int template_variant_source(struct db *db, int64_t template_id,
			    const char *lang, char **out, struct error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (!lang)
		return template_source(db, template_id, out, err);
	*out = NULL;
	rc = db_prepare(db, &template_statements, ST_VSOURCE, &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, template_id);
	db_bind_text(st, 2, lang);
	rc = db_step(db, st, err);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return error_set(err, ERR_NOTFOUND, "no '%s' variant in this "
				 "version", lang);
	*out = db_column_strdup(st, 0);
	sqlite3_reset(st);
	return 0;
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

/* The calendar date of t (UTC seconds) in zone (held open: see
 * calendar_local). */
static int date_in_zone(int64_t t, const char *zone, int *y, int *m, int *d,
			struct error *err)
{
	struct calendar_time local;
	int rc = calendar_local(zone, t, &local, err);

	if (rc)
		return rc;
	*y = local.year;
	*m = local.month;
	*d = local.day;
	return 0;
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
		tvalue_set_path(root, "contact.language",
				ctx->contact->language);
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
	mustache_literals_release(&o->text_literals);
	mustache_literals_release(&o->html_literals);
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
	struct mustache_render_opts text = {.budget = &budget,
					    .literals = &out->text_literals},
				    html = {.html_escape = true,
					    .budget = &budget,
					    .literals = &out->html_literals};
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

/* Whether one of t's parts (its partials expanded) uses a name outside
 * known; why says which and where. */
static bool uses_unknown(struct template *t, const char *const *known,
			 struct error *why)
{
	struct mustache *parts[5] = {t->subject, t->from, t->reply_to, t->text,
				     t->html};
	struct mustache_partials partials = {template_partial, t};

	for (int i = 0; i < 5; i++)
		if (parts[i] && mustache_check_names(parts[i], known,
						     &partials, why))
			return true;
	return false;
}

bool template_uses(struct template *t, const char *name)
{
	const char *known[sizeof(template_variables) /
			  sizeof(template_variables[0])];
	struct error why = ERROR_INIT;
	size_t n = 0;

	for (const char *const *v = template_variables; *v; v++)
		if (strcmp(*v, name) != 0)
			known[n++] = *v;
	known[n] = NULL;
	return uses_unknown(t, known, &why);
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
	for (size_t k = 0; k <= t->nvariants && !rc; k++)
		if (uses_unknown(k ? t->variants[k - 1] : t, known, &why))
			rc = error_set(err, ERR_DATA, "the template uses the "
				       "event date, which this campaign does "
				       "not have (%s); create it with "
				       "--event-date", why.msg);
	template_free(t);
	return rc;
}
