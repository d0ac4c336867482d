#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

#include "daemon.h"

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

/* Without NOTIFY_SOCKET (not under systemd) sd_notify does nothing. */
static void send_state(const char *state)
{
#ifdef HAVE_LIBSYSTEMD
	sd_notify(0, state);
#else
	(void)state;
#endif
}

void notify_ready(void) { send_state("READY=1"); }
/* Sent once, as soon as the stop is seen (possibly from inside a round
 * that still finishes its in-flight messages), not when the drain ends,
 * so systemd shows "deactivating" during the drain. */
void notify_stopping(void)
{
	static atomic_bool sent;

	if (!atomic_exchange(&sent, true))
		send_state("STOPPING=1");
}
void notify_reloading(void) { send_state("RELOADING=1"); }

void notify_status(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "STATUS=");
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	send_state(line);
}
