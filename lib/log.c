#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "chancery/log.h"
#include "chancery/sbuf.h"
#include "chancery/utf8.h"

/*
 * Logging is process-wide by nature (one stderr, one syslog connection), so
 * its few settings live here rather than in the configuration struct.
 */
static struct {
	char ident[64];
	enum log_target target;
	enum log_level min;
	bool journal;
	pthread_mutex_t lock;
} logger = {"chancery", LOG_TARGET_STDERR, LOG_LEVEL_INFO, false,
	    PTHREAD_MUTEX_INITIALIZER};

static const char *const level_names[] = {"debug", "info", "warn", "error"};
static const int syslog_priorities[] = {LOG_DEBUG, LOG_INFO, LOG_WARNING,
					LOG_ERR};

/* True when stderr is the stream systemd-journald gave us. */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

void log_open(const char *ident, enum log_target target, enum log_level min)
{
	pthread_mutex_lock(&logger.lock);
	snprintf(logger.ident, sizeof(logger.ident), "%s", ident);
	logger.target = target;
	logger.min = min;
	logger.journal = stderr_is_journal();
	if (target == LOG_TARGET_SYSLOG)
		openlog(logger.ident, LOG_PID, LOG_MAIL);
	pthread_mutex_unlock(&logger.lock);
}

void log_set_level(enum log_level min)
{
	pthread_mutex_lock(&logger.lock);
	logger.min = min;
	pthread_mutex_unlock(&logger.lock);
}

bool log_enabled(enum log_level level)
{
	return level >= logger.min;
}

/*
 * Copies text into sb as one line a terminal shows as it was written:
 * line breaks as \n and \r, the rest as utf8_escape_terminal does (C0
 * and C1 controls, bytes that are not UTF-8, the bidirectional controls
 * that would reorder what an operator reads in journalctl). A relay's
 * reply, an address or a name reaches the log as the peer sent it.
 */
static void add_escaped(struct sbuf *sb, const char *text)
{
	const char *p = text;

	for (;;) {
		size_t n = strcspn(p, "\r\n");

		utf8_escape_terminal_len(sb, p, n);
		if (!p[n])
			break;
		sbuf_addstr(sb, p[n] == '\n' ? "\\n" : "\\r");
		p += n + 1;
	}
}

/* This thread's held lines (log_hold), whole lines only. */
static _Thread_local struct {
	bool on;
	struct sbuf lines;
} held;

static void log_write(enum log_level level, const char *text)
{
	struct sbuf line = SBUF_INIT;

	pthread_mutex_lock(&logger.lock);
	if (logger.target == LOG_TARGET_SYSLOG) {
		add_escaped(&line, text);
		syslog(syslog_priorities[level], "%s: %s", level_names[level],
		       line.buf);
	} else {
		if (logger.journal)
			sbuf_addf(&line, "<%d>", syslog_priorities[level]);
		sbuf_addf(&line, "%s[%d]: %s: ", logger.ident, (int)getpid(),
			  level_names[level]);
		add_escaped(&line, text);
		sbuf_addch(&line, '\n');
		if (held.on) {
			sbuf_add(&held.lines, line.buf, line.len);
		} else {
			fwrite(line.buf, 1, line.len, stderr);
			fflush(stderr);
		}
	}
	pthread_mutex_unlock(&logger.lock);
	sbuf_release(&line);
}

void log_hold(void)
{
	held.on = true;
}

void log_flush(void)
{
	held.on = false;
	if (held.lines.len) {
		pthread_mutex_lock(&logger.lock);
		fwrite(held.lines.buf, 1, held.lines.len, stderr);
		fflush(stderr);
		pthread_mutex_unlock(&logger.lock);
	}
	sbuf_release(&held.lines);
}

__attribute__((format(printf, 3, 0)))
static void log_vmsg(enum log_level level, int errnum, const char *fmt,
		     va_list ap)
{
	struct sbuf text = SBUF_INIT;

	sbuf_vaddf(&text, fmt, ap);
	if (errnum)
		sbuf_addf(&text, ": %s", strerror(errnum));
	log_write(level, text.buf);
	sbuf_release(&text);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	log_vmsg(level, 0, fmt, ap);
	va_end(ap);
}

void log_errno(enum log_level level, const char *fmt, ...)
{
	int errnum = errno;
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	log_vmsg(level, errnum, fmt, ap);
	va_end(ap);
}

int log_level_parse(const char *name, enum log_level *out)
{
	for (int i = 0; i < 4; i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (strcmp(name, "warning") == 0) {
		*out = LOG_LEVEL_WARN;
		return 0;
	}
	return -1;
}

int log_target_parse(const char *name, enum log_target *out)
{
	if (strcmp(name, "stderr") == 0)
		*out = LOG_TARGET_STDERR;
	else if (strcmp(name, "syslog") == 0)
		*out = LOG_TARGET_SYSLOG;
	else
		return -1;
	return 0;
}
