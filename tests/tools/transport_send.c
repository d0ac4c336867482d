/*
 * transport_send: sends message files through the transport a chancery
 * configuration names, and prints one line per message. A test and
 * benchmark driver for lib/transport*.c, not an installed program.
 *
 *   transport_send [-c CONFIG] [-f FROM] [-n REPEAT] [-b BATCH] [-q]
 *                  RCPT FILE [RCPT FILE ...]
 *
 * Each FILE is a whole RFC 5322 message (LF line ends become CRLF). The
 * (RCPT, FILE) list is sent REPEAT times (default 1); the k-th message
 * (from 1) gets delivery id k and DSN ENVID "chancery-k". transport_send
 * is called with at most BATCH messages at a time (default: all of them).
 * Output, one line per message, tab-separated:
 *   id  rcpt  sent|tempfail|permfail  code  enhanced|-  queue_id|-  text
 *   early|late
 * where "early" says the transport told the result through on_final
 * before transport_send returned (and it did not change afterwards).
 * and a summary line on stderr: "sent=N tempfail=N permfail=N seconds=S
 * rate=R". -q logs warnings only. Exit status: 0 when every message has a
 * result, else the sysexits code of the error (printed on stderr).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chancery/conf.h"
#include "chancery/error.h"
#include "chancery/log.h"
#include "chancery/sbuf.h"
#include "chancery/transport.h"
#include "chancery/xalloc.h"

struct input {
	const char *rcpt;
	char *data;
	size_t size;
};

static const char *const outcome_names[] = {"sent", "tempfail", "permfail"};

/* What on_final told, to check that the result does not change after. */
struct told {
	bool early;
	struct transport_result result;
};

/*
 * Also frees the message's recipient, which the transport must not touch
 * after this call (transport.h): under the sanitizers, a transport that
 * still reads it is a use after free.
 */
static void note_final(struct transport_message *m, void *arg)
{
	struct told *told = arg;

	told->early = true;
	told->result = m->result;
	free((char *)m->recipient);
}

static void usage(void)
{
	fprintf(stderr, "usage: transport_send [-c CONFIG] [-f FROM] "
		"[-n REPEAT] [-b BATCH] [-q] RCPT FILE [RCPT FILE ...]\n");
	exit(64);
}

/* Reads path, turning bare LF into CRLF. */
static int read_message(const char *path, struct input *in, struct error *err)
{
	struct sbuf raw = SBUF_INIT, out = SBUF_INIT;
	int rc = sbuf_read_file(&raw, path, 64u << 20, err);

	if (rc < 0)
		goto out;
	for (size_t i = 0; i < raw.len; i++) {
		if (raw.buf[i] == '\n' && (i == 0 || raw.buf[i - 1] != '\r'))
			sbuf_addch(&out, '\r');
		sbuf_addch(&out, raw.buf[i]);
	}
	if (out.len < 2 || memcmp(out.buf + out.len - 2, "\r\n", 2) != 0)
		sbuf_addstr(&out, "\r\n");
	in->data = sbuf_detach(&out, &in->size);
out:
	sbuf_release(&raw);
	sbuf_release(&out);
	return rc;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

int main(int argc, char **argv)
{
	const char *config = NULL, *from = NULL;
	long repeat = 1, batch = 0;
	bool quiet = false;
	struct conf cfg;
	struct error err = ERROR_INIT;
	struct transport *t = NULL;
	struct transport_message *msgs = NULL;
	struct input *inputs = NULL;
	size_t ninputs, total = 0, counts[3] = {0, 0, 0};
	struct timespec t0;
	char **envids = NULL;
	struct told *told = NULL;
	int opt, rc = 0;

	while ((opt = getopt(argc, argv, "c:f:n:b:q")) != -1) {
		switch (opt) {
		case 'c': config = optarg; break;
		case 'f': from = optarg; break;
		case 'n': repeat = strtol(optarg, NULL, 10); break;
		case 'b': batch = strtol(optarg, NULL, 10); break;
		case 'q': quiet = true; break;
		default: usage();
		}
	}
	if (argc - optind < 2 || (argc - optind) % 2 != 0 || repeat < 1)
		usage();
	log_open("transport_send", LOG_TARGET_STDERR,
		 quiet ? LOG_LEVEL_WARN : LOG_LEVEL_DEBUG);
	conf_init(&cfg);
	if (config && (rc = conf_load(&cfg, config, &err)) < 0)
		goto out;
	if (!from)
		from = cfg.sender.address;

	ninputs = (size_t)(argc - optind) / 2;
	inputs = xcalloc(ninputs, sizeof(*inputs));
	for (size_t i = 0; i < ninputs; i++) {
		inputs[i].rcpt = argv[optind + 2 * i];
		rc = read_message(argv[optind + 2 * i + 1], &inputs[i], &err);
		if (rc < 0)
			goto out;
	}
	total = ninputs * (size_t)repeat;
	msgs = xcalloc(total, sizeof(*msgs));
	envids = xcalloc(total, sizeof(*envids));
	told = xcalloc(total, sizeof(*told));
	for (size_t k = 0; k < total; k++) {
		const struct input *in = &inputs[k % ninputs];

		envids[k] = xasprintf("chancery-%zu", k + 1);
		msgs[k].delivery_id = (int64_t)k + 1;
		msgs[k].envelope_from = from;
		msgs[k].recipient = xstrdup(in->rcpt); /* see note_final */
		msgs[k].envid = envids[k];
		msgs[k].data = in->data;
		msgs[k].size = in->size;
		msgs[k].on_final = note_final;
		msgs[k].on_final_arg = &told[k];
	}
	t = transport_new(&cfg, &err);
	if (!t) {
		rc = err.code ? err.code : ERR_SOFTWARE;
		goto out;
	}
	if (batch <= 0)
		batch = (long)total;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t k = 0; k < total; k += (size_t)batch) {
		size_t n = total - k < (size_t)batch ? total - k : (size_t)batch;

		rc = transport_send(t, msgs + k, n, &err);
		if (rc < 0)
			goto out;
	}
	double secs = seconds_since(&t0);

	for (size_t k = 0; k < total; k++) {
		const struct transport_result *r = &msgs[k].result;

		counts[r->outcome]++;
		if (told[k].early &&
		    memcmp(&told[k].result, r, sizeof(*r)) != 0) {
			fprintf(stderr, "transport_send: message %zu: result "
				"changed after on_final\n", k + 1);
			rc = ERR_SOFTWARE;
		}
		printf("%lld\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n",
		       (long long)msgs[k].delivery_id, inputs[k % ninputs].rcpt,
		       outcome_names[r->outcome], r->code,
		       r->enhanced[0] ? r->enhanced : "-",
		       r->queue_id[0] ? r->queue_id : "-", r->text,
		       told[k].early ? "early" : "late");
	}
	fprintf(stderr, "sent=%zu tempfail=%zu permfail=%zu seconds=%.3f "
		"rate=%.1f\n", counts[0], counts[1], counts[2], secs,
		secs > 0 ? (double)total / secs : 0.0);
out:
	if (rc < 0)
		fprintf(stderr, "transport_send: %s\n", err.msg);
	transport_free(t);
	if (envids)
		for (size_t k = 0; k < total; k++)
			free(envids[k]);
	free(envids);
	for (size_t k = 0; msgs && k < total; k++)
		if (!told[k].early)
			free((char *)msgs[k].recipient);
	free(told);
	free(msgs);
	if (inputs)
		for (size_t i = 0; i < ninputs; i++)
			free(inputs[i].data);
	free(inputs);
	conf_release(&cfg);
	return error_exit_status(rc);
}
