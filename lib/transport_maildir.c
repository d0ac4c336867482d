/*
 * The maildir transport: each message becomes one file in the outbox's
 * new/ directory, written the way qmail and OpenSMTPD write a queue file:
 * a unique name in tmp/, the bytes, fsync, rename into new/, fsync of new/.
 * A reader (or a crash) therefore sees either the whole message or none.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "chancery/sbuf.h"
#include "chancery/xalloc.h"
#include "transport_impl.h"

struct maildir {
	char *path;
	char host[HOST_NAME_MAX + 1];
};

/* Shared by every instance in the process: names must never repeat. */
static atomic_ulong maildir_counter;

/* mkdir -p with mode 0700 for what it creates; existing dirs are kept. */
static int make_dirs(const char *path, struct error *err)
{
	char *copy = xstrdup(path);
	int rc = 0;

	for (char *p = copy + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(copy, 0700) != 0 && errno != EEXIST) {
			rc = error_set_errno(err, ERR_CANTCREAT,
					     "cannot create %s", copy);
			goto out;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	struct stat st;

	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		rc = error_set(err, ERR_CANTCREAT, "%s is not a directory",
			       path);
out:
	free(copy);
	return rc;
}

static int maildir_prepare(const struct maildir *md, struct error *err)
{
	static const char *const subdirs[] = {"tmp", "new", "cur"};
	int rc = make_dirs(md->path, err);

	for (size_t i = 0; rc == 0 && i < 3; i++) {
		char *sub = xasprintf("%s/%s", md->path, subdirs[i]);

		if (mkdir(sub, 0700) != 0 && errno != EEXIST)
			rc = error_set_errno(err, ERR_CANTCREAT,
					     "cannot create %s", sub);
		free(sub);
	}
	return rc;
}

/* The host part of a Maildir name: '/' and ':' are not allowed in it. */
static void maildir_host(char *out, size_t size)
{
	char raw[HOST_NAME_MAX + 1] = "localhost";
	size_t n = 0;

	gethostname(raw, sizeof(raw) - 1);
	for (const char *p = raw; *p && n + 5 < size; p++) {
		if (*p == '/' || *p == ':')
			n += (size_t)snprintf(out + n, size - n, "\\%03o",
					      (unsigned char)*p);
		else
			out[n++] = *p;
	}
	out[n] = '\0';
}

int transport_maildir_new(const struct conf *cfg, void **impl,
			  struct error *err)
{
	struct maildir *md;

	if (!cfg->outbox || !*cfg->outbox)
		return error_set(err, ERR_CONFIG,
				 "transport.maildir.path is not set");
	md = xcalloc(1, sizeof(*md));
	md->path = xstrdup(cfg->outbox);
	maildir_host(md->host, sizeof(md->host));
	if (maildir_prepare(md, err) < 0) {
		error_prefix(err, "maildir outbox");
		free(md->path);
		free(md);
		return err ? err->code : ERR_CANTCREAT;
	}
	*impl = md;
	return 0;
}

static void maildir_free(void *impl)
{
	struct maildir *md = impl;

	if (!md)
		return;
	free(md->path);
	free(md);
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, data, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

static int fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Opens a fresh file in tmp/ under a unique name (time.pid.counter.host). */
static int open_unique(const struct maildir *md, struct sbuf *name,
		       struct sbuf *tmp_path)
{
	for (int attempt = 0; attempt < 100; attempt++) {
		struct timeval tv;
		int fd;

		gettimeofday(&tv, NULL);
		sbuf_reset(name);
		sbuf_addf(name, "%lld.M%06ldP%ldQ%lu.%s.eml",
			  (long long)tv.tv_sec, (long)tv.tv_usec,
			  (long)getpid(),
			  atomic_fetch_add(&maildir_counter, 1) + 1,
			  md->host);
		sbuf_reset(tmp_path);
		sbuf_addf(tmp_path, "%s/tmp/%s", md->path, name->buf);
		fd = open(tmp_path->buf,
			  O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	errno = EEXIST;
	return -1;
}

/* Delivers one message; fills its result either way. */
static void maildir_deliver(const struct maildir *md,
			    struct transport_message *m)
{
	struct sbuf name = SBUF_INIT, tmp_path = SBUF_INIT,
		    new_path = SBUF_INIT, head = SBUF_INIT;
	const char *step = "create";
	int fd;

	fd = open_unique(md, &name, &tmp_path);
	if (fd < 0)
		goto fail;
	/* What an MDA adds: the envelope, which the headers may not show. */
	sbuf_addf(&head, "Return-Path: <%s>\r\nDelivered-To: %s\r\n",
		  m->envelope_from ? m->envelope_from : "", m->recipient);
	step = "write";
	if (write_all(fd, head.buf, head.len) != 0 ||
	    write_all(fd, m->data, m->size) != 0)
		goto fail;
	step = "fsync";
	if (fsync(fd) != 0)
		goto fail;
	step = "close";
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	step = "rename";
	sbuf_addf(&new_path, "%s/new/%s", md->path, name.buf);
	if (rename(tmp_path.buf, new_path.buf) != 0)
		goto fail;
	step = "fsync new/ for";
	sbuf_setlen(&new_path, new_path.len - name.len - 1);
	if (fsync_dir(new_path.buf) != 0) {
		/* Not durable, so not delivered: take it back out of new/. */
		int saved = errno;

		sbuf_addf(&new_path, "/%s", name.buf);
		unlink(new_path.buf);
		errno = saved;
		goto fail;
	}
	transport_result_set(&m->result, 250, "2.0.0", "");
	snprintf(m->result.text, sizeof(m->result.text), "written to %s/new/%s",
		 md->path, name.buf);
	snprintf(m->result.queue_id, sizeof(m->result.queue_id), "%s",
		 name.buf);
	goto out;
fail:
	transport_result_fail(&m->result, TRANSPORT_TEMPFAIL,
			      "maildir: %s %s: %s", step,
			      tmp_path.len ? tmp_path.buf : md->path,
			      strerror(errno));
	if (fd >= 0)
		close(fd);
	if (tmp_path.len && strcmp(step, "create") != 0)
		unlink(tmp_path.buf);
out:
	sbuf_release(&name);
	sbuf_release(&tmp_path);
	sbuf_release(&new_path);
	sbuf_release(&head);
}

static int maildir_send(void *impl, struct transport_message *msgs, size_t n,
			struct error *err)
{
	struct maildir *md = impl;
	struct error local = ERROR_INIT;

	(void)err;
	/* The outbox may have been removed since transport_new: recreate it,
	 * and when that fails every message is a TEMPFAIL with the reason. */
	if (maildir_prepare(md, &local) < 0) {
		for (size_t i = 0; i < n; i++) {
			transport_result_fail(&msgs[i].result,
					      TRANSPORT_TEMPFAIL, "maildir: %s",
					      local.msg);
			transport_log_result("maildir", &msgs[i]);
		}
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		maildir_deliver(md, &msgs[i]);
		transport_log_result("maildir", &msgs[i]);
		transport_result_final(&msgs[i]);
	}
	return 0;
}

const struct transport_ops transport_maildir_ops = {
	.name = "maildir",
	.send = maildir_send,
	.free = maildir_free,
};
