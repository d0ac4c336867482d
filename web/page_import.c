/*
 * page_import: a registry spreadsheet (CSV) in two steps, as `chancery
 * registry import --dry-run` then without it: the upload is planned in a
 * dry run and the plan shown; the confirm form applies the same file.
 * Between the two the file waits in the temporary directory, mode 0600,
 * named by the account's id and 128 random bits, so that only the person
 * who uploaded it can apply it; applying removes it, and one never
 * applied is removed a day later (at the next upload).
 *
 * Stable ids and names, for the browser tests:
 *   /registry/import  import-form (file input import-file name=file,
 *                     checkboxes import-update name=update,
 *                     import-reactivate name=reactivate; button
 *                     import-preview)
 *   the preview       import-problems (the rows refused, when any),
 *                     import-plan (table; rows import-item, class
 *                     diff-added, diff-changed, diff-kept or
 *                     diff-conflict), import-summary (the CLI's last
 *                     line), import-apply-form (hidden upload, name,
 *                     update, reactivate; button import-apply)
 *   after applying    import-summary, import-plan as above
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chancery/import.h"
#include "chancery/log.h"
#include "chancery/xalloc.h"
#include "pages.h"

#define UPLOAD_ID_LEN 32
/* An upload nobody confirmed is removed after a day. */
#define UPLOAD_MAX_AGE (24 * 3600)

/* A file the form names and the server cannot find is not found. */
static int error_status(int rc)
{
	return rc == ERR_NOINPUT ? 404 : web_error_status(rc);
}

static const char *tmp_dir(void)
{
	const char *d = getenv("TMPDIR");

	return d && *d == '/' ? d : "/tmp";
}

static void upload_path(struct sbuf *out, int64_t user, const char *id)
{
	sbuf_addf(out, "%s/chancery-web-import-%lld-%s.csv", tmp_dir(),
		  (long long)user, id);
}

static bool upload_id_ok(const char *id)
{
	if (!id || strlen(id) != UPLOAD_ID_LEN)
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

/* Removes the uploads of ours older than a day: a preview nobody
 * confirmed leaves its file behind. */
static void upload_sweep(void)
{
	static const char prefix[] = "chancery-web-import-";
	DIR *d = opendir(tmp_dir());
	const struct dirent *e;
	struct stat st;
	time_t now = time(NULL);

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, prefix, sizeof(prefix) - 1) != 0)
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
		    now - st.st_mtime < UPLOAD_MAX_AGE)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0)
			log_info("web: removed an import upload never "
				 "applied: %s", e->d_name);
	}
	closedir(d);
}

/* Keeps the upload for the confirm step; id gets its name. */
static int upload_keep(const struct web_param *f, int64_t user,
		       char id[UPLOAD_ID_LEN + 1], struct error *err)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[UPLOAD_ID_LEN / 2];
	struct sbuf path = SBUF_INIT;
	size_t done = 0;
	int fd = -1, rc = 0;

	upload_sweep();
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		rc = error_set_errno(err, ERR_OS, "no random bytes");
		goto out;
	}
	for (size_t i = 0; i < sizeof(rnd); i++) {
		id[2 * i] = hex[rnd[i] >> 4];
		id[2 * i + 1] = hex[rnd[i] & 15];
	}
	id[UPLOAD_ID_LEN] = '\0';
	upload_path(&path, user, id);
	fd = open(path.buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0) {
		rc = error_set_errno(err, ERR_CANTCREAT, "%s: cannot create",
				     path.buf);
		goto out;
	}
	while (done < f->len) {
		ssize_t n = write(fd, f->value + done, f->len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = error_set_errno(err, ERR_IO, "%s: cannot write",
					     path.buf);
			break;
		}
		done += (size_t)n;
	}
	if (close(fd) != 0 && !rc)
		rc = error_set_errno(err, ERR_IO, "%s: cannot write", path.buf);
	if (rc)
		unlink(path.buf);
out:
	sbuf_release(&path);
	return rc;
}

static void import_form(const struct web_request *rq, struct sbuf *b)
{
	web_raw(b, "<form method=\"post\" action=\"/registry/import\" "
		   "enctype=\"multipart/form-data\" id=\"import-form\">");
	web_htmlf(b, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n",
		  rq->session->csrf);
	web_raw(b, "<fieldset><legend>The spreadsheet</legend>\n"
		   "<label for=\"import-file\">A CSV file (comma, semicolon "
		   "or tab; the header row chancery registry export "
		   "writes)</label>\n<input type=\"file\" id=\"import-file\" "
		   "name=\"file\" accept=\".csv,text/csv\" required>\n"
		   "<label><input type=\"checkbox\" id=\"import-update\" "
		   "name=\"update\" value=\"1\"> update: a differing value of "
		   "the file replaces the registry's</label>\n"
		   "<label><input type=\"checkbox\" id=\"import-reactivate\" "
		   "name=\"reactivate\" value=\"1\"> reactivate: a contact "
		   "may go back to sending, a removed one is added again"
		   "</label>\n<p><button type=\"submit\" "
		   "id=\"import-preview\">Show what would change</button></p>"
		   "\n</fieldset>\n</form>\n");
}

WEB_HANDLER(page_import_form)
{
	(void)ctx;
	web_page_begin(&rs->body, "Import a spreadsheet", rq->session);
	web_raw(&rs->body, "<p>Nothing changes until you have seen the "
			   "plan and applied it. An import never removes "
			   "anything.</p>\n");
	import_form(rq, &rs->body);
	web_page_end(&rs->body);
	return 0;
}

static const char *action_class(enum import_action a)
{
	switch (a) {
	case IMPORT_ADDED: return "diff-added";
	case IMPORT_CHANGED: return "diff-changed";
	case IMPORT_KEPT: return "diff-kept";
	case IMPORT_CONFLICT: return "diff-conflict";
	default: return "diff-unchanged";
	}
}

/* The items, then the count line `registry import` prints last. */
static void plan_html(struct sbuf *b, const struct import_plan *plan,
		      const char *file, bool dry_run)
{
	const struct import_stats *st = &plan->stats;
	struct sbuf line = SBUF_INIT;

	web_raw(b, "<table id=\"import-plan\"><thead><tr><th>Line</th>"
		   "<th>What</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < plan->count; i++) {
		sbuf_reset(&line);
		import_item_format(&plan->items[i], &line);
		web_htmlf(b, "<tr class=\"import-item %s\"><td>%d</td>"
			     "<td>%s</td></tr>\n",
			  action_class(plan->items[i].action),
			  (int)plan->items[i].line, line.buf);
	}
	web_raw(b, "</tbody></table>\n");
	sbuf_reset(&line);
	sbuf_addf(&line, "%s: %d rows; %d bodies added, %d changed; %d "
			 "aliases added; %d contacts added, %d changed; %d "
			 "unchanged; %d kept",
		  file, st->rows, st->bodies_added, st->bodies_changed,
		  st->aliases_added, st->contacts_added, st->contacts_changed,
		  st->unchanged, st->kept);
	if (st->conflicts)
		sbuf_addf(&line, "; %d conflicts", st->conflicts);
	sbuf_addstr(&line, plan->applied ? ""
			   : dry_run   ? " (dry run: nothing changed)"
				       : " (nothing changed)");
	web_htmlf(b, "<p id=\"import-summary\">%s</p>\n", line.buf);
	sbuf_release(&line);
}

/* The file's name as error messages give it: no directory. */
static const char *base_name(const char *name)
{
	const char *slash;

	if (!name || !*name)
		return "upload.csv";
	slash = strrchr(name, '/');
	if (slash && slash[1])
		name = slash + 1;
	slash = strrchr(name, '\\');
	return slash && slash[1] ? slash + 1 : name;
}

WEB_HANDLER(page_import_preview)
{
	const struct web_param *f = web_param_get(rq, "file");
	struct import_options opt = {.source = "csv", .dry_run = true};
	struct import_plan plan = {0};
	struct sbuf problems = SBUF_INIT;
	struct error err = ERROR_INIT;
	struct sbuf *b = &rs->body;
	char id[UPLOAD_ID_LEN + 1] = "";
	const char *name;
	int rc;

	opt.update = web_ticked(rq, "update");
	opt.reactivate = web_ticked(rq, "reactivate");
	web_page_begin(b, "Import a spreadsheet: the plan", rq->session);
	if (!f || !f->filename) {
		rs->status = 400;
		web_error_box(b, "choose the CSV file to import");
		import_form(rq, b);
		goto out;
	}
	name = base_name(f->filename);
	rc = import_csv_plan(ctx->db, name, f->value, f->len, &opt, &plan,
			     &problems, &err);
	if (rc) {
		rs->status = error_status(rc);
		web_error_box(b, err.msg);
	}
	if (problems.len)
		web_htmlf(b, "<pre id=\"import-problems\">%s</pre>\n",
			  problems.buf);
	if (rc == 0 || plan.stats.conflicts)
		plan_html(b, &plan, name, true);
	if (rc) {
		import_form(rq, b);
		goto out;
	}
	if ((rc = upload_keep(f, rq->session->user.id, id, &err))) {
		rs->status = 500;
		web_error_box(b, err.msg);
		goto out;
	}
	web_raw(b, "<form method=\"post\" action=\"/registry/import/apply\" "
		   "id=\"import-apply-form\">");
	web_htmlf(b, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
		     "<input type=\"hidden\" name=\"upload\" value=\"%s\">"
		     "<input type=\"hidden\" name=\"name\" value=\"%s\">"
		     "<input type=\"hidden\" name=\"update\" value=\"%d\">"
		     "<input type=\"hidden\" name=\"reactivate\" value=\"%d\">"
		     "\n",
		  rq->session->csrf, id, name, opt.update ? 1 : 0,
		  opt.reactivate ? 1 : 0);
	web_raw(b, "<p><button type=\"submit\" id=\"import-apply\">Apply "
		   "this import</button> <a href=\"/registry/import\" "
		   "id=\"import-cancel\">Choose another file</a></p>\n"
		   "</form>\n");
out:
	web_page_end(b);
	import_plan_release(&plan);
	sbuf_release(&problems);
	return 0;
}

WEB_HANDLER(page_import_apply)
{
	const char *id = web_param(rq, "upload");
	const char *name = base_name(web_param(rq, "name"));
	struct import_options opt = {.source = "csv"};
	struct import_plan plan = {0};
	struct sbuf problems = SBUF_INIT, path = SBUF_INIT, text = SBUF_INIT;
	struct error err = ERROR_INIT;
	struct sbuf *b = &rs->body;
	int rc;

	opt.update = web_ticked(rq, "update");
	opt.reactivate = web_ticked(rq, "reactivate");
	web_page_begin(b, "Import a spreadsheet: applied", rq->session);
	if (!upload_id_ok(id)) {
		rs->status = 400;
		web_error_box(b, "the form names no upload: choose the file "
				 "again");
		import_form(rq, b);
		goto out;
	}
	upload_path(&path, rq->session->user.id, id);
	rc = sbuf_read_file(&text, path.buf, SIZE_MAX, &err);
	if (rc) {
		rs->status = error_status(rc);
		web_error_box(b, "the upload is gone (applied already, or the "
				 "server restarted): choose the file again");
		import_form(rq, b);
		goto out;
	}
	rc = import_csv_plan(ctx->db, name, text.buf, text.len, &opt, &plan,
			     &problems, &err);
	if (rc) {
		rs->status = error_status(rc);
		web_error_box(b, err.msg);
	} else {
		unlink(path.buf);
		web_notice_box(b, "Imported.");
	}
	if (problems.len)
		web_htmlf(b, "<pre id=\"import-problems\">%s</pre>\n",
			  problems.buf);
	if (rc == 0 || plan.stats.conflicts)
		plan_html(b, &plan, name, false);
	web_raw(b, "<p><a href=\"/registry\" id=\"import-done\">Back to the "
		   "registry</a></p>\n");
out:
	web_page_end(b);
	import_plan_release(&plan);
	sbuf_release(&problems);
	sbuf_release(&path);
	sbuf_release(&text);
	return 0;
}
