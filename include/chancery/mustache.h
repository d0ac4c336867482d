/*
 * mustache: the template language, compiled once and rendered many
 * times against a tree of values. No database and no files: where
 * partials come from is the caller's (struct mustache_partials).
 *
 * The language is Mustache as specified at github.com/mustache/spec
 * (required modules: interpolation with dotted names and the implicit
 * iterator ".", sections over lists, objects and booleans, inverted
 * sections, comments, partials with standalone indentation, set
 * delimiters, the standalone-line rules, {{{x}}} and {{&x}}). Lambdas are
 * an optional module of the spec and are not supported: a template's data
 * comes from the registry, never from code.
 *
 * Escaping is a render option, not a property of the template: the HTML
 * part is rendered with HTML escaping, the text part and the headers
 * without.
 */
#ifndef CHANCERY_MUSTACHE_H
#define CHANCERY_MUSTACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "chancery/error.h"
#include "chancery/sbuf.h"

/* ---- the value tree a text is rendered against ---- */

enum tvalue_kind {
	TVALUE_NULL,
	TVALUE_BOOL,
	TVALUE_NUMBER,
	TVALUE_STRING,
	TVALUE_LIST,
	TVALUE_OBJECT,
};

/*
 * One value. A list holds items[0..count); an object holds keys[i] ->
 * items[i]. A value owns its strings and its children (tvalue_free frees
 * the whole tree).
 */
struct tvalue {
	enum tvalue_kind kind;
	bool boolean;
	double number;
	char *string;
	char **keys;
	struct tvalue **items;
	size_t count, alloc;
};

struct tvalue *tvalue_new(enum tvalue_kind kind);
struct tvalue *tvalue_new_string(const char *s);
struct tvalue *tvalue_new_bool(bool b);
struct tvalue *tvalue_new_number(double n);
void tvalue_free(struct tvalue *v);
/* Appends v to a list (which takes ownership). */
void tvalue_append(struct tvalue *list, struct tvalue *v);
/* Sets key in an object to v (taking ownership; replaces an old value). */
void tvalue_set(struct tvalue *obj, const char *key, struct tvalue *v);
/* Sets a dotted path ("body.name"), creating the objects on the way; a
 * NULL s stores nothing (the variable renders empty and is falsey). */
void tvalue_set_path(struct tvalue *root, const char *path, const char *s);
/* The member key of an object, or NULL. */
const struct tvalue *tvalue_get(const struct tvalue *obj, const char *key);

/* ---- the language ---- */

/* A compiled Mustache text (one part of a template). */
struct mustache;

/*
 * Where partial sources come from: get returns the source of the partial
 * name (NULL when there is none: it renders as nothing, as the spec says).
 */
struct mustache_partials {
	const char *(*get)(void *arg, const char *name);
	void *arg;
};

/*
 * Compiles src. first_line is the line number src starts at in its file
 * (for messages: errors read "line L, column C: ..."). ERR_DATA on an
 * unclosed or mismatched section, an unclosed tag, a bad delimiter.
 */
int mustache_compile(const char *src, int first_line, struct mustache **out,
		     struct error *err);
void mustache_free(struct mustache *m);

/*
 * Compiles value, found at line, column col of its file (a header's
 * value after "Subject: "), so that messages name the file's column.
 */
int mustache_compile_at(const char *value, int line, int col,
			struct mustache **out, struct error *err);

/*
 * Appends to names[0..*count) the name of each partial m includes
 * (directly, not through other partials) that is not there already; the
 * new strings are the caller's.
 */
void mustache_partial_names(const struct mustache *m, char ***names,
			    size_t *count);

/* Line and column (in characters, from 1) of offset in src, as the
 * engine's messages count them; src starts at line first_line. */
void mustache_position(const char *src, size_t offset, int first_line,
		       int *line, int *col);

/*
 * What a rendering may still spend, shared by the renderings of one
 * message and checked before each append, so that a template expanding
 * without end stops at the limit instead of allocating its output.
 */
struct mustache_budget {
	size_t bytes;            /* output bytes left */
	size_t steps;            /* texts, tags and partials left to expand */
	const char *bytes_error; /* the message when bytes run out */
	const char *steps_error; /* the message when steps run out */
};

/*
 * The literal texts of the template as a rendering appended them:
 * out->buf[at..at+len) holds text[0..len), text being the compiled
 * template's own copy (it lives as long as the struct mustache, partials
 * included). In the order appended; only literals holding a whole line
 * (a line break, then text up to another) are listed: the rest are
 * per-message text to whoever reads the list (quoted-printable).
 */
struct mustache_literal {
	size_t at, len;
	const char *text;
};
struct mustache_literals {
	struct mustache_literal *v;
	size_t n, alloc;
};
void mustache_literals_release(struct mustache_literals *l);

struct mustache_render_opts {
	bool html_escape;       /* escape & " < > in {{x}} */
	/* Refuse a value holding CR or LF (for headers); the error names the
	 * variable and what_for. */
	bool single_line;
	const char *what_for;   /* "the Subject header", for messages */
	struct mustache_budget *budget; /* NULL: no limit */
	struct mustache_literals *literals; /* NULL: not recorded */
};

/*
 * Renders m against ctx, appending to out. Partials are compiled on first
 * use and cached in m (so a struct mustache is not shared between threads
 * while rendering). With a budget, ERR_DATA (its message) as soon as the
 * next append would pass it; out then holds what was rendered so far.
 */
int mustache_render(struct mustache *m, const struct tvalue *ctx,
		    const struct mustache_partials *partials,
		    const struct mustache_render_opts *opts, struct sbuf *out,
		    struct error *err);

/*
 * Checks every name m uses against the NULL-terminated known list (for
 * a statement, template_variables in template.h), following partials
 * through get (a partial that does not exist is an error here).
 * ERR_DATA naming the line and column of the first unknown name.
 */
int mustache_check_names(const struct mustache *m, const char *const *known,
			 const struct mustache_partials *partials,
			 struct error *err);

/*
 * The most m can expand to, partials (from get) expanded: *bytes of
 * literal text (variables counted empty, every section taken once,
 * indentation of standalone partials not counted) and *steps texts, tags
 * and partials, the units of struct mustache_budget. Each partial is
 * measured once, so a fan-out of 10^8 inclusions costs microseconds.
 * Saturates at SIZE_MAX (also for a partial including itself).
 */
void mustache_expansion(const struct mustache *m,
			const struct mustache_partials *partials,
			size_t *bytes, size_t *steps);

#endif
