/*
 * progress: one status line for long operations (large CSV imports,
 * `campaign status --follow`, `audit verify`), in the form
 *
 *     label: count/total  rate/s  ETA mm:ss
 *
 * redrawn in place with "\r" when the output is a terminal, at most ten
 * times a second, and not written at all when it is not a terminal, so
 * that scripts and logs never see it. With no total (0) the line shows
 * "label: count  rate/s" only. Redraws are throttled here, so a caller
 * may report every single item; the first draw waits one interval, so an
 * operation that ends quickly leaves no line at all.
 */
#ifndef CHANCERY_PROGRESS_H
#define CHANCERY_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum progress_mode {
	PROGRESS_AUTO,   /* draw only when the stream is a terminal */
	PROGRESS_ALWAYS, /* draw as on a terminal (tests, --progress) */
	PROGRESS_NEVER,  /* never draw */
};

/* The shortest time between two redraws. */
#define PROGRESS_INTERVAL_MS 100

/* Caller-owned; the fields are private to progress.c. */
struct progress {
	FILE *out;         /* not owned */
	char label[64];
	bool enabled;
	uint64_t total;    /* 0: unknown */
	uint64_t count;
	int64_t start_ms;  /* monotonic */
	int64_t drawn_ms;  /* when the line was last drawn (start at first) */
	bool drawn;        /* anything written yet */
	size_t width;      /* length of the line last drawn, to blank it */
};

/*
 * Starts a progress line on out (normally stderr) for total items (0 when
 * unknown). label is copied (cut at 63 bytes).
 */
void progress_init(struct progress *p, FILE *out, const char *label,
		   uint64_t total, enum progress_mode mode);

/* True when the line is drawn at all (a terminal, or PROGRESS_ALWAYS). */
bool progress_enabled(const struct progress *p);

/* Changes the total once it becomes known (0: unknown). */
void progress_set_total(struct progress *p, uint64_t total);

/* Records that count items are done; redraws if the interval has passed. */
void progress_update(struct progress *p, uint64_t count);

/* The same, with the monotonic time in milliseconds given (for tests). */
void progress_update_at(struct progress *p, uint64_t count, int64_t now_ms);

/*
 * Formats the line for count items after elapsed_ms into buf (always
 * NUL-terminated); returns its length. Exposed for tests.
 */
size_t progress_format(char *buf, size_t size, const char *label,
		       uint64_t count, uint64_t total, int64_t elapsed_ms);

/*
 * Draws the final state and ends the line with a newline, if anything was
 * drawn; a later update draws nothing. Safe to call twice.
 */
void progress_release(struct progress *p);

/* progress_release with the time given (for tests). */
void progress_release_at(struct progress *p, int64_t now_ms);

#endif
