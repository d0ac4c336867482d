#include <string.h>
#include <unistd.h>

#include "chancery/clock.h"
#include "chancery/progress.h"

void progress_init(struct progress *p, FILE *out, const char *label,
		   uint64_t total, enum progress_mode mode)
{
	memset(p, 0, sizeof(*p));
	p->out = out;
	snprintf(p->label, sizeof(p->label), "%s", label ? label : "");
	p->total = total;
	p->start_ms = clock_elapsed_ms();
	p->drawn_ms = p->start_ms;
	switch (mode) {
	case PROGRESS_ALWAYS:
		p->enabled = out != NULL;
		break;
	case PROGRESS_NEVER:
		p->enabled = false;
		break;
	default:
		p->enabled = out && fileno(out) >= 0 && isatty(fileno(out));
		break;
	}
}

bool progress_enabled(const struct progress *p)
{
	return p->enabled;
}

void progress_set_total(struct progress *p, uint64_t total)
{
	p->total = total;
}

/* "12:34", or "1:02:03" from an hour on; "--:--" when it cannot be told. */
static void format_eta(char *buf, size_t size, double seconds)
{
	unsigned long long s;

	if (!(seconds >= 0) || seconds > 359999.0) {
		snprintf(buf, size, "--:--");
		return;
	}
	s = (unsigned long long)(seconds + 0.5);
	if (s >= 3600)
		snprintf(buf, size, "%llu:%02llu:%02llu", s / 3600, s / 60 % 60,
			 s % 60);
	else
		snprintf(buf, size, "%02llu:%02llu", s / 60, s % 60);
}

/* Whole numbers from 10/s on; one decimal below, where it still tells. */
static void format_rate(char *buf, size_t size, double rate)
{
	if (rate >= 10.0)
		snprintf(buf, size, "%.0f/s", rate);
	else
		snprintf(buf, size, "%.1f/s", rate);
}

size_t progress_format(char *buf, size_t size, const char *label,
		       uint64_t count, uint64_t total, int64_t elapsed_ms)
{
	char rate_text[32], eta[32];
	double rate = 0.0;
	int n;

	/* Under a tenth of a second there is no rate worth showing. */
	if (elapsed_ms >= PROGRESS_INTERVAL_MS)
		rate = (double)count * 1000.0 / (double)elapsed_ms;
	if (elapsed_ms >= PROGRESS_INTERVAL_MS)
		format_rate(rate_text, sizeof(rate_text), rate);
	else
		snprintf(rate_text, sizeof(rate_text), "-/s");
	if (total == 0) {
		n = snprintf(buf, size, "%s: %llu  %s", label,
			     (unsigned long long)count, rate_text);
	} else {
		if (count >= total)
			format_eta(eta, sizeof(eta), 0.0);
		else if (rate > 0.0)
			format_eta(eta, sizeof(eta),
				   (double)(total - count) / rate);
		else
			format_eta(eta, sizeof(eta), -1.0);
		n = snprintf(buf, size, "%s: %llu/%llu  %s  ETA %s", label,
			     (unsigned long long)count,
			     (unsigned long long)total, rate_text, eta);
	}
	if (n < 0)
		n = 0;
	if (size && (size_t)n >= size)
		n = (int)(size - 1);
	return (size_t)n;
}

/* Rewrites the line from its start, blanking what a longer one left. */
static void draw(struct progress *p, int64_t now_ms)
{
	char line[256];
	size_t len = progress_format(line, sizeof(line), p->label, p->count,
				     p->total, now_ms - p->start_ms);

	fprintf(p->out, "\r%s", line);
	for (size_t i = len; i < p->width; i++)
		fputc(' ', p->out);
	fflush(p->out);
	p->width = len;
	p->drawn_ms = now_ms;
	p->drawn = true;
}

void progress_update_at(struct progress *p, uint64_t count, int64_t now_ms)
{
	p->count = count;
	if (!p->enabled)
		return;
	if (now_ms - p->drawn_ms < PROGRESS_INTERVAL_MS)
		return;
	draw(p, now_ms);
}

void progress_update(struct progress *p, uint64_t count)
{
	progress_update_at(p, count, clock_elapsed_ms());
}

void progress_release_at(struct progress *p, int64_t now_ms)
{
	if (!p->enabled)
		return;
	/* An operation shorter than one interval leaves no line behind. */
	if (p->drawn) {
		draw(p, now_ms);
		fputc('\n', p->out);
		fflush(p->out);
	}
	p->enabled = false;
}

void progress_release(struct progress *p)
{
	progress_release_at(p, clock_elapsed_ms());
}
