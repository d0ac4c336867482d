/*
 * conf: the configuration file (libconfig syntax), read once into one
 * struct that the rest of the program reads.
 *
 * Every key has a default, so an absent file or an empty one is valid.
 * Loading checks every setting against one table of keys: an unknown key,
 * a value of the wrong type or out of bounds is an error naming the file,
 * the line and the key. Relative paths are taken relative to the
 * directory of the configuration file. A file that holds a password must
 * not be readable by group or others, and neither may a password file.
 * Durations are written as "30s", "5m", "4h", "5d", "250ms" or a number of
 * seconds, and stored in milliseconds.
 */
#ifndef CHANCERY_CONF_H
#define CHANCERY_CONF_H

#include <stdbool.h>
#include <stdint.h>

#include "chancery/error.h"
#include "chancery/log.h"

enum transport_kind { TRANSPORT_MAILDIR, TRANSPORT_SMTP };

/* auto: required unless the relay is on loopback, where it is off. */
enum tls_mode { TLS_AUTO, TLS_REQUIRED, TLS_OPPORTUNISTIC, TLS_NONE };

struct conf_sender {
	char *name;          /* display name in From: */
	char *address;       /* envelope and From: address */
	char *organization;  /* Organization: header and sender.organization */
	char *reply_to;      /* Reply-To:, or NULL */
};

struct conf_smtp {
	char *host;
	int port;
	enum tls_mode tls;
	char *ca_file;       /* NULL: the system's trust store */
	char *user;          /* NULL: no AUTH */
	char *password_file;
	char *password;      /* read from password_file or given inline */
	char *helo;          /* NULL: the host name */
	int64_t connect_timeout_ms;
	int64_t command_timeout_ms;
};

struct conf_queue {
	int workers;                 /* parallel relay connections */
	int messages_per_connection;
	int rate_per_minute;         /* 0: no limit */
	int64_t retry_first_ms;      /* first retry delay */
	double retry_factor;         /* each later delay = previous * factor */
	int64_t retry_max_ms;        /* cap on one delay */
	int64_t lifetime_ms;         /* give up (expired) after this */
	int64_t lease_ms;            /* a claim older than this is recovered */
	int batch_size;              /* deliveries claimed at once */
	int64_t commit_interval_ms;  /* group commit at least this often */
};

/* notify: who hears of approvals, reminders, missed and finished
 * campaigns (notice.h); no address: nothing is sent. */
struct conf_notify {
	char **to;                   /* addresses, each checked at load */
	size_t nto;
};

/* Sign-off before a campaign is scheduled (campaign.h), and the warning
 * before an unscheduled one's send time (watch.h). */
struct conf_campaign {
	int approvals;     /* distinct approvers needed: 0, 1 or 2 */
	bool four_eyes;    /* the creator or last editor may not approve */
	int64_t remind_ms; /* warn this long before the send time (0: never) */
};

/* inbox.*: the IMAP mailbox chancery reads (imap.h), by `chancery
 * bounce --imap` and every interval by the daemon, and the Maildir the
 * daemon reads on the same interval. */
struct conf_imap {
	char *url;           /* NULL: no mailbox; the daemon polls nothing */
	char *user;
	char *password_file; /* mode 0600 or stricter, ours */
	char *password;      /* read from password_file or given inline */
	char *ca_file;       /* NULL: the system's trust store */
	int64_t timeout_ms;  /* connecting, and any wait for the server */
	int64_t interval_ms; /* the daemon's polls; 0: it does not poll */
	char *maildir;       /* inbox.maildir: a Maildir the daemon reads
				every interval too (inbox_read_maildir), or
				NULL */
};

/* Language variants (template.h): the language a template's default
 * variant is written in, the campaigns' default language, and the
 * fallbacks ("fr-CA=fr, de=fr") tried before ICU's parent locale. The
 * tags are canonical BCP 47 once loaded. */
struct conf_language {
	char *default_lang; /* language.default, "en" */
	char *campaign;     /* campaign.language, or NULL */
	char *fallback;     /* language.fallback, or NULL */
};

/* bounce: where reports come back and how they count (bounce.h,
 * inbox.h). */
struct conf_bounce {
	char *address;          /* VERP base "bounces@office.example", or NULL:
				   the envelope sender is sender.address */
	char *count_classes;    /* as written: "address,mailbox" */
	unsigned count_mask;    /* 1u << enum bounce_class, from the above */
	int blocked_threshold;  /* policy failures from one domain before
				   relay.blocked */
	int64_t blocked_window_ms; /* ... within this long */
};

/* relay: how chanceryd tries a relay that is down again (relay.h):
 * first, then twice as long each time, at most max. */
struct conf_relay {
	int64_t retry_first_ms;
	int64_t retry_max_ms;
};

struct conf {
	char *path;                  /* the file read, or NULL for defaults */
	char *database;
	int64_t busy_timeout_ms;
	char *timezone;              /* default zone for campaigns */
	struct conf_sender sender;
	enum transport_kind transport;
	char *outbox;                /* maildir transport */
	struct conf_smtp smtp;
	struct conf_queue queue;
	enum log_target log_target;
	enum log_level log_level;
	char *pid_file;
	int bounce_threshold;        /* campaigns in a row before bouncing */
	int message_max_size;        /* bytes: a rendered message may not pass it */
	struct conf_notify notify;
	struct conf_campaign campaign;
	struct conf_imap imap;
	struct conf_language language;
	struct conf_bounce bounce;
	struct conf_relay relay;
};

/* Fills cfg with the defaults. */
void conf_init(struct conf *cfg);
void conf_release(struct conf *cfg);

/*
 * Reads path over the defaults already in cfg. On error cfg keeps the
 * defaults and err names the file, the line and the key.
 */
int conf_load(struct conf *cfg, const char *path, struct error *err);

/*
 * The file to read when none is named: $CHANCERY_CONFIG, else
 * conf_system_path() if it exists, else NULL (defaults only).
 */
const char *conf_default_path(void);
/* SYSCONFDIR/chancery/chancery.conf of the install (/etc/chancery/... for
 * the prefix /usr, PREFIX/etc/chancery/... otherwise). */
const char *conf_system_path(void);

/* Writes the effective configuration, one "key = value" line each, with
 * the password shown as "(set)". For `chancery config show`. */
struct sbuf;
void conf_dump(const struct conf *cfg, struct sbuf *out);

/* Calls fn for every key with its effective value as text (NULL when
 * unset; a secret is "(set)"); quoted: a config file quotes it. */
typedef void (*conf_value_fn)(const char *key, const char *value,
			      bool quoted, void *arg);
void conf_each(const struct conf *cfg, conf_value_fn fn, void *arg);

/*
 * Reads a password file: the first line, which must not be empty, from a
 * file that is ours and not readable by group or others (ERR_CONFIG
 * otherwise, naming the file and its mode or owner). *password is the caller's
 * (explicit_bzero it before freeing).
 */
int conf_read_password(const char *path, char **password, struct error *err);

const char *conf_transport_name(enum transport_kind kind);
const char *conf_tls_name(enum tls_mode mode);

#endif
