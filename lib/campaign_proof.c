/*
 * Proofs and test sends: a campaign's messages rendered for people to
 * read before it goes out, with the campaign's contexts and its template
 * version exactly as the daemon renders them (campaign_delivery_ctx_init,
 * template_render, message_compose), and nothing written to deliveries.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chancery/address.h"
#include "chancery/campaign.h"
#include "chancery/campaign_proof.h"
#include "chancery/clock.h"
#include "chancery/ledger.h"
#include "chancery/message.h"
#include "chancery/registry.h"
#include "chancery/sha256.h"
#include "chancery/template.h"
#include "chancery/xalloc.h"
#include "campaign_impl.h"

/* ---- grouping addressees by what they would read ---- */

/* One distinct rendering: its first addressee and the index lines of all. */
struct proof_group {
	char key[SHA256_HEX_SIZE];
	int64_t contact_id;   /* the first addressee: the one rendered */
	char *label;          /* file name stem, "01-OHCHR-en" */
	struct sbuf members;  /* index lines, one per addressee */
	size_t n;
	bool has_html;        /* an .html was written */
};

struct proof_walk {
	struct db *db;
	const struct conf *cfg;
	const struct campaign_info *c;
	struct template *t;
	struct proof_group *groups;
	size_t ngroups;
	size_t addressees, left_out;
	struct sbuf scratch;
	struct error *err;
};

/* The addressee's own values, longest first, that a rendering may hold:
 * taken out before comparing renderings. Values under 3 bytes are kept
 * (taking out "UN" would take it out of every word). */
static size_t personal_values(const struct delivery_ctx *d,
			      const char *out[6])
{
	const char *v[] = {d->body.name, d->body.acronym, d->body.country,
			   d->contact.name, d->contact.email, d->contact.role};
	size_t n = 0;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (v[i] && strlen(v[i]) >= 3)
			out[n++] = v[i];
	for (size_t i = 1; i < n; i++)   /* insertion sort, longest first */
		for (size_t j = i; j > 0 && strlen(out[j]) > strlen(out[j - 1]);
		     j--) {
			const char *tmp = out[j];

			out[j] = out[j - 1];
			out[j - 1] = tmp;
		}
	return n;
}

/* Hashes text with each of values[] replaced by a marker. */
static void hash_without(struct sha256 *h, const char *text,
			 const char *const *values, size_t n)
{
	const char *p = text;

	while (*p) {
		size_t i, len = 0;

		for (i = 0; i < n; i++) {
			len = strlen(values[i]);
			if (strncmp(p, values[i], len) == 0)
				break;
		}
		if (i < n) {
			sha256_update(h, "\x01", 1);
			p += len;
		} else {
			sha256_update(h, p, 1);
			p++;
		}
	}
	sha256_update(h, "\x02", 1); /* ends the part */
}

/* The comparison key of one rendering. */
static void rendering_key(const struct template_output *o,
			  const struct delivery_ctx *d,
			  char out[SHA256_HEX_SIZE])
{
	const char *values[6];
	size_t n = personal_values(d, values);
	struct sha256 *h = sha256_new();

	hash_without(h, o->subject.buf, values, n);
	hash_without(h, o->has_from ? o->from.buf : "", values, n);
	hash_without(h, o->has_reply_to ? o->reply_to.buf : "", values, n);
	hash_without(h, o->text.buf, values, n);
	hash_without(h, o->has_html ? o->html.buf : "\x03", values, n);
	sha256_final_hex(h, out);
	sha256_free(h);
}

/* A file name stem: letters, digits, '-', '_', '.' kept, others '_'. */
static void add_safe(struct sbuf *out, const char *s, size_t max)
{
	for (size_t i = 0; s && s[i] && i < max; i++) {
		unsigned char ch = (unsigned char)s[i];

		sbuf_addch(out, isalnum(ch) || ch == '-' || ch == '.'
					? ch : '_');
	}
}

static char *group_label(size_t number, const struct delivery_ctx *d)
{
	struct sbuf sb = SBUF_INIT;

	sbuf_addf(&sb, "%02zu-", number);
	add_safe(&sb, d->body.acronym ? d->body.acronym : d->body.name, 32);
	if (d->contact.language) {
		sbuf_addch(&sb, '-');
		add_safe(&sb, d->contact.language, 8);
	}
	return sbuf_detach(&sb, NULL);
}

/* One index line: "ACRONYM  Name <email> (language)". */
static void index_line(struct sbuf *out, const struct delivery_ctx *d)
{
	sbuf_addstr(out, "    ");
	if (d->body.acronym)
		sbuf_addf(out, "%s  ", d->body.acronym);
	sbuf_addf(out, "%s <%s>", d->body.name, d->contact.email);
	if (d->contact.language)
		sbuf_addf(out, " (%s)", d->contact.language);
	sbuf_addch(out, '\n');
}

static int walk_addressee(const struct member *m, void *arg)
{
	struct proof_walk *w = arg;
	struct template_output o;
	struct delivery_ctx d;
	char key[SHA256_HEX_SIZE];
	struct proof_group *g = NULL;
	int rc;

	if (m->status != CONTACT_ACTIVE) {
		w->left_out++;
		return 0;
	}
	rc = campaign_delivery_ctx_init(w->db, w->cfg, w->c, m->contact_id,
					NULL, NULL, &d, w->err);
	if (rc)
		return rc;
	template_output_init(&o);
	rc = template_render(campaign_variant(w->cfg, w->c, w->t, &d, NULL),
			     &d.ctx, &o, w->err);
	if (rc) {
		error_prefix(w->err, "%s <%s>",
			     d.body.acronym ? d.body.acronym : d.body.name,
			     d.contact.email);
		goto out;
	}
	rendering_key(&o, &d, key);
	for (size_t i = 0; i < w->ngroups; i++)
		if (strcmp(w->groups[i].key, key) == 0)
			g = &w->groups[i];
	if (!g) {
		w->groups = xrealloc(w->groups,
				     (w->ngroups + 1) * sizeof(*w->groups));
		g = &w->groups[w->ngroups++];
		memset(g, 0, sizeof(*g));
		memcpy(g->key, key, sizeof(key));
		g->contact_id = m->contact_id;
		g->label = group_label(w->ngroups, &d);
		sbuf_init(&g->members, 0);
	}
	index_line(&g->members, &d);
	g->n++;
	w->addressees++;
out:
	template_output_release(&o);
	campaign_delivery_ctx_release(&d);
	return rc;
}

/* ---- files ---- */

/* True for the names an earlier run wrote: NN-*.txt|html|eml, proofs.txt. */
static bool is_proof_file(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (strcmp(name, "proofs.txt") == 0)
		return true;
	if (!isdigit((unsigned char)name[0]) ||
	    !isdigit((unsigned char)name[1]) || !dot)
		return false;
	return !strcmp(dot, ".txt") || !strcmp(dot, ".html") ||
	       !strcmp(dot, ".eml");
}

/*
 * Opens (creating when missing, mode 0700) the proofs directory: refused
 * when it holds anything unless force, which removes an earlier run's
 * proof files. *fd gets the directory.
 */
static int open_dir(const char *path, bool force, int *fd, struct error *err)
{
	struct dirent *e;
	bool other = false, any = false;
	DIR *dir;
	int dfd;

	*fd = -1;
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return error_set_errno(err, ERR_CANTCREAT, "%s: cannot create",
				       path);
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return error_set_errno(err, ERR_CANTCREAT, "%s: cannot open "
				       "as a directory", path);
	dir = fdopendir(dup(dfd));
	if (!dir) {
		close(dfd);
		return error_set_errno(err, ERR_CANTCREAT, "%s", path);
	}
	while ((e = readdir(dir))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		any = true;
		if (!force)
			break;
		if (!is_proof_file(e->d_name)) {
			other = true;
			continue;
		}
		if (unlinkat(dfd, e->d_name, 0) != 0) {
			closedir(dir);
			close(dfd);
			return error_set_errno(err, ERR_CANTCREAT,
					       "%s/%s: cannot remove", path,
					       e->d_name);
		}
	}
	closedir(dir);
	(void)other; /* what is not a proof file stays, untouched */
	if (any && !force) {
		close(dfd);
		return error_set(err, ERR_CANTCREAT, "%s is not empty; "
				 "give --force to replace its proofs", path);
	}
	*fd = dfd;
	return 0;
}

/* Writes one file of the proofs (0600, never through a symbolic link). */
static int write_file(int dfd, const char *dir, const char *name,
		      const char *data, size_t len, struct error *err)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
				       O_CLOEXEC, 0600);
	size_t done = 0;

	if (fd < 0)
		return error_set_errno(err, ERR_CANTCREAT, "%s/%s", dir, name);
	while (done < len) {
		ssize_t w = write(fd, data + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			close(fd);
			return error_set_errno(err, ERR_IO, "%s/%s", dir, name);
		}
		done += (size_t)w;
	}
	if (fchmod(fd, 0600) != 0 || close(fd) != 0)
		return error_set_errno(err, ERR_IO, "%s/%s", dir, name);
	return 0;
}

static void add_escaped(struct sbuf *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': sbuf_addstr(out, "&amp;"); break;
		case '<': sbuf_addstr(out, "&lt;"); break;
		case '>': sbuf_addstr(out, "&gt;"); break;
		case '"': sbuf_addstr(out, "&quot;"); break;
		default: sbuf_addch(out, *s);
		}
	}
}

/* The offset just past the start tag <name ...> in html, or -1. */
static long tag_end(const char *html, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = html; (p = strchr(p, '<')); p++) {
		if (strncasecmp(p + 1, name, len) == 0 &&
		    (p[1 + len] == '>' || isspace((unsigned char)p[1 + len]))) {
			const char *gt = strchr(p, '>');

			return gt ? (long)(gt + 1 - html) : -1;
		}
	}
	return -1;
}

/*
 * Copies html, turning a src, srcset or background that points outside
 * ("https://x/y.png", "http://...", "//...") into "blocked:x/y.png", so
 * that even a viewer that ignores the Content-Security-Policy fetches
 * nothing.
 */
static void add_unfetching(struct sbuf *out, const char *html)
{
	static const char *const attrs[] = {"src=", "srcset=", "background=",
					    NULL};
	const char *p = html;

	while (*p) {
		size_t alen = 0, skip = 0;

		for (int i = 0; attrs[i]; i++)
			if (strncasecmp(p, attrs[i], strlen(attrs[i])) == 0 &&
			    (p == html || !isalnum((unsigned char)p[-1])))
				alen = strlen(attrs[i]);
		if (alen) {
			const char *v = p + alen;

			if (*v == '"' || *v == '\'')
				v++;
			sbuf_add(out, p, (size_t)(v - p));
			p = v;
			if (strncasecmp(p, "https://", 8) == 0)
				skip = 8;
			else if (strncasecmp(p, "http://", 7) == 0)
				skip = 7;
			else if (strncmp(p, "//", 2) == 0)
				skip = 2;
			if (skip) {
				sbuf_addstr(out, "blocked:");
				p += skip;
			}
			continue;
		}
		sbuf_addch(out, *p++);
	}
}

#define PROOF_CSP "<meta http-equiv=\"Content-Security-Policy\" " \
	"content=\"default-src 'none'; img-src data:; " \
	"style-src 'unsafe-inline'\">"

/* The HTML proof: the part as a page that fetches nothing, a banner
 * with the subject and the attachments at its top. */
static void html_proof(struct sbuf *out, const struct campaign_info *c,
		       const struct template *t,
		       const struct template_output *o,
		       const struct delivery_ctx *d)
{
	struct sbuf banner = SBUF_INIT, body = SBUF_INIT;
	long head, start;

	sbuf_addstr(&banner, "\n<div style=\"border:2px dashed #a00;"
			     "padding:8px;margin:8px;font:14px sans-serif;"
			     "background:#fff8f0;color:#000\">"
			     "<strong>Proof</strong> of campaign ");
	add_escaped(&banner, c->name);
	sbuf_addstr(&banner, " for ");
	add_escaped(&banner, d->body.acronym ? d->body.acronym : d->body.name);
	sbuf_addstr(&banner, " &lt;");
	add_escaped(&banner, d->contact.email);
	sbuf_addstr(&banner, "&gt;<br>Subject: ");
	add_escaped(&banner, o->subject.buf);
	sbuf_addstr(&banner, "<br>Attachments: ");
	if (!t->nattachments)
		sbuf_addstr(&banner, "none");
	for (size_t i = 0; i < t->nattachments; i++) {
		sbuf_addstr(&banner, i ? "; " : "");
		add_escaped(&banner, t->attachments[i].filename);
		sbuf_addstr(&banner, " (");
		add_escaped(&banner, t->attachments[i].content_type);
		sbuf_addf(&banner, ", %zu bytes)", t->attachments[i].size);
	}
	sbuf_addstr(&banner, "</div>\n");

	add_unfetching(&body, o->html.buf);
	head = tag_end(body.buf, "head");
	if (head < 0 && tag_end(body.buf, "html") < 0) {
		/* a fragment: made a document */
		sbuf_addstr(out, "<!DOCTYPE html>\n<html><head>"
				 "<meta charset=\"utf-8\">" PROOF_CSP
				 "<title>");
		add_escaped(out, o->subject.buf);
		sbuf_addstr(out, "</title></head><body>");
		sbuf_add(out, banner.buf, banner.len);
		sbuf_add(out, body.buf, body.len);
		sbuf_addstr(out, "\n</body></html>\n");
		goto out;
	}
	if (head < 0) { /* <html> without <head> */
		long html = tag_end(body.buf, "html");

		sbuf_add(out, body.buf, (size_t)html);
		sbuf_addstr(out, "<head><meta charset=\"utf-8\">" PROOF_CSP
				 "</head>");
		head = html;
	} else {
		sbuf_add(out, body.buf, (size_t)head);
		sbuf_addstr(out, PROOF_CSP);
	}
	start = tag_end(body.buf + head, "body");
	if (start < 0) {
		sbuf_add(out, banner.buf, banner.len);
		sbuf_addstr(out, body.buf + head);
	} else {
		sbuf_add(out, body.buf + head, (size_t)start);
		sbuf_add(out, banner.buf, banner.len);
		sbuf_addstr(out, body.buf + head + start);
	}
out:
	sbuf_release(&banner);
	sbuf_release(&body);
}

/* A Message-ID for a proof or a test: <campaign>.<what>.<random>@domain. */
static void make_message_id(const struct conf *cfg,
			    const struct campaign_info *c, const char *what,
			    char *out, size_t size)
{
	unsigned long long r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (unsigned long long)clock_now() ^ (uintptr_t)&r;
	snprintf(out, size, "%lld.%s.%016llx@%s", (long long)c->id, what, r,
		 campaign_message_domain(cfg, c));
}

/* One proof rendered for its group's first addressee: the output, the
 * context it was rendered in and the variant chosen. */
struct proof_render {
	char message_id[256]; /* d.ctx points at it: it lives as long as r */
	struct template_output o;
	struct delivery_ctx d;
	struct template *v;
	struct template_choice choice;
	bool have_ctx;
};

/* Renders group g of w into r; proof_render_release after, always. */
static int proof_render(struct proof_walk *w, const struct proof_group *g,
			struct proof_render *r)
{
	int rc;

	make_message_id(w->cfg, w->c, "proof", r->message_id,
			sizeof(r->message_id));
	template_output_init(&r->o);
	r->have_ctx = false;
	rc = campaign_delivery_ctx_init(w->db, w->cfg, w->c, g->contact_id,
					r->message_id, NULL, &r->d, w->err);
	if (rc)
		return rc;
	r->have_ctx = true;
	r->v = campaign_variant(w->cfg, w->c, w->t, &r->d, &r->choice);
	return template_render(r->v, &r->d.ctx, &r->o, w->err);
}

static void proof_render_release(struct proof_render *r)
{
	if (r->have_ctx)
		campaign_delivery_ctx_release(&r->d);
	template_output_release(&r->o);
}

/* Writes the three files of one proof. */
static int write_proof(struct proof_walk *w, int dfd, const char *dir,
		       struct proof_group *g)
{
	struct sbuf name = SBUF_INIT, data = SBUF_INIT;
	struct proof_render r;
	int rc = proof_render(w, g, &r);

	if (!rc) {
		sbuf_addf(&name, "%s.txt", g->label);
		rc = write_file(dfd, dir, name.buf, r.o.text.buf, r.o.text.len,
				w->err);
	}
	if (!rc && r.o.has_html) {
		g->has_html = true;
		html_proof(&data, w->c, r.v, &r.o, &r.d);
		sbuf_reset(&name);
		sbuf_addf(&name, "%s.html", g->label);
		rc = write_file(dfd, dir, name.buf, data.buf, data.len, w->err);
	}
	sbuf_reset(&data);
	if (!rc)
		rc = message_compose(r.v, &r.d.ctx, &data, w->err);
	if (!rc) {
		sbuf_reset(&name);
		sbuf_addf(&name, "%s.eml", g->label);
		rc = write_file(dfd, dir, name.buf, data.buf, data.len, w->err);
	}
	proof_render_release(&r);
	sbuf_release(&name);
	sbuf_release(&data);
	return rc;
}

static void write_index_text(const struct proof_walk *w, struct sbuf *out)
{
	char when[24];

	clock_format_utc(clock_now(), when, sizeof(when));
	sbuf_addf(out, "Proofs of campaign %s\n"
		       "template %s v%d (sha256 %s), list %s\n"
		       "made %s: %zu addressee%s, %zu distinct rendering%s\n",
		  w->c->name, w->c->template_name, w->c->template_version,
		  w->c->template_sha256, w->c->list_name, when, w->addressees,
		  w->addressees == 1 ? "" : "s", w->ngroups,
		  w->ngroups == 1 ? "" : "s");
	if (w->left_out)
		sbuf_addf(out, "%zu contact%s of the list would not be sent "
			       "to (not active) and %s left out.\n",
			  w->left_out, w->left_out == 1 ? "" : "s",
			  w->left_out == 1 ? "is" : "are");
	sbuf_addstr(out, "\nEach proof is the message its first addressee "
			 "would get; the others it stands for\nget the same "
			 "text with their own names and addresses.\n");
	for (size_t i = 0; i < w->ngroups; i++) {
		const struct proof_group *g = &w->groups[i];

		sbuf_addf(out, "\n%s: %s.txt", g->label, g->label);
		if (g->has_html)
			sbuf_addf(out, ", %s.html", g->label);
		sbuf_addf(out, ", %s.eml\n  stands for %zu addressee%s:\n",
			  g->label, g->n, g->n == 1 ? "" : "s");
		sbuf_add(out, g->members.buf, g->members.len);
	}
}

int campaign_proof_write(struct db *db, const struct conf *cfg, int64_t id,
			 const char *dir, bool force,
			 struct campaign_proof_summary *out,
			 struct error *err)
{
	struct campaign_info c = {0};
	struct proof_walk w = {.db = db, .cfg = cfg, .c = &c, .err = err};
	struct sbuf index = SBUF_INIT;
	int dfd = -1;
	int rc = campaign_get(db, id, &c, err);

	if (!rc)
		rc = template_load(db, c.template_id, &w.t, err);
	if (!rc)
		rc = campaign_members_each(db, c.list_id, walk_addressee, &w,
					   err);
	if (rc)
		goto out;
	if (!w.ngroups) {
		rc = error_set(err, ERR_NOTFOUND, "list '%s' has no active "
				 "contact: nothing to proof", c.list_name);
		goto out;
	}
	rc = open_dir(dir, force, &dfd, err);
	for (size_t i = 0; !rc && i < w.ngroups; i++)
		rc = write_proof(&w, dfd, dir, &w.groups[i]);
	if (rc)
		goto out;
	write_index_text(&w, &index);
	rc = write_file(dfd, dir, "proofs.txt", index.buf, index.len, err);
	if (!rc && out)
		*out = (struct campaign_proof_summary){w.ngroups, w.addressees,
						       w.left_out};
out:
	if (dfd >= 0)
		close(dfd);
	for (size_t i = 0; i < w.ngroups; i++) {
		free(w.groups[i].label);
		sbuf_release(&w.groups[i].members);
	}
	free(w.groups);
	template_free(w.t);
	sbuf_release(&index);
	campaign_info_release(&c);
	return rc;
}

/* Renders group g of w and hands it to fn (campaign_proof_each). */
static int show_proof(struct proof_walk *w, size_t number,
		      struct proof_group *g, campaign_proof_fn fn, void *arg)
{
	struct sbuf page = SBUF_INIT;
	struct proof_render r;
	int rc = proof_render(w, g, &r);

	if (!rc && r.o.has_html)
		html_proof(&page, w->c, r.v, &r.o, &r.d);
	if (!rc) {
		struct campaign_proof p = {
			.number = number, .label = g->label,
			.members = g->members.buf, .n = g->n,
			.lang = r.choice.sent, .subject = r.o.subject.buf,
			.text = r.o.text.buf,
			.html = r.o.has_html ? page.buf : NULL,
		};

		rc = fn(&p, arg);
	}
	proof_render_release(&r);
	sbuf_release(&page);
	return rc;
}

int campaign_proof_each(struct db *db, const struct conf *cfg, int64_t id,
			campaign_proof_fn fn, void *arg,
			struct campaign_proof_summary *out, struct error *err)
{
	struct campaign_info c = {0};
	struct proof_walk w = {.db = db, .cfg = cfg, .c = &c, .err = err};
	int rc = campaign_get(db, id, &c, err);

	if (!rc)
		rc = template_load(db, c.template_id, &w.t, err);
	if (!rc)
		rc = campaign_members_each(db, c.list_id, walk_addressee, &w,
					   err);
	if (!rc && !w.ngroups)
		rc = error_set(err, ERR_NOTFOUND, "list '%s' has no active "
			       "contact: nothing to proof", c.list_name);
	if (!rc && out)
		*out = (struct campaign_proof_summary){w.ngroups, w.addressees,
						       w.left_out};
	for (size_t i = 0; !rc && i < w.ngroups; i++)
		rc = show_proof(&w, i + 1, &w.groups[i], fn, arg);
	for (size_t i = 0; i < w.ngroups; i++) {
		free(w.groups[i].label);
		sbuf_release(&w.groups[i].members);
	}
	free(w.groups);
	template_free(w.t);
	campaign_info_release(&c);
	return rc;
}

/* ---- test sends ---- */

int campaign_proof_mark_test(struct sbuf *msg, struct error *err)
{
	const char *p = msg->buf, *end;
	size_t at, after;

	/* the header ends at the first empty line */
	for (;;) {
		if (*p == '\0' || (p[0] == '\r' && p[1] == '\n') || *p == '\n')
			return error_set(err, ERR_DATA, "the message has no "
					 "Subject: field");
		if (strncasecmp(p, "Subject:", 8) == 0)
			break;
		p = strchr(p, '\n');
		if (!p)
			return error_set(err, ERR_DATA, "the message has no "
					 "Subject: field");
		p++;
	}
	at = (size_t)(p - msg->buf) + 8;
	while (msg->buf[at] == ' ')
		at++;
	/* the field's end: past its folded continuation lines */
	end = p;
	do {
		end = strchr(end, '\n');
		end = end ? end + 1 : msg->buf + msg->len;
	} while (*end == ' ' || *end == '\t');
	after = (size_t)(end - msg->buf);
	{
		struct sbuf marked = SBUF_INIT;

		sbuf_add(&marked, msg->buf, at);
		sbuf_addstr(&marked, CAMPAIGN_TEST_SUBJECT_PREFIX);
		sbuf_add(&marked, msg->buf + at, after - at);
		sbuf_addstr(&marked, CAMPAIGN_TEST_HEADER "\r\n");
		sbuf_add(&marked, msg->buf + after, msg->len - after);
		sbuf_release(msg);
		*msg = marked;
	}
	return 0;
}

static int record_test(struct db *db, const struct campaign_info *c,
		       const struct delivery_ctx *d, const char *to,
		       const struct campaign_test_result *res,
		       struct error *err)
{
	static const char *const results[] = {"sent", "tempfail", "permfail"};
	struct ledger_entry e;
	int rc;

	ledger_entry_init(&e, LEDGER_CAMPAIGN_TESTED, c->id, 0, d->body.id,
			  d->contact.id);
	ledger_entry_str(&e, "to", to);
	ledger_entry_str(&e, "body", res->body);
	ledger_entry_str(&e, "contact", d->contact.email);
	ledger_entry_str(&e, "message_id", res->message_id);
	ledger_entry_str(&e, "result", results[res->result.outcome]);
	ledger_entry_int(&e, "code", res->result.code);
	ledger_entry_str(&e, "reply", res->result.text);
	rc = ledger_entry_append(db, &e, NULL, err);
	ledger_entry_release(&e);
	return rc;
}

int campaign_proof_test_send(struct db *db, const struct conf *cfg,
			     int64_t id, const char *body_key, const char *to,
			     struct campaign_test_result *out,
			     struct error *err)
{
	struct campaign_info c = {0};
	int64_t contact_id = 0;
	struct sbuf msg = SBUF_INIT;
	struct transport *tr = NULL;
	struct transport_message m;
	struct delivery_ctx d;
	bool have_ctx = false;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!to || strpbrk(to, "\r\n") || address_check(to, err))
		return error_set(err, ERR_USAGE, "--to: '%s' is not an e-mail "
				 "address", to ? to : "");
	rc = campaign_get(db, id, &c, err);
	if (!rc)
		rc = campaign_first_contact(db, &c, body_key, &contact_id, err);
	if (rc)
		goto out;
	make_message_id(cfg, &c, "test", out->message_id,
			sizeof(out->message_id));
	rc = campaign_delivery_ctx_init(db, cfg, &c, contact_id,
					out->message_id, NULL, &d, err);
	if (rc)
		goto out;
	have_ctx = true;
	snprintf(out->body, sizeof(out->body), "%s",
		 d.body.acronym ? d.body.acronym : d.body.name);
	snprintf(out->contact, sizeof(out->contact), "%s", d.contact.email);
	rc = campaign_delivery_render(db, cfg, &c, &d, &msg, err);
	if (!rc)
		rc = campaign_proof_mark_test(&msg, err);
	if (!rc && !(tr = transport_new(cfg, err)))
		rc = err->code ? err->code : ERR_CONFIG;
	if (rc)
		goto out;
	m = (struct transport_message){
		.envelope_from = cfg->sender.address,
		.recipient = to,
		.data = msg.buf,
		.size = msg.len,
	};
	rc = transport_send(tr, &m, 1, err);
	if (rc)
		goto out;
	out->result = m.result;
	rc = record_test(db, &c, &d, to, out, err);
	if (rc)
		goto out;
	if (m.result.outcome == TRANSPORT_TEMPFAIL)
		rc = error_set(err, ERR_TEMPFAIL, "test message to <%s> not "
				 "sent: %d %s", to, m.result.code,
			       m.result.text);
	else if (m.result.outcome == TRANSPORT_PERMFAIL)
		rc = error_set(err, ERR_UNAVAILABLE, "test message to <%s> "
				 "refused: %d %s", to, m.result.code,
			       m.result.text);
out:
	if (have_ctx)
		campaign_delivery_ctx_release(&d);
	transport_free(tr);
	sbuf_release(&msg);
	campaign_info_release(&c);
	return rc;
}
