#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"

struct signal_flags signal_flags;

static int self_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if (sig == SIGHUP)
		signal_flags.reload = 1;
	else
		signal_flags.stop = 1;
	/* A full pipe already holds a wake-up: losing this byte is fine. */
	if (write(self_pipe[1], &c, 1) < 0) {
	}
	errno = saved;
}

int signals_init(struct error *err)
{
	struct sigaction sa;

	if (pipe2(self_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		return error_set_errno(err, ERR_OS, "cannot create a pipe");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL) ||
	    sigaction(SIGHUP, &sa, NULL))
		return error_set_errno(err, ERR_OS, "cannot install signal "
						    "handlers");
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL))
		return error_set_errno(err, ERR_OS, "cannot ignore SIGPIPE");
	return 0;
}

void signals_wait(int timeout_ms)
{
	struct pollfd pfd = {.fd = self_pipe[0], .events = POLLIN};
	char buf[64];

	if (signal_flags.stop || signal_flags.reload)
		return;
	if (poll(&pfd, 1, timeout_ms) > 0)
		while (read(self_pipe[0], buf, sizeof(buf)) > 0)
			;
}

bool signals_interrupted(void *arg)
{
	(void)arg;
	if (signal_flags.stop)
		notify_stopping();
	return signal_flags.stop || signal_flags.reload;
}
