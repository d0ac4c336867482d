/*
 * template: the stored, versioned statement templates, written in the
 * Mustache language.
 *
 * The language is Mustache (mustache.h: its modules, and escaping as a
 * render option).
 *
 * Template file format (what `chancery template add NAME FILE` reads):
 *
 *     Subject: {{anniversary.ordinal}} anniversary of the Khojaly genocide
 *     From: Ombudsman <ombudsman@example.org>      (optional)
 *     Reply-To: office@example.org                  (optional)
 *     Attach: statement.pdf                         (optional, repeatable)
 *                                                   <- one empty line
 *     The text body (Mustache) ...
 *     --- html ---                                  <- optional separator
 *     The HTML body (Mustache) ...
 *
 * The header block ends at the first empty line. Subject:, From: and
 * Reply-To: values are Mustache templates too (rendered without escaping,
 * refused if a variable brings a line break). Attach: paths are relative
 * to the template file. The HTML body, when there is one, follows a line
 * that reads exactly "--- html ---" (TEMPLATE_HTML_SEPARATOR); that line
 * and everything after it belong to the HTML part. Partials ({{> name}})
 * are read from files NAME.partial beside the template (and partials of
 * partials likewise), and stored with the version.
 *
 * Variables: only the names in template_variables[] exist:
 *     body.name body.acronym body.kind body.country
 *     contact.name contact.email contact.role contact.language
 *     sender.name sender.address sender.organization sender.reply_to
 *     campaign.name campaign.date ("26 February 2025", in ctx->tz)
 *     event.date anniversary.ordinal ("33rd") anniversary.years ("33")
 *     anniversary.year ("2025"): these four only with ctx->event_date
 *     anniversary.ordinal_FORM, anniversary.ordinal_spelled[_FORM]
 *       (FORM: masculine feminine neuter plural, each optionally with
 *       _genitive _dative _accusative _locative _ablative): the ordinal
 *       in a grammatical form, digits or spelled out (locale_format.h)
 *     body.running_name ("the United Nations Security Council"; the name
 *       without one), contact.salutation ("Your Excellency"; else the
 *       kind's default, else "Dear Sir or Madam"): protocol.h
 * Dates and ordinals are written by ICU in ctx->lang (locale_format.h):
 * "34e", "26 février 1992"; English as en_GB, "34th", "26 February 1992".
 * A variable without a value (a contact with no name) renders empty and,
 * like an empty string, is false in a section (as in mustache.js; the
 * spec's required modules leave empty strings open). Every name a
 * template uses (inside a section, relative to the section's name as
 * Mustache resolves it) is checked against that set when the template is
 * added, and an unknown one is an error naming the line and the column.
 *
 * Versions: adding a template whose content (source, partials and
 * attachments: the SHA-256 below) equals its latest version creates
 * nothing; otherwise it becomes version N+1. A version a campaign used is
 * locked (template_lock) and the database refuses to change it.
 *
 * The SHA-256 of a version is taken over: the source; then for each
 * partial in name order "\0partial\0" NAME "\0" SOURCE; then for each
 * attachment in order "\0attach\0" FILENAME "\0" CONTENT_TYPE "\0" and the
 * hex SHA-256 of its content.
 *
 * Language variants: a version is its default variant (the file added
 * without --lang) and any number of variants in other languages (`template
 * add NAME FILE --lang fr`), each with its own source, partials and
 * attachments (read from its own file's folder). Adding or replacing a
 * variant makes a new version holding every variant of the latest one
 * with the new one in its place; a variant needs a default variant to
 * exist. A variant's language is a BCP 47 tag, stored in ICU's canonical
 * form ("fr", "fr-CA", "az-Latn"). The SHA-256 of a version with
 * variants covers them all: the hex digest of the default variant as
 * above, then for each variant in language order (bytewise)
 * "\0variant\0" LANG "\0" and the hex digest of the variant taken the
 * same way; a version without variants keeps the digest above, so the
 * versions stored before variants existed keep their hash.
 *
 * Which variant a contact gets (template_choose): the languages wanted,
 * in order, are the contact's, the body's and the campaign's (or
 * campaign.language); each is tried with its fallback chain (itself, the
 * language.fallback entry for it, then its ICU parent: "fr-CA" -> "fr"),
 * against the variants and the default variant, whose language is
 * language.default ("en"). None found: the default variant.
 */
#ifndef CHANCERY_TEMPLATE_H
#define CHANCERY_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chancery/db.h"
#include "chancery/error.h"
#include "chancery/mustache.h"
#include "chancery/render.h"
#include "chancery/sbuf.h"

#define TEMPLATE_HTML_SEPARATOR "--- html ---"
#define TEMPLATE_MAX_SIZE (1024 * 1024)          /* source or partial */
#define TEMPLATE_ATTACHMENT_MAX (20 * 1024 * 1024) /* one attachment */
/* message.max_size when no configuration says: what relays accept */
#define TEMPLATE_MESSAGE_MAX_DEFAULT (25 * 1024 * 1024)
/* The most texts, tags and partial inclusions one message expands (a
 * statement has hundreds): bounds the work a partial fan-out asks for
 * even when it writes nothing. */
#define TEMPLATE_MAX_EXPANSION 1000000

/* The engine's types, used here through pointers only (mustache.h). */
struct mustache;
struct tvalue;

/* Every variable a statement template may use, NULL-terminated. */
extern const char *const template_variables[];

/* ---- statement templates ---- */

struct template_attachment {
	char *filename;
	char *content_type;
	unsigned char *content;
	size_t size;
	struct sbuf mime_part; /* message's: the part as sent, made once */
};

/*
 * A parsed template version: its parts compiled, its partials and
 * attachments in memory. Built by template_parse (from text) or
 * template_load (from the database).
 */
struct mime_qp_cache;

struct template {
	char *source;
	struct mustache *subject, *from, *reply_to, *text, *html; /* NULL if absent */
	char **partial_names, **partial_sources;
	size_t npartials;
	struct template_attachment *attachments;
	size_t nattachments;
	char **attach_paths; /* as written in Attach: lines */
	size_t nattach_paths;
	char *lang;       /* a variant's language; NULL for the default */
	char *origin;     /* the file a variant was added from, or NULL */
	struct template **variants; /* the default's variants, by language */
	size_t nvariants;
	/* the quoted-printable of its literal texts, made as messages are
	 * composed (message.c): once per loaded template, not per message */
	struct mime_qp_cache *qp_cache;
	/* message.c: the last From and Reply-To texts parsed as mailboxes,
	 * with their display name (or NULL) and address: [which][text,
	 * name, addr] */
	char *mailbox_memo[2][3];
};

/*
 * text as a BCP 47 language tag in ICU's canonical form (uloc_forLanguageTag
 * then uloc_toLanguageTag: "FR-ca" -> "fr-CA"); caller frees. ERR_USAGE
 * naming it when it is not a well-formed tag with a language.
 */
int template_lang_canonical(const char *text, char **out, struct error *err);

/* The variant of t in lang exactly (case ignored), or NULL. */
struct template *template_variant(struct template *t, const char *lang);

/* Where the language of a chosen variant came from. */
enum template_choice_via {
	TEMPLATE_VIA_CONTACT,   /* the contact's language or its chain */
	TEMPLATE_VIA_BODY,      /* the body's */
	TEMPLATE_VIA_CAMPAIGN,  /* the campaign's (or campaign.language) */
	TEMPLATE_VIA_DEFAULT,   /* nothing matched: the default variant */
};

/* What template_choose decided for one contact. */
struct template_choice {
	struct template *variant; /* to render: t itself or one of its variants */
	const char *lang;   /* ctx->lang: the variant's language, NULL for the
			       default variant */
	const char *sent;   /* the language recorded: lang, else the default
			       language (language.default), never NULL */
	enum template_choice_via via;
	bool exact;         /* the contact's own language had a variant
			       (false too when the contact has none) */
};

/* The languages wanted for one contact, in order; any may be NULL. */
struct template_wanted {
	const char *contact, *body, *campaign;
};

/*
 * Chooses the variant of t for one contact, in memory (no database):
 * see "Which variant" above. default_lang is language.default (NULL:
 * "en"); fallback is language.fallback ("fr-CA=fr, de=fr", NULL for
 * none; conf makes it canonical at load).
 * Pointers in out point into t and w.
 */
void template_choose(struct template *t, const struct template_wanted *w,
		     const char *default_lang, const char *fallback,
		     struct template_choice *out);


/*
 * Parses a template file's text (header block, text body, optional HTML
 * body) and compiles every part; does not check names or read files.
 * Errors name the line and column.
 */
int template_parse(const char *source, struct template **out,
		   struct error *err);
void template_free(struct template *t);

/* A stored version's row. Strings owned (template_info_release). */
struct template_info {
	int64_t id;
	char *name;
	int version;
	char sha256[65];
	char *origin;  /* the file it was added from, or NULL */
	bool locked;
	int64_t created_at;
	int npartials;     /* of every variant */
	int nattachments;  /* of every variant */
	char *langs;   /* the variants' languages, "fr,ru" (NULL: none) */
};
void template_info_release(struct template_info *info);

/*
 * Reads the file at path, its partials and attachments, checks it
 * completely (syntax, names, partials, attachment files, size), and
 * stores it as the next version of name, appending LEDGER_TEMPLATE_ADDED,
 * all in one transaction. When the content equals the latest version
 * nothing is stored and *unchanged is set; out describes that version
 * either way. Errors: ERR_DATA (naming the file, line and column),
 * ERR_NOINPUT (a missing file, naming it). On error nothing is stored.
 *
 * Partials and attachments are read from the template file's folder only
 * (see folder_read in template.c): an absolute Attach: path, a ".."
 * component, or a path that a symlink (in any component) takes outside
 * the folder's real path is ERR_DATA naming it; so is anything but a
 * regular file. A symlink that stays inside the folder is followed.
 *
 * A template whose text, partials expanded, and attachments come to more
 * than max_size bytes (message.max_size), or whose partials expand to
 * more than TEMPLATE_MAX_EXPANSION steps, is ERR_DATA naming the limit.
 * template_add uses TEMPLATE_MESSAGE_MAX_DEFAULT.
 */
int template_add_max(struct db *db, const char *name, const char *path,
		     size_t max_size, struct template_info *out,
		     bool *unchanged, struct error *err);
int template_add(struct db *db, const char *name, const char *path,
		 struct template_info *out, bool *unchanged, struct error *err);
/*
 * template_add_max for a variant: lang NULL is the default variant (the
 * other variants of the latest version are kept), else the variant in
 * lang (canonicalised; ERR_USAGE when it is not a BCP 47 tag), added to
 * or replaced in a copy of the latest version. ERR_NOTFOUND when the
 * template has no version yet to add a variant to.
 */
int template_add_lang(struct db *db, const char *name, const char *path,
		      const char *lang, size_t max_size,
		      struct template_info *out, bool *unchanged,
		      struct error *err);
/* The stored source of the variant lang of a version (NULL: the
 * default); caller frees. ERR_NOTFOUND naming the language. */
int template_variant_source(struct db *db, int64_t template_id,
			    const char *lang, char **out, struct error *err);

/* The version of name (0: the latest); ERR_NOTFOUND naming it. */
int template_find(struct db *db, const char *name, int version,
		  struct template_info *out, struct error *err);
int template_get(struct db *db, int64_t template_id,
		 struct template_info *out, struct error *err);

/* Calls fn for every version (of name, or of every template when NULL),
 * ordered by name then version; non-zero from fn stops and is returned. */
typedef int (*template_fn)(const struct template_info *info, void *arg);
int template_each(struct db *db, const char *name, template_fn fn, void *arg,
		  struct error *err);

/* The stored source of a version; caller frees. */
int template_source(struct db *db, int64_t template_id, char **out,
		    struct error *err);

/* Loads a version with its partials and attachments, compiled, and its
 * variants with theirs (t->variants). */
int template_load(struct db *db, int64_t template_id, struct template **out,
		  struct error *err);

/*
 * Marks a version used by a campaign (locked: the database then refuses
 * to change or delete it). Locking a locked version is not an error. The
 * caller records LEDGER_TEMPLATE_USED. ERR_NOTFOUND for an unknown id.
 */
int template_lock(struct db *db, int64_t template_id, struct error *err);

/* Whether t itself (one variant: its subject, headers, bodies and the
 * partials they include, not its other variants) uses the variable name,
 * as the names are checked at template add (in a section too). */
bool template_uses(struct template *t, const char *name);

/* ---- rendering for one addressee ---- */

/*
 * The variables of ctx as a value tree (names as in template_variables;
 * the date in ctx->tz, written in ctx->lang: "26 February 2025", "26
 * février 2025"; locale_format_context fills those). Caller frees. ERR_DATA
 * for a bad event date or time zone.
 */
int template_context_build(const struct render_context *ctx,
			   struct tvalue **out, struct error *err);

/* The rendered parts of a template for one addressee. */
struct template_output {
	struct sbuf subject, from, reply_to, text, html;
	bool has_from, has_reply_to, has_html;
	/* where text and html hold the template's literal texts */
	struct mustache_literals text_literals, html_literals;
};
void template_output_init(struct template_output *o);
void template_output_release(struct template_output *o);

/* message.max_size from cfg (TEMPLATE_MESSAGE_MAX_DEFAULT without one). */
size_t template_max_size(const struct conf *cfg);
/* Sets ERR_DATA "rendered message exceeds message.max_size (25 MB)". */
int template_too_big(size_t max_size, struct error *err);

/*
 * Renders every part of t against ctx. Header parts refuse a variable
 * holding CR or LF (ERR_DATA naming the variable and the header). The
 * parts together may hold at most template_max_size(ctx->cfg) bytes and
 * expand TEMPLATE_MAX_EXPANSION steps: past either the rendering stops
 * with ERR_DATA (template_too_big's message for the size).
 */
int template_render(struct template *t, const struct render_context *ctx,
		    struct template_output *out, struct error *err);

/*
 * A campaign without an event date would render anniversary.* and
 * event.date as empty strings ("on the  anniversary"): ERR_DATA naming the
 * first such variable when the template uses one and event_date is NULL.
 * Depends on the template only, so a campaign checks it once.
 */
int template_check_event_date(struct db *db, int64_t template_id,
			      const char *event_date, struct error *err);

#endif
