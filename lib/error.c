#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "chancery/error.h"

__attribute__((format(printf, 4, 0)))
static int error_vset(struct error *err, int code, int errnum, const char *fmt,
		      va_list ap)
{
	if (!err)
		return code;
	err->code = code;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (errnum) {
		size_t len = strlen(err->msg);
		snprintf(err->msg + len, sizeof(err->msg) - len, ": %s",
			 strerror(errnum));
	}
	return code;
}

int error_set(struct error *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(err, code, 0, fmt, ap);
	va_end(ap);
	return code;
}

int error_set_errno(struct error *err, int code, const char *fmt, ...)
{
	int errnum = errno;
	va_list ap;

	va_start(ap, fmt);
	error_vset(err, code, errnum, fmt, ap);
	va_end(ap);
	return code;
}

int error_prefix(struct error *err, const char *fmt, ...)
{
	char joined[ERROR_MSG_MAX];
	size_t len;
	va_list ap;

	if (!err)
		return ERR_SOFTWARE;
	va_start(ap, fmt);
	vsnprintf(joined, sizeof(joined), fmt, ap);
	va_end(ap);
	/* A message too long for the buffer is cut, never overrun. */
	len = strlen(joined);
	if (len + 2 < sizeof(joined)) {
		size_t room = sizeof(joined) - len - 3;
		size_t old = strnlen(err->msg, room);

		memcpy(joined + len, ": ", 2);
		memcpy(joined + len + 2, err->msg, old);
		joined[len + 2 + old] = '\0';
	}
	memcpy(err->msg, joined, sizeof(err->msg));
	return err->code;
}

void error_clear(struct error *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}

int error_exit_status(int code)
{
	if (code == 0)
		return 0;
	if (code <= ERR_USAGE && code >= ERR_CONFIG)
		return -code;
	return -ERR_SOFTWARE;
}
