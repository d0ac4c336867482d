/*
 * log: one logging family for the daemon and the command.
 *
 * Each call writes one line. Control characters in the formatted text are
 * escaped (\r, \n, \xNN), so a relay reply or a registry value can never
 * forge a second log line. Under systemd (JOURNAL_STREAM names our stderr)
 * lines carry the <N> priority prefix the journal understands; with the
 * syslog target they go to syslog(3). Thread-safe. Callers never pass
 * secrets: passwords and message bodies are not logged anywhere.
 */
#ifndef CHANCERY_LOG_H
#define CHANCERY_LOG_H

#include <stdbool.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };
enum log_target { LOG_TARGET_STDERR, LOG_TARGET_SYSLOG };

void log_open(const char *ident, enum log_target target, enum log_level min);
void log_set_level(enum log_level min);
bool log_enabled(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends ": strerror(errno)". */
void log_errno(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)

/*
 * Lines this thread logs between log_hold and log_flush go to stderr
 * together at log_flush, in one write: the daemon logs a line per
 * delivery after each group commit, and a write per line was a system
 * call per message. Syslog lines are not held. Hold briefly: a crash
 * loses what is held.
 */
void log_hold(void);
void log_flush(void);

/* "debug", "info", "warn"/"warning", "error"; 0 or -1. */
int log_level_parse(const char *name, enum log_level *out);
int log_target_parse(const char *name, enum log_target *out);

#endif
