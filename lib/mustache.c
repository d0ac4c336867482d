/*
 * mustache: the Mustache engine (compile once, render many), its name
 * check and expansion measure, and the value tree it renders against.
 * No database and no files: the stored statement templates built on it
 * are the template module's.
 *
 * One module above 1,000 lines: compiling, rendering, measuring and the
 * name check all walk the same private node tree (struct node), which
 * no other file sees.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/mustache.h"
#include "chancery/xalloc.h"

/* ------------------------------------------------------------------ */
/* value tree                                                          */

struct tvalue *tvalue_new(enum tvalue_kind kind)
{
	struct tvalue *v = xcalloc(1, sizeof(*v));

	v->kind = kind;
	return v;
}

struct tvalue *tvalue_new_string(const char *s)
{
	struct tvalue *v = tvalue_new(TVALUE_STRING);

	v->string = xstrdup(s);
	return v;
}

struct tvalue *tvalue_new_bool(bool b)
{
	struct tvalue *v = tvalue_new(TVALUE_BOOL);

	v->boolean = b;
	return v;
}

struct tvalue *tvalue_new_number(double n)
{
	struct tvalue *v = tvalue_new(TVALUE_NUMBER);

	v->number = n;
	return v;
}

void tvalue_free(struct tvalue *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->count; i++) {
		tvalue_free(v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->string);
	free(v);
}

static void tvalue_push(struct tvalue *v, char *key, struct tvalue *item)
{
	if (v->count == v->alloc) {
		v->alloc = v->alloc ? 2 * v->alloc : 4;
		v->items = xrealloc(v->items, v->alloc * sizeof(*v->items));
		if (v->kind == TVALUE_OBJECT)
			v->keys = xrealloc(v->keys, v->alloc * sizeof(*v->keys));
	}
	if (v->kind == TVALUE_OBJECT)
		v->keys[v->count] = key;
	v->items[v->count++] = item;
}

void tvalue_append(struct tvalue *list, struct tvalue *v)
{
	tvalue_push(list, NULL, v);
}

void tvalue_set(struct tvalue *obj, const char *key, struct tvalue *v)
{
	for (size_t i = 0; i < obj->count; i++) {
		if (strcmp(obj->keys[i], key) == 0) {
			tvalue_free(obj->items[i]);
			obj->items[i] = v;
			return;
		}
	}
	tvalue_push(obj, xstrdup(key), v);
}

const struct tvalue *tvalue_get(const struct tvalue *obj, const char *key)
{
	if (!obj || obj->kind != TVALUE_OBJECT)
		return NULL;
	for (size_t i = 0; i < obj->count; i++)
		if (strcmp(obj->keys[i], key) == 0)
			return obj->items[i];
	return NULL;
}

void tvalue_set_path(struct tvalue *root, const char *path, const char *s)
{
	const char *dot = strchr(path, '.');
	struct tvalue *child;
	char *head;

	if (!s)
		return;
	if (!dot) {
		tvalue_set(root, path, tvalue_new_string(s));
		return;
	}
	head = xstrndup(path, (size_t)(dot - path));
	child = (struct tvalue *)tvalue_get(root, head);
	if (!child || child->kind != TVALUE_OBJECT) {
		child = tvalue_new(TVALUE_OBJECT);
		tvalue_set(root, head, child);
	}
	free(head);
	tvalue_set_path(child, dot + 1, s);
}

/* ------------------------------------------------------------------ */
/* compiling                                                           */

enum node_kind { N_ROOT, N_TEXT, N_VAR, N_SECTION, N_INVERTED, N_PARTIAL };

struct node {
	enum node_kind kind;
	char *text;   /* literal text, or the tag's name */
	size_t len;   /* of a literal text */
	bool escape;  /* N_VAR: {{x}} rather than {{{x}}} or {{&x}} */
	size_t offset; /* of the tag in the source, for messages */
	char *indent; /* N_PARTIAL: standalone indentation, or NULL */
	bool whole_line; /* N_TEXT: holds "\n...\n", a whole line */
	struct node *kids;
	size_t nkids, akids;
};

struct partial_cache {
	char *name, *indent;
	struct mustache *m;
	struct partial_cache *next;
};

struct mustache {
	char *src;
	int first_line;
	struct node root;
	struct partial_cache *cache; /* compiled partials (root template only) */
};

static void node_release(struct node *n)
{
	for (size_t i = 0; i < n->nkids; i++)
		node_release(&n->kids[i]);
	free(n->kids);
	free(n->text);
	free(n->indent);
}

static struct node *node_add(struct node *parent, enum node_kind kind,
			     size_t offset)
{
	struct node *n;

	if (parent->nkids == parent->akids) {
		parent->akids = parent->akids ? 2 * parent->akids : 8;
		parent->kids = xrealloc(parent->kids,
					parent->akids * sizeof(*parent->kids));
	}
	n = &parent->kids[parent->nkids++];
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->offset = offset;
	return n;
}

void mustache_position(const char *src, size_t offset, int first_line,
		       int *line, int *col)
{
	*line = first_line;
	*col = 1;
	for (size_t i = 0; i < offset && src[i]; i++) {
		if (src[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)src[i] & 0xC0) != 0x80) {
			(*col)++;
		}
	}
}

static int compile_error(const char *src, int first_line, size_t offset,
			 struct error *err, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int compile_error(const char *src, int first_line, size_t offset,
			 struct error *err, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	int line, col;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	mustache_position(src, offset, first_line, &line, &col);
	return error_set(err, ERR_DATA, "line %d, column %d: %s", line, col,
			 what);
}

struct parser {
	const char *src;
	int first_line;
	char otag[16], ctag[16];
	size_t pos;        /* first byte not yet emitted */
	size_t line_start; /* start of the current line */
	int tags_on_line;
	struct node *stack[128];
	int depth;
	struct error *err;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static char *trimmed(const char *s, size_t len)
{
	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	return xstrndup(s, len);
}

static void emit_text(struct parser *p, size_t from, size_t to)
{
	struct node *n;
	const char *first;

	if (to <= from)
		return;
	n = node_add(p->stack[p->depth], N_TEXT, from);
	n->text = xstrndup(p->src + from, to - from);
	n->len = to - from;
	first = memchr(n->text, '\n', n->len);
	n->whole_line = first && memchr(first + 1, '\n',
					n->len - (size_t)(first + 1 - n->text));
}

/* {{=<% %>=}}: the two new delimiters, separated by white space. */
static int set_delimiters(struct parser *p, const char *inner, size_t tag_at)
{
	char *spec = trimmed(inner, strlen(inner));
	size_t n = strlen(spec), a = 0;
	int rc = 0;

	if (n < 2 || spec[n - 1] != '=') {
		rc = compile_error(p->src, p->first_line, tag_at, p->err,
				   "a delimiter change must end with '='");
		goto out;
	}
	spec[n - 1] = '\0';
	while (spec[a] && !isspace((unsigned char)spec[a]))
		a++;
	{
		size_t b = a;
		while (spec[b] && isspace((unsigned char)spec[b]))
			b++;
		char *close = trimmed(spec + b, strlen(spec + b));
		if (a == 0 || a >= sizeof(p->otag) || !*close ||
		    strlen(close) >= sizeof(p->ctag) ||
		    strpbrk(close, " \t\r\n=")) {
			free(close);
			rc = compile_error(p->src, p->first_line, tag_at,
					   p->err,
					   "bad delimiter change (want "
					   "{{=OPEN CLOSE=}})");
			goto out;
		}
		memcpy(p->otag, spec, a);
		p->otag[a] = '\0';
		strcpy(p->ctag, close);
		free(close);
	}
out:
	free(spec);
	return rc;
}

/* Adds the node for one tag of the given type ('&' for unescaped, 0 for
 * a plain variable) and name; indent is the white space before a
 * standalone tag (NULL otherwise), kept for partials. */
static int parse_tag(struct parser *p, char type, const char *name,
		     size_t tag_at, const char *indent)
{
	struct node *top = p->stack[p->depth], *n;

	switch (type) {
	case '!':
		return 0;
	case '#':
	case '^':
		if (!*name)
			return compile_error(p->src, p->first_line, tag_at,
					     p->err, "section without a name");
		if (p->depth + 1 >= (int)(sizeof(p->stack) / sizeof(p->stack[0])))
			return compile_error(p->src, p->first_line, tag_at,
					     p->err, "sections nested too deep");
		n = node_add(top, type == '#' ? N_SECTION : N_INVERTED, tag_at);
		n->text = xstrdup(name);
		p->stack[++p->depth] = n;
		return 0;
	case '/':
		if (p->depth == 0)
			return compile_error(p->src, p->first_line, tag_at,
					     p->err,
					     "{{/%s}} closes a section that "
					     "was never opened", name);
		if (strcmp(top->text, name) != 0) {
			int line, col;

			mustache_position(p->src, top->offset, p->first_line,
					  &line, &col);
			return compile_error(p->src, p->first_line, tag_at,
					     p->err,
					     "{{/%s}} does not close section "
					     "'%s' opened at line %d, column %d",
					     name, top->text, line, col);
		}
		p->depth--;
		return 0;
	case '>':
		n = node_add(top, N_PARTIAL, tag_at);
		n->text = xstrdup(name);
		n->indent = indent ? xstrdup(indent) : NULL;
		return 0;
	default:
		if (!*name)
			return compile_error(p->src, p->first_line, tag_at,
					     p->err, "empty tag");
		n = node_add(top, N_VAR, tag_at);
		n->text = xstrdup(name);
		n->escape = type == 0;
		return 0;
	}
}

/* True when [line_start, tag) and the rest of the line after tag_end are
 * white space only; *next gets the offset after the line's end. */
static bool standalone(struct parser *p, size_t tag, size_t tag_end,
		       size_t *next)
{
	size_t i;

	if (p->tags_on_line > 0)
		return false;
	for (i = p->line_start; i < tag; i++)
		if (!is_blank(p->src[i]))
			return false;
	for (i = tag_end; is_blank(p->src[i]); i++)
		;
	if (p->src[i] == '\n')
		i++;
	else if (p->src[i] == '\r' && p->src[i + 1] == '\n')
		i += 2;
	else if (p->src[i] != '\0')
		return false;
	*next = i;
	return true;
}

/* Finds the end of the tag opening at tag: *inner gets its content
 * (the type character included), *end the offset after it. */
static int find_tag_end(struct parser *p, size_t tag, char **inner,
			size_t *end)
{
	size_t inner_at = tag + strlen(p->otag);
	char want[20];
	const char *c;

	/* {{{x}}} closes with a third brace; with other delimiters, {x}
	 * closes with "}" and the closing delimiter */
	snprintf(want, sizeof(want), "%s%s", p->src[inner_at] == '{' ? "}" : "",
		 p->ctag);
	c = strstr(p->src + inner_at, want);
	if (!c)
		return compile_error(p->src, p->first_line, tag, p->err,
				     "tag '%s' is never closed", p->otag);
	*end = (size_t)(c - p->src) + strlen(want);
	*inner = xstrndup(p->src + inner_at, (size_t)(c - p->src) - inner_at);
	return 0;
}

/* Moves past the tag [tag, end): a standalone tag takes its whole line
 * with it (and *indent gets the white space before it). */
static void consume_tag(struct parser *p, char type, size_t tag, size_t end,
			char **indent)
{
	const char *src = p->src;
	size_t next;

	if (type && strchr("#^/>!=", type) && standalone(p, tag, end, &next)) {
		emit_text(p, p->pos, p->line_start > p->pos ? p->line_start :
							      p->pos);
		*indent = xstrndup(src + p->line_start, tag - p->line_start);
		if (next > 0 && src[next - 1] == '\n') {
			p->line_start = next;
			p->tags_on_line = 0;
		} else {
			p->tags_on_line++;
		}
		p->pos = next;
		return;
	}
	emit_text(p, p->pos, tag);
	p->pos = end;
	p->tags_on_line++;
	/* a tag spanning lines (a comment) moves the line */
	for (size_t i = tag; i < end; i++)
		if (src[i] == '\n')
			p->line_start = i + 1;
}

static int parse(struct parser *p)
{
	const char *src = p->src;

	for (;;) {
		const char *o = strstr(src + p->pos, p->otag);
		char type = 0, *inner = NULL, *name = NULL, *indent = NULL;
		size_t tag, end;
		int rc;

		/* advance the line bookkeeping over plain text */
		for (size_t i = p->pos; src[i] && (!o || src + i < o); i++) {
			if (src[i] == '\n') {
				p->line_start = i + 1;
				p->tags_on_line = 0;
			}
		}
		if (!o) {
			emit_text(p, p->pos, strlen(src));
			break;
		}
		tag = (size_t)(o - src);
		rc = find_tag_end(p, tag, &inner, &end);
		if (rc)
			return rc;
		if (inner[0] && strchr("#^/>!={&", inner[0]))
			type = inner[0];
		name = trimmed(inner + (type ? 1 : 0),
			       strlen(inner) - (type ? 1 : 0));
		consume_tag(p, type, tag, end, &indent);
		if (type == '=')
			rc = set_delimiters(p, inner + 1, tag);
		else
			rc = parse_tag(p, type == '{' || type == '&' ? '&' :
				       type, name, tag, indent);
		free(inner);
		free(name);
		free(indent);
		if (rc)
			return rc;
	}
	if (p->depth > 0)
		return compile_error(src, p->first_line,
				     p->stack[p->depth]->offset, p->err,
				     "section '%s' is never closed",
				     p->stack[p->depth]->text);
	return 0;
}

int mustache_compile(const char *src, int first_line, struct mustache **out,
		     struct error *err)
{
	struct mustache *m = xcalloc(1, sizeof(*m));
	struct parser p = {0};
	int rc;

	m->src = xstrdup(src);
	m->first_line = first_line;
	m->root.kind = N_ROOT;
	p.src = m->src;
	p.first_line = first_line;
	strcpy(p.otag, "{{");
	strcpy(p.ctag, "}}");
	p.stack[0] = &m->root;
	p.err = err;
	rc = parse(&p);
	if (rc) {
		mustache_free(m);
		m = NULL;
	}
	*out = m;
	return rc;
}

void mustache_free(struct mustache *m)
{
	struct partial_cache *c, *next;

	if (!m)
		return;
	for (c = m->cache; c; c = next) {
		next = c->next;
		mustache_free(c->m);
		free(c->name);
		free(c->indent);
		free(c);
	}
	node_release(&m->root);
	free(m->src);
	free(m);
}

int mustache_compile_at(const char *value, int line, int col,
			struct mustache **out, struct error *err)
{
	struct sbuf padded = SBUF_INIT;
	struct mustache *m;
	int rc;

	/* compile with the columns before the value as blanks, then drop
	 * them, so that messages point at the file's column */
	for (int i = 1; i < col; i++)
		sbuf_addch(&padded, ' ');
	sbuf_addstr(&padded, value);
	rc = mustache_compile(padded.buf, line, &m, err);
	sbuf_release(&padded);
	if (rc)
		return rc;
	if (m->root.nkids > 0 && m->root.kids[0].kind == N_TEXT &&
	    col > 1) {
		struct node *n = &m->root.kids[0];

		memmove(n->text, n->text + col - 1, n->len - (size_t)(col - 1) + 1);
		n->len -= (size_t)(col - 1);
	}
	*out = m;
	return 0;
}

static void strv_push(char ***v, size_t *n, char *s)
{
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = s;
}

static void collect_partials(const struct node *n, char ***names,
			     size_t *count)
{
	if (n->kind == N_PARTIAL) {
		for (size_t i = 0; i < *count; i++)
			if (strcmp((*names)[i], n->text) == 0)
				return;
		strv_push(names, count, xstrdup(n->text));
	}
	for (size_t i = 0; i < n->nkids; i++)
		collect_partials(&n->kids[i], names, count);
}

void mustache_partial_names(const struct mustache *m, char ***names,
			    size_t *count)
{
	collect_partials(&m->root, names, count);
}

/* ------------------------------------------------------------------ */
/* rendering                                                           */

#define RENDER_MAX_DEPTH 64 /* partials within partials */

struct render {
	struct mustache *root; /* owns the partial cache */
	const struct mustache_partials *partials;
	const struct mustache_render_opts *opts;
	const struct tvalue *stack[256];
	int depth;
	int partial_depth;
	struct mustache_budget *budget; /* NULL: no limit */
	struct sbuf *out;
	struct error *err;
};

/* Takes len output bytes from the budget, before they are appended. */
static int spend_bytes(struct render *r, size_t len)
{
	if (!r->budget)
		return 0;
	if (len > r->budget->bytes)
		return error_set(r->err, ERR_DATA, "%s",
				 r->budget->bytes_error ?
				 r->budget->bytes_error :
				 "the rendered output is too large");
	r->budget->bytes -= len;
	return 0;
}

/* Takes one step (a text, a tag, a partial) from the budget. */
static int spend_step(struct render *r)
{
	if (!r->budget)
		return 0;
	if (r->budget->steps == 0)
		return error_set(r->err, ERR_DATA, "%s",
				 r->budget->steps_error ?
				 r->budget->steps_error :
				 "the template expands too much");
	r->budget->steps--;
	return 0;
}

/* Mustache's name resolution: "." is the top of the stack; otherwise the
 * first part is looked up from the top down and the rest of a dotted name
 * only inside what the first part found. */
static const struct tvalue *lookup(const struct render *r, const char *name)
{
	const struct tvalue *v = NULL;
	const char *dot;
	char *head;

	if (strcmp(name, ".") == 0)
		return r->stack[r->depth];
	dot = strchr(name, '.');
	head = dot ? xstrndup(name, (size_t)(dot - name)) : xstrdup(name);
	for (int i = r->depth; i >= 0 && !v; i--)
		v = tvalue_get(r->stack[i], head);
	free(head);
	while (v && dot) {
		const char *part = dot + 1;

		dot = strchr(part, '.');
		head = dot ? xstrndup(part, (size_t)(dot - part)) :
			     xstrdup(part);
		v = tvalue_get(v, head);
		free(head);
	}
	return v;
}

static bool truthy(const struct tvalue *v)
{
	if (!v)
		return false;
	switch (v->kind) {
	case TVALUE_NULL:
		return false;
	case TVALUE_BOOL:
		return v->boolean;
	case TVALUE_STRING:
		return v->string[0] != '\0';
	case TVALUE_LIST:
		return v->count > 0;
	default:
		return true;
	}
}

/* Numbers print as the shortest text that reads back the same. */
static void format_number(double n, char *buf, size_t size)
{
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, n);
		if (strtod(buf, NULL) == n)
			return;
	}
}

/* The length add_escaped appends. */
static size_t escaped_len(const char *s, bool html)
{
	size_t n = 0;

	if (!html)
		return strlen(s);
	for (; *s; s++)
		n += *s == '&' ? 5 : *s == '"' ? 6 : *s == '<' || *s == '>' ? 4 : 1;
	return n;
}

static void add_escaped(struct sbuf *out, const char *s, bool html)
{
	if (!html) {
		sbuf_addstr(out, s);
		return;
	}
	for (; *s; s++) {
		switch (*s) {
		case '&': sbuf_addstr(out, "&amp;"); break;
		case '"': sbuf_addstr(out, "&quot;"); break;
		case '<': sbuf_addstr(out, "&lt;"); break;
		case '>': sbuf_addstr(out, "&gt;"); break;
		default: sbuf_addch(out, *s);
		}
	}
}

static int render_nodes(struct render *r, const struct mustache *m,
			const struct node *parent);

static int render_var(struct render *r, const struct mustache *m,
		      const struct node *n)
{
	const struct tvalue *v = lookup(r, n->text);
	char num[40];
	const char *s = "";
	bool html;
	int rc;

	if (!v)
		return 0;
	if (v->kind == TVALUE_STRING)
		s = v->string;
	else if (v->kind == TVALUE_BOOL)
		s = v->boolean ? "true" : "false";
	else if (v->kind == TVALUE_NUMBER) {
		format_number(v->number, num, sizeof(num));
		s = num;
	}
	if (r->opts && r->opts->single_line && strpbrk(s, "\r\n")) {
		int line, col;

		mustache_position(m->src, n->offset, m->first_line, &line,
				  &col);
		return error_set(r->err, ERR_DATA,
				 "line %d, column %d: variable '%s' holds a "
				 "line break, refused in %s", line, col,
				 n->text, r->opts->what_for ?
				 r->opts->what_for : "a header");
	}
	html = r->opts && r->opts->html_escape && n->escape;
	rc = spend_bytes(r, escaped_len(s, html));
	if (!rc)
		add_escaped(r->out, s, html);
	return rc;
}

static int push(struct render *r, const struct tvalue *v)
{
	if (r->depth + 1 >= (int)(sizeof(r->stack) / sizeof(r->stack[0])))
		return error_set(r->err, ERR_DATA,
				 "sections nested too deep while rendering");
	r->stack[++r->depth] = v;
	return 0;
}

static int render_section(struct render *r, const struct mustache *m,
			  const struct node *n)
{
	const struct tvalue *v = lookup(r, n->text);
	int rc = 0;

	if (n->kind == N_INVERTED)
		return truthy(v) ? 0 : render_nodes(r, m, n);
	if (!truthy(v))
		return 0;
	if (v->kind == TVALUE_LIST) {
		for (size_t i = 0; i < v->count && !rc; i++) {
			rc = push(r, v->items[i]);
			if (!rc)
				rc = render_nodes(r, m, n);
			r->depth--;
		}
		return rc;
	}
	rc = push(r, v);
	if (!rc)
		rc = render_nodes(r, m, n);
	r->depth--;
	return rc;
}

/* Each line of the partial's source gets the indentation of its tag. */
static char *indent_source(const char *src, const char *indent)
{
	struct sbuf sb = SBUF_INIT;
	bool at_start = true;

	for (const char *s = src; *s; s++) {
		if (at_start)
			sbuf_addstr(&sb, indent);
		sbuf_addch(&sb, *s);
		at_start = *s == '\n';
	}
	return sbuf_detach(&sb, NULL);
}

/* The compiled partial name with that indentation, compiled on first use. */
static int partial_get(struct render *r, const char *name, const char *indent,
		       struct mustache **out)
{
	struct partial_cache *c;
	const char *src;
	char *text;
	int rc;

	*out = NULL;
	for (c = r->root->cache; c; c = c->next) {
		if (strcmp(c->name, name) == 0 &&
		    strcmp(c->indent, indent ? indent : "") == 0) {
			*out = c->m;
			return 0;
		}
	}
	src = r->partials && r->partials->get ?
		      r->partials->get(r->partials->arg, name) : NULL;
	if (!src)
		return 0;
	text = indent && *indent ? indent_source(src, indent) : xstrdup(src);
	c = xcalloc(1, sizeof(*c));
	rc = mustache_compile(text, 1, &c->m, r->err);
	free(text);
	if (rc) {
		free(c);
		return error_prefix(r->err, "partial '%s'", name);
	}
	c->name = xstrdup(name);
	c->indent = xstrdup(indent ? indent : "");
	c->next = r->root->cache;
	r->root->cache = c;
	*out = c->m;
	return 0;
}

static int render_partial(struct render *r, const struct node *n)
{
	struct mustache *p;
	int rc;

	if (r->partial_depth >= RENDER_MAX_DEPTH)
		return error_set(r->err, ERR_DATA,
				 "partial '%s': partials nested more than %d "
				 "deep", n->text, RENDER_MAX_DEPTH);
	rc = partial_get(r, n->text, n->indent, &p);
	if (rc || !p)
		return rc;
	r->partial_depth++;
	rc = render_nodes(r, p, &p->root);
	r->partial_depth--;
	return rc;
}

void mustache_literals_release(struct mustache_literals *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->alloc = 0;
}

static void add_literal(struct mustache_literals *l, size_t at,
			const struct node *n)
{
	if (l->n == l->alloc) {
		l->alloc = l->alloc ? l->alloc * 2 : 32;
		l->v = xrealloc(l->v, l->alloc * sizeof(*l->v));
	}
	l->v[l->n].at = at;
	l->v[l->n].len = n->len;
	l->v[l->n].text = n->text;
	l->n++;
}

static int render_nodes(struct render *r, const struct mustache *m,
			const struct node *parent)
{
	int rc = 0;

	for (size_t i = 0; i < parent->nkids && !rc; i++) {
		const struct node *n = &parent->kids[i];

		if ((rc = spend_step(r)))
			break;
		switch (n->kind) {
		case N_TEXT:
			rc = spend_bytes(r, n->len);
			if (!rc && n->whole_line && r->opts &&
			    r->opts->literals)
				add_literal(r->opts->literals, r->out->len, n);
			if (!rc)
				sbuf_add(r->out, n->text, n->len);
			break;
		case N_VAR:
			rc = render_var(r, m, n);
			break;
		case N_SECTION:
		case N_INVERTED:
			rc = render_section(r, m, n);
			break;
		case N_PARTIAL:
			rc = render_partial(r, n);
			break;
		default:
			break;
		}
	}
	return rc;
}

int mustache_render(struct mustache *m, const struct tvalue *ctx,
		    const struct mustache_partials *partials,
		    const struct mustache_render_opts *opts, struct sbuf *out,
		    struct error *err)
{
	struct render r = {0};

	r.root = m;
	r.partials = partials;
	r.opts = opts;
	r.budget = opts ? opts->budget : NULL;
	r.stack[0] = ctx;
	r.out = out;
	r.err = err;
	return render_nodes(&r, m, &m->root);
}

/* ------------------------------------------------------------------ */
/* measuring the expansion                                             */

/* One partial's measure, taken once (the memo that makes a fan-out of
 * 10^8 inclusions cost a walk of each partial). */
struct measured {
	char *name;
	size_t bytes, steps;
	bool busy; /* being measured: met again, it includes itself */
	struct measured *next;
};

struct measure {
	const struct mustache_partials *partials;
	struct measured *done;
	int depth;
};

static size_t sat_add(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static void measure_nodes(struct measure *x, const struct node *parent,
			  size_t *bytes, size_t *steps);

static void measure_partial(struct measure *x, const char *name,
			    size_t *bytes, size_t *steps)
{
	struct measured *p;
	struct mustache *m = NULL;
	const char *src;

	for (p = x->done; p; p = p->next)
		if (strcmp(p->name, name) == 0)
			break;
	if (!p) {
		p = xcalloc(1, sizeof(*p));
		p->name = xstrdup(name);
		p->next = x->done;
		x->done = p;
		src = x->partials && x->partials->get ?
			      x->partials->get(x->partials->arg, name) : NULL;
		if (src && x->depth >= RENDER_MAX_DEPTH) {
			p->bytes = p->steps = SIZE_MAX;
		} else if (src && mustache_compile(src, 1, &m, NULL) == 0) {
			p->busy = true;
			x->depth++;
			measure_nodes(x, &m->root, &p->bytes, &p->steps);
			x->depth--;
			p->busy = false;
		}
		mustache_free(m);
	} else if (p->busy) {
		p->bytes = p->steps = SIZE_MAX;
	}
	*bytes = sat_add(*bytes, p->bytes);
	*steps = sat_add(*steps, p->steps);
}

static void measure_nodes(struct measure *x, const struct node *parent,
			  size_t *bytes, size_t *steps)
{
	for (size_t i = 0; i < parent->nkids; i++) {
		const struct node *n = &parent->kids[i];

		*steps = sat_add(*steps, 1);
		if (n->kind == N_TEXT)
			*bytes = sat_add(*bytes, n->len);
		else if (n->kind == N_SECTION || n->kind == N_INVERTED)
			measure_nodes(x, n, bytes, steps);
		else if (n->kind == N_PARTIAL)
			measure_partial(x, n->text, bytes, steps);
	}
}

void mustache_expansion(const struct mustache *m,
			const struct mustache_partials *partials,
			size_t *bytes, size_t *steps)
{
	struct measure x = {partials, NULL, 0};

	*bytes = *steps = 0;
	measure_nodes(&x, &m->root, bytes, steps);
	while (x.done) {
		struct measured *next = x.done->next;

		free(x.done->name);
		free(x.done);
		x.done = next;
	}
}

/* ------------------------------------------------------------------ */
/* checking names                                                      */

struct check {
	const char *const *known;
	const struct mustache_partials *partials;
	char *scopes[256]; /* absolute paths of the enclosing sections */
	int depth;
	const char *chain[RENDER_MAX_DEPTH]; /* partials being checked */
	int nchain;
	/* "name\nscope\nscope...": a partial checked in those sections
	 * already passed (and reaches no cycle), so it is not walked again:
	 * a fan-out of partials costs each once, not each inclusion */
	char **seen;
	size_t nseen;
	struct error *err;
};

static char *check_key(const struct check *c, const char *name)
{
	struct sbuf key = SBUF_INIT;

	sbuf_addstr(&key, name);
	for (int i = 0; i < c->depth; i++)
		sbuf_addf(&key, "\n%s", c->scopes[i]);
	return sbuf_detach(&key, NULL);
}

/* True when path is a known name or the object holding some. */
static bool known_path(const struct check *c, const char *path)
{
	size_t len = strlen(path);

	for (const char *const *k = c->known; *k; k++) {
		if (strcmp(*k, path) == 0)
			return true;
		if (strncmp(*k, path, len) == 0 && (*k)[len] == '.')
			return true;
	}
	return false;
}

/* The absolute path name stands for, resolved as at render time: from
 * the innermost section outwards (by its first part). NULL if unknown. */
static char *resolve_name(const struct check *c, const char *name)
{
	if (strcmp(name, ".") == 0)
		return xstrdup(c->depth > 0 ? c->scopes[c->depth - 1] : "");
	for (int i = c->depth; i >= 0; i--) {
		const char *scope = i > 0 ? c->scopes[i - 1] : "";
		struct sbuf sb = SBUF_INIT;

		if (*scope)
			sbuf_addf(&sb, "%s.", scope);
		sbuf_addstr(&sb, name);
		if (known_path(c, sb.buf))
			return sbuf_detach(&sb, NULL);
		sbuf_release(&sb);
	}
	return NULL;
}

static int check_nodes(struct check *c, const struct mustache *m,
		       const struct node *parent, const char *where);

static int check_unknown(struct check *c, const struct mustache *m,
			 const struct node *n, const char *where)
{
	int line, col;

	mustache_position(m->src, n->offset, m->first_line, &line, &col);
	return error_set(c->err, ERR_DATA, "%s%sline %d, column %d: unknown "
			 "variable '%s'", where ? where : "",
			 where ? ", " : "", line, col, n->text);
}

static int partial_cycle(const struct check *c, int from, const char *name)
{
	struct sbuf chain = SBUF_INIT;
	int rc;

	for (int i = from; i < c->nchain; i++)
		sbuf_addf(&chain, "%s -> ", c->chain[i]);
	sbuf_addstr(&chain, name);
	rc = error_set(c->err, ERR_DATA, "partial '%s' includes itself "
		       "(%s)", name, chain.buf);
	sbuf_release(&chain);
	return rc;
}

static int check_partial(struct check *c, const struct node *n)
{
	const char *src;
	struct mustache *p = NULL;
	char where[300], *key;
	int rc;

	/* Our variables are flat, so a partial that includes itself is
	 * either never reached or never ends: refuse it here rather than
	 * at render time, naming the cycle. */
	for (int i = 0; i < c->nchain; i++)
		if (strcmp(c->chain[i], n->text) == 0)
			return partial_cycle(c, i, n->text);
	key = check_key(c, n->text);
	for (size_t i = 0; i < c->nseen; i++) {
		if (strcmp(c->seen[i], key) == 0) {
			free(key);
			return 0;
		}
	}
	src = c->partials && c->partials->get ?
		      c->partials->get(c->partials->arg, n->text) : NULL;
	if (!src)
		rc = error_set(c->err, ERR_DATA, "partial '%s' not found "
			       "(looked for %s.partial beside the template)",
			       n->text, n->text);
	else if (c->nchain >= RENDER_MAX_DEPTH)
		rc = error_set(c->err, ERR_DATA, "partials nested too deep");
	else if ((rc = mustache_compile(src, 1, &p, c->err)))
		error_prefix(c->err, "partial '%s'", n->text);
	if (rc) {
		free(key);
		return rc;
	}
	snprintf(where, sizeof(where), "partial '%s'", n->text);
	c->chain[c->nchain++] = n->text;
	rc = check_nodes(c, p, &p->root, where);
	c->nchain--;
	mustache_free(p);
	if (rc) {
		free(key);
		return rc;
	}
	c->seen = xrealloc(c->seen, (c->nseen + 1) * sizeof(*c->seen));
	c->seen[c->nseen++] = key;
	return 0;
}

static int check_nodes(struct check *c, const struct mustache *m,
		       const struct node *parent, const char *where)
{
	int rc = 0;

	for (size_t i = 0; i < parent->nkids && !rc; i++) {
		const struct node *n = &parent->kids[i];
		char *path;

		switch (n->kind) {
		case N_VAR:
			path = resolve_name(c, n->text);
			if (!path)
				rc = check_unknown(c, m, n, where);
			free(path);
			break;
		case N_SECTION:
		case N_INVERTED:
			path = resolve_name(c, n->text);
			if (!path) {
				rc = check_unknown(c, m, n, where);
				break;
			}
			if (c->depth >= (int)(sizeof(c->scopes) /
					      sizeof(c->scopes[0]))) {
				free(path);
				return error_set(c->err, ERR_DATA,
						 "sections nested too deep");
			}
			c->scopes[c->depth++] = path;
			rc = check_nodes(c, m, n, where);
			free(c->scopes[--c->depth]);
			break;
		case N_PARTIAL:
			rc = check_partial(c, n);
			break;
		default:
			break;
		}
	}
	return rc;
}

int mustache_check_names(const struct mustache *m, const char *const *known,
			 const struct mustache_partials *partials,
			 struct error *err)
{
	struct check c = {0};
	int rc;

	c.known = known;
	c.partials = partials;
	c.err = err;
	rc = check_nodes(&c, m, &m->root, NULL);
	for (size_t i = 0; i < c.nseen; i++)
		free(c.seen[i]);
	free(c.seen);
	return rc;
}
