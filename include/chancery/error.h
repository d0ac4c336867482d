/*
 * error: how the core reports failure.
 *
 * A library function returns 0 on success or one of the negative ERR_
 * codes below, and fills a struct error with a one-line message that names
 * what was wrong. The codes are the negated sysexits(3) values so that a
 * main() can turn any of them into an exit status with error_exit_status();
 * the library itself never exits.
 */
#ifndef CHANCERY_ERROR_H
#define CHANCERY_ERROR_H

enum {
	ERR_USAGE = -64,       /* bad argument or option */
	ERR_DATA = -65,        /* input data is wrong: address, template, text */
	ERR_NOINPUT = -66,     /* a file is missing or unreadable */
	ERR_NOTFOUND = -67,    /* a named thing (body, list, campaign) is unknown */
	ERR_UNAVAILABLE = -69, /* a service (relay) cannot be used now */
	ERR_SOFTWARE = -70,    /* internal error: a bug or a library failure */
	ERR_OS = -71,          /* a system call failed */
	ERR_CANTCREAT = -73,   /* an output file cannot be created */
	ERR_IO = -74,          /* reading or writing failed */
	ERR_TEMPFAIL = -75,    /* try again later: database locked, relay 4xx */
	ERR_PROTOCOL = -76,    /* the peer broke the protocol */
	ERR_NOPERM = -77,      /* permissions are wrong (too open or too closed) */
	ERR_CONFIG = -78,      /* the configuration is wrong */
};

#define ERROR_MSG_MAX 1024

struct error {
	int code;
	char msg[ERROR_MSG_MAX];
};

#define ERROR_INIT {0, ""}

/* Records code and message in err (which may be NULL); returns code. */
int error_set(struct error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like error_set, appending ": strerror(errno)" to the message. */
int error_set_errno(struct error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Puts "prefix: " in front of the message already in err; returns its code. */
int error_prefix(struct error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void error_clear(struct error *err);

/* The sysexits(3) status for a code (0 for 0, 70 for anything unknown). */
int error_exit_status(int code);

#endif
