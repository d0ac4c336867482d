/*
 * bounce_report: what a delivery report that came back says.
 *
 * bounce_report_parse reads one message with GMime and understands
 *  - RFC 3464 DSNs (multipart/report; report-type=delivery-status) and
 *    their real-world deviations: non-standard Action values, comments in
 *    Status, a Status missing or generic where the Diagnostic-Code says
 *    more, Original-Recipient when Final-Recipient is no address, groups
 *    without blank lines between them, DSN fields in a text/plain part;
 *  - the plain-text notices of Postfix, Exim (failures and delay
 *    warnings), qmail, Yahoo, Gmail, Google Groups, old Sendmail,
 *    Exchange / Office 365, DragonFly (dma), Amazon SES and WorkMail,
 *    Lotus Notes and IMail (lib/bounce_text.c);
 *  - the X-Failed-Recipients header when nothing else names a recipient.
 * Recipients are bare addresses (domain lower-cased, local part as
 * given), never taken from a diagnostic line (MAIL FROM / RCPT TO echoes)
 * nor from the report's own header; pipes, paths and words without @ are
 * dropped. Each gets a class (bounce_classify). The original Message-ID
 * and the X-Chancery-Delivery header chancery writes are taken from any
 * message/rfc822, text/rfc822-headers or message/rfc822-headers part,
 * however nested, else from headers a text part quotes. docs/bounces.md
 * lists the formats and the rules.
 *
 * Only the message is read here: no database. Applying a report to the
 * deliveries it names is bounce_process's (bounce.h).
 */
#ifndef CHANCERY_BOUNCE_REPORT_H
#define CHANCERY_BOUNCE_REPORT_H

#include <stddef.h>

#include "chancery/error.h"
#include "chancery/sha256.h"

/* Reports larger than this are refused before parsing. */
#define BOUNCE_MAX_SIZE (16u * 1024 * 1024)

/*
 * Which mail system wrote the report (docs/bounces.md describes each).
 * The names are stored in bounce_reports.format; new ones may be added at
 * the end, never renamed.
 */
enum bounce_format {
	BOUNCE_FORMAT_DSN,      /* RFC 3464 multipart/report */
	BOUNCE_FORMAT_POSTFIX,  /* plain-text Postfix notice */
	BOUNCE_FORMAT_EXIM,
	BOUNCE_FORMAT_EXCHANGE, /* Exchange / Office 365 NDR text */
	BOUNCE_FORMAT_QMAIL,    /* "Hi. This is the qmail-send program" */
	BOUNCE_FORMAT_YAHOO,    /* qmail-like "<addr>:" paragraphs */
	BOUNCE_FORMAT_GMAIL,    /* Gmail's plain-text notice */
	BOUNCE_FORMAT_GOOGLE_GROUPS,
	BOUNCE_FORMAT_SENDMAIL, /* old "----- The following addresses had" */
	BOUNCE_FORMAT_DRAGONFLY, /* dma, the DragonFly Mail Agent */
	BOUNCE_FORMAT_AMAZON_SES,
	BOUNCE_FORMAT_AMAZON_WORKMAIL,
	BOUNCE_FORMAT_NOTES,    /* Lotus / HCL Notes */
	BOUNCE_FORMAT_IMAIL,    /* Ipswitch / Progress IMail */
	BOUNCE_FORMAT_X_FAILED_RECIPIENTS, /* only that header names them */
	BOUNCE_FORMAT_OPENSMTPD, /* "This is the MAILER-DAEMON, ..." */
	BOUNCE_FORMAT_DOMINO,   /* HCL Domino "was not delivered to:" */
	BOUNCE_FORMAT_GMX,      /* GMX and WEB.DE: Exim wording, own layout */
	BOUNCE_FORMAT_ZOHO,     /* Zoho Mail "addr ..., ERROR_CODE :" */
	BOUNCE_FORMAT_MAILFOUNDRY, /* "Unable to deliver message to:" */
	BOUNCE_FORMAT_MAILRU,   /* Mail.ru: Exim's layout */
	BOUNCE_FORMAT_BIGLOBE,  /* Sendmail-like, "Non-delivered information" */
	BOUNCE_FORMAT_ACTIVEHUNTER, /* QUALITIA Active!hunter */
	BOUNCE_FORMAT_AUTO_DSN, /* "This is an automatically generated DSN" */
	BOUNCE_FORMAT_MFILTER,  /* Digital Arts m-FILTER */
	BOUNCE_FORMAT_ONEANDONE, /* 1&1 / IONOS: Exim wording, own layout */
	BOUNCE_FORMAT_KDDI,     /* au by KDDI "Could not be delivered to:" */
	BOUNCE_FORMAT_MAILMARSHAL, /* Trustwave MailMarshal */
	BOUNCE_FORMAT_SMAIL,    /* Smail 3, Deutsche Telekom (T-Online) */
	BOUNCE_FORMAT_MESSAGING_SERVER, /* Oracle (Sun) Messaging Server */
	BOUNCE_FORMAT_YANDEX,   /* Yandex.Mail: Postfix's layout */
	BOUNCE_FORMAT_EZWEB,    /* au EZweb (KDDI's mobile mail) */
	BOUNCE_FORMAT_COUNT
};
/* "dsn", "postfix", "exim", "exchange", "qmail", "yahoo", "gmail",
 * "google_groups", "sendmail", "dragonfly", "amazon_ses",
 * "amazon_workmail", "notes", "imail", "x_failed_recipients",
 * "opensmtpd", "domino", "gmx", "zoho", "mailfoundry", "mailru", "biglobe",
 * "activehunter", "auto_dsn_text", "mfilter", "1and1", "kddi",
 * "mailmarshal", "smail", "messaging_server", "yandex", "ezweb"; NULL
 * out of range. */
const char *bounce_format_name(enum bounce_format f);
/* The format of that name ("dsn", "postfix", ...; case matters); 0 or -1. */
int bounce_format_parse(const char *name, enum bounce_format *out);

enum bounce_action {
	BOUNCE_FAILED,
	BOUNCE_DELAYED,
	BOUNCE_DELIVERED,
	BOUNCE_RELAYED,
	BOUNCE_EXPANDED,
};
const char *bounce_action_name(enum bounce_action a);
/* Case-insensitive RFC 3464 action name; 0 or -1. The parser reads the
 * non-standard values some MTAs write through bounce_report_parse, not
 * through this. */
int bounce_action_parse(const char *name, enum bounce_action *out);

/*
 * Why a recipient failed, from its status code and diagnostic (the table
 * is bounce_classify's, documented in docs/bounces.md). Only some classes
 * say the address itself is wrong; the others are about the office's
 * mail, the mailbox or the message, and must not count against the
 * addressee.
 */
enum bounce_class {
	BOUNCE_CLASS_UNKNOWN,   /* nothing says which */
	BOUNCE_CLASS_ADDRESS,   /* user unknown, host unknown, moved */
	BOUNCE_CLASS_MAILBOX,   /* full, disabled, over quota */
	BOUNCE_CLASS_POLICY,    /* blocked, spam, policy, authentication */
	BOUNCE_CLASS_MESSAGE,   /* too large, content refused */
	BOUNCE_CLASS_EXPIRED,   /* gave up retrying */
	BOUNCE_CLASS_TEMPORARY, /* a delay: will be retried */
	BOUNCE_CLASS_COUNT
};
/* "unknown", "address", "mailbox", "policy", "message", "expired",
 * "temporary"; NULL out of range. */
const char *bounce_class_name(enum bounce_class c);
/* The class of that name; 0 or -1. */
int bounce_class_parse(const char *name, enum bounce_class *out);

/*
 * The class of one recipient's outcome from its status code ("5.1.1" or
 * NULL), its diagnostic text (or NULL) and its action. Delayed is always
 * temporary; delivered, relayed and expanded are unknown (no failure).
 * For a failure: a specific status code beats a diagnostic phrase, which
 * beats a generic code (x.0.0, or a subject's default). The tables are in
 * lib/bounce_class.c and docs/bounces.md.
 */
enum bounce_class bounce_classify(const char *status, const char *diagnostic,
				  enum bounce_action action);

struct bounce_recipient {
	enum bounce_action action;
	enum bounce_class klass;  /* why, when it failed or was delayed */
	char *final_recipient;    /* bare address, or NULL when unknown */
	char *original_recipient; /* bare address, or NULL */
	char *status;             /* "5.1.1", or NULL */
	char *diagnostic;         /* "smtp; 550 5.1.1 ...", unfolded, or NULL */
};
/* Frees the strings of a recipient the caller filled in itself. */
void bounce_recipient_release(struct bounce_recipient *r);

/* A parsed report; every string is owned by it (bounce_report_free). */
struct bounce_report {
	enum bounce_format format;
	char sha256[SHA256_HEX_SIZE]; /* of the raw bytes */
	char *message_id;          /* the report's own, without <>, or NULL */
	char *envid;               /* Original-Envelope-Id (xtext decoded) */
	char *original_message_id; /* without <>, or NULL */
	char *delivery_header;     /* returned X-Chancery-Delivery, or NULL */
	struct bounce_recipient *recipients;
	size_t nrecipients;
};

/*
 * Parses data[0..len). ERR_DATA with a one-line message saying what is
 * wrong when it is not a delivery report (empty, not a message, a
 * multipart/report of another type, a DSN without recipients, a reply or
 * auto-reply, a text bounce that names neither recipient nor message).
 * One odd recipient group never refuses the whole report: an unknown
 * Action is read from its status code (docs/bounces.md).
 * *out is the caller's (bounce_report_free).
 */
int bounce_report_parse(const char *data, size_t len,
			struct bounce_report **out, struct error *err);
void bounce_report_free(struct bounce_report *r);

#endif
