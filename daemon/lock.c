#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sysexits.h>
#include <unistd.h>

#include "chancery/xalloc.h"
#include "daemon.h"

/* The pid a lock file names, or 0. */
static long read_pid(int fd)
{
	char buf[32] = "";
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

int lock_acquire(struct daemon_lock *l, const char *db_path, struct error *err)
{
	long holder;

	l->pid_file = NULL;
	l->path = xasprintf("%s.lock", db_path);
	l->fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (l->fd < 0)
		return error_set_errno(err, ERR_CANTCREAT, "%s: cannot open the "
							   "daemon lock",
				       l->path);
	/* flock, not fcntl: SQLite's own fcntl locks on the database are
	 * unaffected, and the lock dies with the process. */
	if (flock(l->fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK)
		return error_set_errno(err, ERR_OS, "%s: cannot lock", l->path);
	holder = read_pid(l->fd);
	if (holder > 0)
		return error_set(err, ERR_TEMPFAIL,
				 "%s: another chanceryd (pid %ld) already serves "
				 "this database",
				 db_path, holder);
	return error_set(err, ERR_TEMPFAIL,
			 "%s: another chanceryd already serves this database",
			 db_path);
}

/*
 * Replaces path's content with our pid, through a temporary file created
 * as the lock file is: never through a symlink (a root daemon would
 * overwrite whatever one planted at "<path>.tmp" points to), and mode
 * 0644 at most whatever the umask. A temporary file left by a crash, or a
 * symlink planted there, is removed first: unlink removes the link, never
 * its target. One planted again between the unlink and the open makes
 * O_EXCL fail, and the daemon refuses to start.
 */
static int write_pid_file(const char *path, struct error *err)
{
	char *tmp = xasprintf("%s.tmp", path);
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	int fd = -1, rc = 0;
	bool created = false;

	if (unlink(tmp) != 0 && errno != ENOENT) {
		rc = error_set_errno(err, ERR_CANTCREAT, "%s: cannot remove a "
			"stale temporary pid file", tmp);
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0644);
	created = fd >= 0;
	if (fd < 0 || write(fd, buf, (size_t)len) != len) {
		rc = error_set_errno(err, ERR_CANTCREAT, "%s: cannot write the "
			"pid file", tmp);
		goto out;
	}
	rc = close(fd);
	fd = -1;
	if (rc != 0 || rename(tmp, path) != 0)
		rc = error_set_errno(err, ERR_CANTCREAT, "%s: cannot write the "
			"pid file", path);
out:
	if (fd >= 0)
		close(fd);
	if (rc && created)
		unlink(tmp);
	free(tmp);
	return rc;
}

int lock_write_pid(struct daemon_lock *l, const char *pid_file,
		   struct error *err)
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(l->fd, 0) != 0 || pwrite(l->fd, buf, (size_t)len, 0) != len)
		return error_set_errno(err, ERR_IO, "%s: cannot write", l->path);
	if (!pid_file)
		return 0;
	if (write_pid_file(pid_file, err))
		return err->code;
	l->pid_file = xstrdup(pid_file);
	return 0;
}

void lock_release(struct daemon_lock *l)
{
	if (l->pid_file)
		unlink(l->pid_file);
	free(l->pid_file);
	l->pid_file = NULL;
	if (l->fd >= 0) {
		if (ftruncate(l->fd, 0) != 0) {
			/* A stale pid in an unlocked file misleads no one:
			 * only a held lock counts. */
		}
		close(l->fd);
	}
	l->fd = -1;
	free(l->path);
	l->path = NULL;
}

static int ready_fd = -1;

int detach_start(struct error *err)
{
	int fds[2];
	pid_t pid;
	char status;

	if (pipe2(fds, O_CLOEXEC) != 0)
		return error_set_errno(err, ERR_OS, "cannot create a pipe");
	pid = fork();
	if (pid < 0)
		return error_set_errno(err, ERR_OS, "cannot fork");
	if (pid > 0) {
		close(fds[1]);
		/* The child's verdict; none means it died before saying. */
		if (read(fds[0], &status, 1) != 1)
			_exit(EX_SOFTWARE);
		_exit((unsigned char)status);
	}
	close(fds[0]);
	ready_fd = fds[1];
	if (setsid() < 0)
		return error_set_errno(err, ERR_OS, "setsid");
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		close(null);
	}
	return 0;
}

void detach_ready(int status)
{
	char c = (char)status;
	int null;

	if (ready_fd < 0)
		return;
	if (write(ready_fd, &c, 1) != 1) {
		/* The parent is gone: nobody to tell. */
	}
	close(ready_fd);
	ready_fd = -1;
	if (status != 0)
		return;
	/* From now on nobody reads our terminal: errors go to the log. */
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		close(null);
	}
}
