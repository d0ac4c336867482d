#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chancery/address.h"
#include "chancery/bounce_report.h"
#include "chancery/clock.h"
#include "chancery/conf.h"
#include "chancery/locale_names.h"
#include "chancery/sbuf.h"
#include "chancery/utf8.h"
#include "chancery/xalloc.h"

enum key_type {
	K_STRING,   /* char * */
	K_PATH,     /* char *, relative to the config file's directory */
	K_SECRET,   /* char *, never printed */
	K_INT,      /* int */
	K_FLOAT,    /* double */
	K_DURATION, /* int64_t milliseconds */
	K_CHOICE,   /* an enum: the index of the name in choices */
	K_ADDRESSES, /* struct conf_notify's list: e-mail addresses */
	K_BOOL,     /* bool: true or false */
};

struct key {
	const char *name;
	enum key_type type;
	size_t offset;
	const char *def;   /* the default, written as in a file; NULL: unset */
	long long min, max;
	const char *const *choices;
};

static const char *const transport_names[] = {"maildir", "smtp", NULL};
static const char *const tls_names[] = {"auto", "required", "opportunistic",
					"none", NULL};
static const char *const level_names[] = {"debug", "info", "warn", "error",
					  NULL};
static const char *const target_names[] = {"stderr", "syslog", NULL};

#define F(field) offsetof(struct conf, field)
#define DAY (86400000LL)

/* The one table of keys: name, type, where it goes, default and bounds. */
/* "'pigeon' is not one of: maildir, smtp" */
static int choice_error(const struct key *k, const char *v, const char *file,
			int line, struct error *err)
{
	struct sbuf allowed = SBUF_INIT;
	int rc;

	for (const char *const *c = k->choices; *c; c++)
		sbuf_addf(&allowed, "%s%s", c == k->choices ? "" : ", ", *c);
	rc = error_set(err, ERR_CONFIG, "%s:%d: key '%s': '%s' is not one of: %s",
		       file, line, k->name, v, allowed.buf);
	sbuf_release(&allowed);
	return rc;
}

static const struct key keys[] = {
	{"database.path", K_PATH, F(database), "/var/lib/chancery/chancery.db"},
	{"database.busy_timeout", K_DURATION, F(busy_timeout_ms), "5s", 0, DAY},
	{"timezone", K_STRING, F(timezone), "UTC"},
	{"sender.name", K_STRING, F(sender.name), "chancery"},
	{"sender.address", K_STRING, F(sender.address), "chancery@localhost"},
	{"sender.organization", K_STRING, F(sender.organization), NULL},
	{"sender.reply_to", K_STRING, F(sender.reply_to), NULL},
	{"transport.kind", K_CHOICE, F(transport), "maildir", 0, 0,
	 transport_names},
	{"transport.maildir.path", K_PATH, F(outbox), "/var/spool/chancery/outbox"},
	{"transport.smtp.host", K_STRING, F(smtp.host), "localhost"},
	{"transport.smtp.port", K_INT, F(smtp.port), "587", 1, 65535},
	{"transport.smtp.tls", K_CHOICE, F(smtp.tls), "auto", 0, 0, tls_names},
	{"transport.smtp.ca_file", K_PATH, F(smtp.ca_file), NULL},
	{"transport.smtp.user", K_STRING, F(smtp.user), NULL},
	{"transport.smtp.password_file", K_PATH, F(smtp.password_file), NULL},
	{"transport.smtp.password", K_SECRET, F(smtp.password), NULL},
	{"transport.smtp.helo", K_STRING, F(smtp.helo), NULL},
	{"transport.smtp.connect_timeout", K_DURATION,
	 F(smtp.connect_timeout_ms), "30s", 100, DAY},
	{"transport.smtp.command_timeout", K_DURATION,
	 F(smtp.command_timeout_ms), "5m", 100, DAY},
	{"queue.workers", K_INT, F(queue.workers), "4", 1, 64},
	{"queue.messages_per_connection", K_INT,
	 F(queue.messages_per_connection), "1000", 1, 1000000},
	{"queue.rate_per_minute", K_INT, F(queue.rate_per_minute), "0", 0,
	 100000000},
	{"queue.retry.first", K_DURATION, F(queue.retry_first_ms), "5m", 1000,
	 30 * DAY},
	{"queue.retry.factor", K_FLOAT, F(queue.retry_factor), "2.0", 1, 100},
	{"queue.retry.max", K_DURATION, F(queue.retry_max_ms), "4h", 1000,
	 30 * DAY},
	{"queue.lifetime", K_DURATION, F(queue.lifetime_ms), "5d", 1000,
	 365 * DAY},
	{"queue.lease", K_DURATION, F(queue.lease_ms), "10m", 1000, DAY},
	{"queue.batch_size", K_INT, F(queue.batch_size), "200", 1, 100000},
	{"queue.commit_interval", K_DURATION, F(queue.commit_interval_ms),
	 "250ms", 1, 60000},
	{"log.target", K_CHOICE, F(log_target), "stderr", 0, 0, target_names},
	{"log.level", K_CHOICE, F(log_level), "info", 0, 0, level_names},
	{"daemon.pid_file", K_PATH, F(pid_file), "/run/chancery/chanceryd.pid"},
	/* how long before a campaign's send time the daemon starts warning
	 * that it is not scheduled yet; 0: no reminders (missed still is) */
	{"campaign.remind", K_DURATION, F(campaign.remind_ms), "7d", 0,
	 300 * DAY},
	{"bounce.threshold", K_INT, F(bounce_threshold), "2", 1, 1000},
	/* VERP: the envelope sender becomes local+ENVID@domain */
	{"bounce.address", K_STRING, F(bounce.address), NULL},
	/* the classes that count toward bouncing, comma-separated */
	{"bounce.count_classes", K_STRING, F(bounce.count_classes), "address"},
	{"bounce.blocked_threshold", K_INT, F(bounce.blocked_threshold), "3",
	 1, 1000},
	{"bounce.blocked_window", K_DURATION, F(bounce.blocked_window_ms),
	 "7d", 60000, 365 * DAY},
	/* 25 MB: what relays commonly accept; 64 KB..1 GB */
	{"message.max_size", K_INT, F(message_max_size), "26214400", 65536,
	 1073741824},
	{"notify.to", K_ADDRESSES, F(notify), NULL},
	/* 0: schedule approves; 1 or 2 distinct approvers before it */
	{"campaign.approvals", K_INT, F(campaign.approvals), "0", 0, 2},
	{"campaign.four_eyes", K_BOOL, F(campaign.four_eyes), "false"},
	/* the IMAP mailbox read by `bounce --imap` and the daemon (imap.h) */
	{"inbox.imap_url", K_STRING, F(imap.url), NULL},
	{"inbox.imap_user", K_STRING, F(imap.user), NULL},
	{"inbox.imap_password_file", K_PATH, F(imap.password_file), NULL},
	{"inbox.imap_password", K_SECRET, F(imap.password), NULL},
	{"inbox.imap_ca_file", K_PATH, F(imap.ca_file), NULL},
	{"inbox.imap_timeout", K_DURATION, F(imap.timeout_ms), "30s", 1000,
	 3600000},
	/* a Maildir the daemon reads too, as `inbox --maildir` does */
	{"inbox.maildir", K_PATH, F(imap.maildir), NULL},
	/* how often the daemon reads the mailbox and the Maildir; 0: never */
	{"inbox.interval", K_DURATION, F(imap.interval_ms), "5m", 0, DAY},
	/* language variants: checked and made canonical in check_language */
	{"language.default", K_STRING, F(language.default_lang), "en"},
	{"campaign.language", K_STRING, F(language.campaign), NULL},
	{"language.fallback", K_STRING, F(language.fallback), NULL},
	/* a relay that is down: tried again after first, then twice as
	 * long each time up to max (relay.h) */
	{"relay.retry.first", K_DURATION, F(relay.retry_first_ms), "30s", 1000,
	 DAY},
	{"relay.retry.max", K_DURATION, F(relay.retry_max_ms), "15m", 1000,
	 DAY},
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

const char *conf_transport_name(enum transport_kind kind)
{
	return transport_names[kind];
}

const char *conf_tls_name(enum tls_mode mode)
{
	return tls_names[mode];
}

static void *field(struct conf *cfg, const struct key *k)
{
	return (char *)cfg + k->offset;
}

static const void *cfield(const struct conf *cfg, const struct key *k)
{
	return (const char *)cfg + k->offset;
}

static bool is_string_type(enum key_type t)
{
	return t == K_STRING || t == K_PATH || t == K_SECRET;
}

/* Parses "250ms", "30s", "5m", "4h", "5d" or a bare number of seconds. */
static int parse_duration(const char *s, int64_t *ms)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = {{"ms", 1},        {"s", 1000},       {"", 1000},
		     {"m", 60000},     {"h", 3600000},    {"d", 86400000}};
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || v < 0 || !isdigit((unsigned char)*s))
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) == 0) {
			if (v * (double)units[i].ms > 9.0e15)
				return -1;
			*ms = (int64_t)(v * (double)units[i].ms + 0.5);
			return 0;
		}
	}
	return -1;
}

static int choice_index(const struct key *k, const char *s)
{
	for (int i = 0; k->choices[i]; i++)
		if (strcmp(k->choices[i], s) == 0)
			return i;
	return -1;
}

static void set_string(struct conf *cfg, const struct key *k, const char *v,
		       const char *base_dir)
{
	char **slot = field(cfg, k);

	free(*slot);
	if (v && k->type == K_PATH && v[0] != '/' && base_dir)
		*slot = xasprintf("%s/%s", base_dir, v);
	else
		*slot = xstrdup(v);
}

/* Stores a value given as text (the defaults; strings from the file). */
static int set_from_text(struct conf *cfg, const struct key *k,
			 const char *v, const char *base_dir)
{
	int64_t ms;
	char *end;

	if (is_string_type(k->type)) {
		set_string(cfg, k, v, base_dir);
		return 0;
	}
	switch (k->type) {
	case K_INT:
		*(int *)field(cfg, k) = (int)strtol(v, &end, 10);
		return 0;
	case K_FLOAT:
		*(double *)field(cfg, k) = strtod(v, &end);
		return 0;
	case K_DURATION:
		if (parse_duration(v, &ms) != 0)
			return -1;
		if (ms < k->min || ms > k->max)
			return -2;
		*(int64_t *)field(cfg, k) = ms;
		return 0;
	case K_CHOICE:
		if (choice_index(k, v) < 0)
			return -1;
		*(int *)field(cfg, k) = choice_index(k, v);
		return 0;
	case K_BOOL:
		if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
			return -1;
		*(bool *)field(cfg, k) = strcmp(v, "true") == 0;
		return 0;
	default:
		return -1;
	}
}

/*
 * "address, mailbox" → the mask of those classes (1u << class); the
 * first name that is no class in *bad (caller frees). -1 then.
 */
static int classes_mask(const char *text, unsigned *mask, char **bad)
{
	const char *p = text;

	*mask = 0;
	*bad = NULL;
	while (*p) {
		size_t n = strcspn(p, ",");
		char *name;
		enum bounce_class c;
		size_t a = 0, b = n;

		while (a < b && isspace((unsigned char)p[a]))
			a++;
		while (b > a && isspace((unsigned char)p[b - 1]))
			b--;
		name = xstrndup(p + a, b - a);
		if (bounce_class_parse(name, &c) != 0) {
			*bad = name;
			return -1;
		}
		*mask |= 1u << c;
		free(name);
		p += n + (p[n] == ',');
	}
	return 0;
}

void conf_init(struct conf *cfg)
{
	char *bad = NULL;

	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].def)
			set_from_text(cfg, &keys[i], keys[i].def, NULL);
	classes_mask(cfg->bounce.count_classes, &cfg->bounce.count_mask, &bad);
	free(bad);
}

/* bounce.address: an address with a local part VERP can extend (no '+'
 * of its own: the token follows the first one); bounce.count_classes:
 * class names. */
static int check_bounce(struct conf *cfg, struct error *err)
{
	const char *a = cfg->bounce.address;
	char *bad = NULL;
	struct error why = ERROR_INIT;

	if (a && (address_check(a, &why) || strchr(a, '+') ||
		  strchr(a, '"')))
		return error_set(err, ERR_CONFIG, "%s: key 'bounce.address': "
				 "'%s' is %s", cfg->path, a,
				 why.msg[0] ? why.msg
					    : "not usable for VERP (a '+' or "
					      "a quoted local part)");
	if (classes_mask(cfg->bounce.count_classes, &cfg->bounce.count_mask,
			 &bad)) {
		int rc = error_set(err, ERR_CONFIG, "%s: key "
				   "'bounce.count_classes': '%s' is not one "
				   "of: unknown, address, mailbox, policy, "
				   "message, expired, temporary",
				   cfg->path, bad);

		free(bad);
		return rc;
	}
	return 0;
}

void conf_release(struct conf *cfg)
{
	for (size_t i = 0; i < NKEYS; i++) {
		if (is_string_type(keys[i].type)) {
			char **slot = field(cfg, &keys[i]);

			if (keys[i].type == K_SECRET && *slot)
				explicit_bzero(*slot, strlen(*slot));
			free(*slot);
			*slot = NULL;
		}
	}
	for (size_t i = 0; i < cfg->notify.nto; i++)
		free(cfg->notify.to[i]);
	free(cfg->notify.to);
	cfg->notify.to = NULL;
	cfg->notify.nto = 0;
	free(cfg->path);
	cfg->path = NULL;
}

/* The install's sysconfdir (CMAKE_INSTALL_FULL_SYSCONFDIR): /etc for the
 * prefix /usr, PREFIX/etc otherwise. */
#ifndef CHANCERY_SYSCONFDIR
#define CHANCERY_SYSCONFDIR "/etc"
#endif

const char *conf_system_path(void)
{
	return CHANCERY_SYSCONFDIR "/chancery/chancery.conf";
}

const char *conf_default_path(void)
{
	const char *env = getenv("CHANCERY_CONFIG");

	if (env && *env)
		return env;
	if (access(conf_system_path(), F_OK) == 0)
		return conf_system_path();
	return NULL;
}

static const struct key *find_key(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* True when name is a group that holds known keys ("queue", "queue.retry"). */
static bool is_known_group(const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < NKEYS; i++)
		if (strncmp(keys[i].name, name, len) == 0 &&
		    keys[i].name[len] == '.')
			return true;
	return false;
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins)
					   : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(size_t));
	}
	return prev[lb];
}

static int unknown_key(const char *file, int line, const char *name,
		       struct error *err)
{
	const char *best = NULL;
	size_t best_d = 3;

	for (size_t i = 0; i < NKEYS; i++) {
		size_t d = edit_distance(name, keys[i].name);

		if (d < best_d) {
			best_d = d;
			best = keys[i].name;
		}
	}
	if (best)
		return error_set(err, ERR_CONFIG,
				 "%s:%d: unknown key '%s' (did you mean '%s'?)",
				 file, line, name, best);
	return error_set(err, ERR_CONFIG, "%s:%d: unknown key '%s'", file, line,
			 name);
}

static const char *type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP: return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a number";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array";
	case CONFIG_TYPE_LIST: return "a list";
	default: return "a value";
	}
}

static const char *wanted_name(const struct key *k)
{
	switch (k->type) {
	case K_INT: return "an integer";
	case K_FLOAT: return "a number";
	case K_DURATION: return "a duration such as \"30s\" or a number of seconds";
	case K_CHOICE: return "one of the names listed in chancery.conf(5)";
	case K_ADDRESSES: return "a list of e-mail addresses";
	case K_BOOL: return "true or false";
	default: return "a string";
	}
}

/*
 * A list of addresses: ["a@x", "b@y"] (or one string), each checked with
 * address_check; the list replaces the one before.
 */
static int apply_addresses(struct conf *cfg, const struct key *k,
			   const config_setting_t *s, const char *file,
			   struct error *err)
{
	struct conf_notify *list = field(cfg, k), fresh = {NULL, 0};
	int type = config_setting_type(s);
	int n = type == CONFIG_TYPE_STRING ? 1 : config_setting_length(s);
	int rc = 0;

	if (type != CONFIG_TYPE_STRING && type != CONFIG_TYPE_ARRAY &&
	    type != CONFIG_TYPE_LIST)
		return error_set(err, ERR_CONFIG, "%s:%d: key '%s': expected "
				 "%s, got %s", file,
				 config_setting_source_line(s), k->name,
				 wanted_name(k), type_name(type));
	fresh.to = xcalloc((size_t)n + 1, sizeof(char *));
	for (int i = 0; i < n && !rc; i++) {
		const config_setting_t *e = type == CONFIG_TYPE_STRING
			? s : config_setting_get_elem(s, (unsigned)i);
		const char *v = config_setting_get_string(e);
		struct error why = ERROR_INIT;

		if (!v || !*v || utf8_has_control(v) || address_check(v, &why))
			rc = error_set(err, ERR_CONFIG, "%s:%d: key '%s': %s",
				       file, config_setting_source_line(e),
				       k->name, v ? (why.msg[0] ? why.msg
						    : "an empty value or a "
						      "control character")
						  : "expected a string");
		else
			fresh.to[fresh.nto++] = xstrdup(v);
	}
	if (rc) {
		for (size_t i = 0; i < fresh.nto; i++)
			free(fresh.to[i]);
		free(fresh.to);
		return rc;
	}
	for (size_t i = 0; i < list->nto; i++)
		free(list->to[i]);
	free(list->to);
	*list = fresh;
	return 0;
}

/* Applies one setting of the file to cfg after checking type and bounds. */
static int apply(struct conf *cfg, const struct key *k,
		 const config_setting_t *s, const char *file, const char *dir,
		 struct error *err)
{
	int type = config_setting_type(s);
	int line = config_setting_source_line(s);
	long long iv;
	int rc = 0;

	if (k->type == K_ADDRESSES)
		return apply_addresses(cfg, k, s, file, err);
	if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64) {
		iv = config_setting_get_int64(s);
		if (k->type == K_INT) {
			if (iv < k->min || iv > k->max)
				return error_set(err, ERR_CONFIG,
						 "%s:%d: key '%s': %lld is out of "
						 "range %lld..%lld",
						 file, line, k->name, iv, k->min,
						 k->max);
			*(int *)field(cfg, k) = (int)iv;
			return 0;
		}
		if (k->type == K_FLOAT) {
			*(double *)field(cfg, k) = (double)iv;
			goto float_bounds;
		}
		if (k->type == K_DURATION) {
			char text[32];

			snprintf(text, sizeof(text), "%lld", iv);
			rc = set_from_text(cfg, k, text, dir);
			goto duration_result;
		}
	} else if (type == CONFIG_TYPE_BOOL && k->type == K_BOOL) {
		*(bool *)field(cfg, k) = config_setting_get_bool(s) != 0;
		return 0;
	} else if (type == CONFIG_TYPE_FLOAT && k->type == K_FLOAT) {
		*(double *)field(cfg, k) = config_setting_get_float(s);
		goto float_bounds;
	} else if (type == CONFIG_TYPE_STRING &&
		   (is_string_type(k->type) || k->type == K_DURATION ||
		    k->type == K_CHOICE)) {
		const char *v = config_setting_get_string(s);

		if (!*v || utf8_has_control(v))
			return error_set(err, ERR_CONFIG,
					 "%s:%d: key '%s': the value is empty "
					 "or holds a control character",
					 file, line, k->name);
		rc = set_from_text(cfg, k, v, dir);
		if (k->type == K_CHOICE && rc)
			return choice_error(k, v, file, line, err);
		goto duration_result;
	}
	return error_set(err, ERR_CONFIG, "%s:%d: key '%s': expected %s, got %s",
			 file, line, k->name, wanted_name(k), type_name(type));

float_bounds:
	if (*(double *)field(cfg, k) < (double)k->min ||
	    *(double *)field(cfg, k) > (double)k->max)
		return error_set(err, ERR_CONFIG,
				 "%s:%d: key '%s': out of range %lld..%lld", file,
				 line, k->name, k->min, k->max);
	return 0;
duration_result:
	if (rc == -1)
		return error_set(err, ERR_CONFIG,
				 "%s:%d: key '%s': expected %s", file, line,
				 k->name, wanted_name(k));
	if (rc == -2)
		return error_set(err, ERR_CONFIG,
				 "%s:%d: key '%s': duration out of range", file,
				 line, k->name);
	return 0;
}

static int walk(struct conf *cfg, const config_setting_t *group,
		const char *prefix, const char *file, const char *dir,
		struct error *err)
{
	int n = config_setting_length(group);

	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		char *name = prefix ? xasprintf("%s.%s", prefix, config_setting_name(s))
				    : xstrdup(config_setting_name(s));
		int line = config_setting_source_line(s);
		const struct key *k = find_key(name);
		int rc;

		if (config_setting_is_group(s) && is_known_group(name))
			rc = walk(cfg, s, name, file, dir, err);
		else if (k && config_setting_is_group(s))
			rc = error_set(err, ERR_CONFIG,
				       "%s:%d: key '%s': expected %s, got a group",
				       file, line, name, wanted_name(k));
		else if (k)
			rc = apply(cfg, k, s, file, dir, err);
		else
			rc = unknown_key(file, line, name, err);
		free(name);
		if (rc)
			return rc;
	}
	return 0;
}

/* A secret must be ours (or root's) and not readable by anyone else. */
static int check_private(const char *path, const char *what, struct error *err)
{
	struct stat st;
	uid_t me = geteuid();

	if (stat(path, &st) != 0)
		return error_set_errno(err, ERR_NOINPUT, "%s: cannot read %s", path,
				       what);
	if (st.st_mode & 077)
		return error_set(err, ERR_CONFIG,
				 "%s: %s is readable by others (mode %04o); "
				 "chmod 600 it",
				 path, what, (unsigned)(st.st_mode & 07777));
	if (me != 0 && st.st_uid != me && st.st_uid != 0)
		return error_set(err, ERR_CONFIG,
				 "%s: %s belongs to uid %lld, not to us (uid "
				 "%lld); chown it",
				 path, what, (long long)st.st_uid,
				 (long long)me);
	return 0;
}

int conf_read_password(const char *path, char **password, struct error *err)
{
	struct sbuf sb = SBUF_INIT;
	char *nl;
	int rc = check_private(path, "the password file", err);

	*password = NULL;
	if (!rc)
		rc = sbuf_read_file(&sb, path, 4096, err);
	if (rc)
		goto out;
	nl = strpbrk(sb.buf, "\r\n");
	if (nl)
		sbuf_setlen(&sb, (size_t)(nl - sb.buf));
	if (!sb.len) {
		rc = error_set(err, ERR_CONFIG, "%s: the password file is empty",
			       path);
		goto out;
	}
	*password = sbuf_detach(&sb, NULL);
out:
	if (sb.len)
		explicit_bzero(sb.buf, sb.len);
	sbuf_release(&sb);
	return rc;
}

/* *tag as a canonical BCP 47 tag in place; false when it is none. */
static bool canonical_tag(char **tag)
{
	char *c;

	if (!*tag)
		return true;
	/* a tag, not a language's name: "French" is not accepted here */
	if (strspn(*tag, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789-") != strlen(*tag) ||
	    !(c = locale_language_parse(*tag)))
		return false;
	free(*tag);
	*tag = c;
	return true;
}

/* language.default, campaign.language: tags; language.fallback: a list
 * of FROM=TO pairs of tags, rewritten canonical. */
static int check_language(struct conf *cfg, struct error *err)
{
	struct conf_language *l = &cfg->language;
	struct sbuf out = SBUF_INIT;
	const char *p = l->fallback;
	int rc = 0;

	if (!canonical_tag(&l->default_lang))
		return error_set(err, ERR_CONFIG, "%s: key 'language.default': "
				 "'%s' is not a BCP 47 language tag",
				 cfg->path, l->default_lang);
	if (!canonical_tag(&l->campaign))
		return error_set(err, ERR_CONFIG, "%s: key 'campaign.language': "
				 "'%s' is not a BCP 47 language tag",
				 cfg->path, l->campaign);
	while (p && *p && !rc) {
		size_t len = strcspn(p, ",");
		char *entry = xstrndup(p, len), *eq = strchr(entry, '=');
		struct sbuf a = SBUF_INIT, b = SBUF_INIT;

		if (eq) {
			sbuf_add(&a, entry, (size_t)(eq - entry));
			sbuf_trim(&a);
			sbuf_addstr(&b, eq + 1);
			sbuf_trim(&b);
		}
		{
			char *x = eq ? xstrdup(a.buf) : NULL;
			char *y = eq ? xstrdup(b.buf) : NULL;

			if (!eq || !canonical_tag(&x) || !canonical_tag(&y) ||
			    !x || !y)
				rc = error_set(err, ERR_CONFIG, "%s: key "
					       "'language.fallback': '%s' is "
					       "not FROM=TO with two BCP 47 "
					       "language tags", cfg->path,
					       entry);
			else
				sbuf_addf(&out, "%s%s=%s", out.len ? ", " : "",
					  x, y);
			free(x);
			free(y);
		}
		sbuf_release(&a);
		sbuf_release(&b);
		free(entry);
		p += len;
		if (*p)
			p++;
	}
	if (!rc && l->fallback) {
		free(l->fallback);
		l->fallback = sbuf_detach(&out, NULL);
	}
	sbuf_release(&out);
	return rc;
}

/* A password given inline or in a file (not both), and a user with it:
 * the relay's (transport.smtp.) and the mailbox's (inbox.imap_). */
static int check_password(struct conf *cfg, char **password,
			  const char *file, const char *user,
			  const char *prefix, struct error *err)
{
	int rc;

	if (*password && file)
		return error_set(err, ERR_CONFIG,
				 "%s: set %spassword or %spassword_file, not "
				 "both",
				 cfg->path, prefix, prefix);
	if (*password) {
		rc = check_private(cfg->path, "a configuration that holds a "
					      "password",
				   err);
		if (rc)
			return rc;
	}
	if (file) {
		rc = conf_read_password(file, password, err);
		if (rc)
			return rc;
	}
	if (*password && !user)
		return error_set(err, ERR_CONFIG,
				 "%s: a password is set but %suser is not",
				 cfg->path, prefix);
	return 0;
}

/* Checks that span keys: secrets, time zone, retry delays. */
static int check_whole(struct conf *cfg, struct error *err)
{
	int rc;

	rc = check_password(cfg, &cfg->smtp.password, cfg->smtp.password_file,
			    cfg->smtp.user, "transport.smtp.", err);
	if (!rc)
		rc = check_password(cfg, &cfg->imap.password,
				    cfg->imap.password_file, cfg->imap.user,
				    "inbox.imap_", err);
	if (rc)
		return rc;
	if (!clock_zone_valid(cfg->timezone))
		return error_set(err, ERR_CONFIG,
				 "%s: key 'timezone': unknown time zone '%s'",
				 cfg->path, cfg->timezone);
	if (cfg->queue.retry_first_ms > cfg->queue.retry_max_ms)
		return error_set(err, ERR_CONFIG,
				 "%s: queue.retry.first is longer than "
				 "queue.retry.max",
				 cfg->path);
	rc = check_language(cfg, err);
	return rc ? rc : check_bounce(cfg, err);
}

/*
 * Reads the file ourselves so that a NUL byte or invalid UTF-8 is refused
 * with its line before libconfig sees it (its scanner leaks on some such
 * inputs, found by fuzzing).
 */
static int read_text(const char *path, struct sbuf *text, struct error *err)
{
	const char *nul;
	size_t bad = SIZE_MAX;
	unsigned line = 1;

	if (sbuf_read_file(text, path, 1 << 20, err)) {
		error_prefix(err, "configuration");
		err->code = ERR_CONFIG;
		return ERR_CONFIG;
	}
	nul = memchr(text->buf, '\0', text->len);
	if (!utf8_valid(text->buf, text->len, &bad))
		bad = bad < text->len ? bad : text->len;
	else
		bad = SIZE_MAX;
	if (nul && (size_t)(nul - text->buf) < bad)
		bad = (size_t)(nul - text->buf);
	if (bad == SIZE_MAX)
		return 0;
	for (size_t i = 0; i < bad; i++)
		line += text->buf[i] == '\n';
	return error_set(err, ERR_CONFIG,
			 "%s:%u: not UTF-8 text (a NUL or invalid byte)", path,
			 line);
}

int conf_load(struct conf *cfg, const char *path, struct error *err)
{
	struct conf fresh;
	struct sbuf text = SBUF_INIT;
	config_t lc;
	char *dir, *slash;
	int rc;

	conf_init(&fresh);
	config_init(&lc);
	fresh.path = xstrdup(path);
	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	if ((rc = read_text(path, &text, err)))
		goto out;
	config_set_include_dir(&lc, dir);
	if (!config_read_string(&lc, text.buf)) {
		rc = error_set(err, ERR_CONFIG, "%s:%d: %s", path,
			       config_error_line(&lc), config_error_text(&lc));
		goto out;
	}
	rc = walk(&fresh, config_root_setting(&lc), NULL, path, dir, err);
	if (!rc)
		rc = check_whole(&fresh, err);
out:
	config_destroy(&lc);
	sbuf_release(&text);
	free(dir);
	if (rc) {
		conf_release(&fresh);
		return rc;
	}
	conf_release(cfg);
	*cfg = fresh;
	return 0;
}

/* Writes a duration in the largest unit that divides it: "5s", "4h". */
static void add_duration(struct sbuf *out, int64_t ms)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000},
		     {"s", 1000}};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ms && ms % units[i].ms == 0) {
			sbuf_addf(out, "%lld%s", (long long)(ms / units[i].ms),
				  units[i].unit);
			return;
		}
	}
	sbuf_addf(out, "%lldms", (long long)ms);
}

/* The value of key k as text ("(set)" for a secret), NULL when unset;
 * *quoted says whether a config file writes it in quotes. */
static void value_text(const struct conf *cfg, const struct key *k,
		       struct sbuf *out, bool *quoted, bool *unset)
{
	const void *v = cfield(cfg, k);

	*quoted = false;
	*unset = false;
	switch (k->type) {
	case K_SECRET:
		sbuf_addstr(out, *(char *const *)v ? "(set)" : "(unset)");
		*unset = !*(char *const *)v;
		break;
	case K_STRING:
	case K_PATH:
		*unset = !*(char *const *)v;
		*quoted = !*unset;
		sbuf_addstr(out, *unset ? "(unset)" : *(char *const *)v);
		break;
	case K_INT:
		sbuf_addf(out, "%d", *(const int *)v);
		break;
	case K_FLOAT:
		sbuf_addf(out, "%g", *(const double *)v);
		break;
	case K_DURATION:
		add_duration(out, *(const int64_t *)v);
		*quoted = true;
		break;
	case K_CHOICE:
		sbuf_addstr(out, k->choices[*(const int *)v]);
		*quoted = true;
		break;
	case K_ADDRESSES: {
		const struct conf_notify *list = v;

		*unset = list->nto == 0;
		sbuf_addstr(out, *unset ? "(unset)" : "[");
		for (size_t i = 0; i < list->nto; i++)
			sbuf_addf(out, "%s\"%s\"", i ? ", " : "",
				  list->to[i]);
		if (!*unset)
			sbuf_addch(out, ']');
		break;
	}
	case K_BOOL:
		sbuf_addstr(out, *(const bool *)v ? "true" : "false");
		break;
	}
}

void conf_each(const struct conf *cfg, conf_value_fn fn, void *arg)
{
	struct sbuf text = SBUF_INIT;

	for (size_t i = 0; i < NKEYS; i++) {
		bool quoted, unset;

		sbuf_reset(&text);
		value_text(cfg, &keys[i], &text, &quoted, &unset);
		fn(keys[i].name, unset ? NULL : text.buf, quoted, arg);
	}
	sbuf_release(&text);
}

static void dump_line(const char *key, const char *value, bool quoted,
		      void *arg)
{
	struct sbuf *out = arg;

	if (!value)
		sbuf_addf(out, "%s = (unset)\n", key);
	else if (quoted)
		sbuf_addf(out, "%s = \"%s\"\n", key, value);
	else
		sbuf_addf(out, "%s = %s\n", key, value);
}

void conf_dump(const struct conf *cfg, struct sbuf *out)
{
	sbuf_addf(out, "# %s\n", cfg->path ? cfg->path : "(built-in defaults)");
	conf_each(cfg, dump_line, out);
}
