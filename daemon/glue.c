/*
 * The real pieces behind the dispatch engine: each worker's link is one
 * transport instance (one relay connection, or the outbox), and a
 * message is rendered by the campaign module from the delivery row,
 * whose Message-ID and ENVID the claim has just fixed. Each worker has
 * its own campaign renderer (glue_render_open), so what a campaign's
 * messages share is loaded once per worker.
 */
#include <stdlib.h>

#include "chancery/campaign_render.h"
#include "chancery/transport.h"
#include "chancery/xalloc.h"
#include "daemon.h"

static void *link_open(void *arg, int worker, struct error *err)
{
	(void)worker;
	return transport_new((const struct conf *)arg, err);
}

static int link_send(void *link, struct transport_message *msgs, size_t n,
		     struct error *err)
{
	return transport_send(link, msgs, n, err);
}

static void link_close(void *link)
{
	transport_free(link);
}

const struct dispatch_link_ops glue_transport_link = {link_open, link_send,
						      link_close};

/* A worker's renderer: its caches live as long as the worker. */
struct glue_renderer {
	const struct conf *cfg;
	struct campaign_renderer *r;
};

void *glue_render_open(void *arg, int worker)
{
	struct glue_renderer *g = xcalloc(1, sizeof(*g));

	(void)worker;
	g->cfg = arg;
	g->r = campaign_renderer_new();
	return g;
}

void glue_render_close(void *state)
{
	struct glue_renderer *g = state;

	campaign_renderer_free(g->r);
	free(g);
}

int glue_render(void *state, struct db *db, const struct queue_item *item,
		struct sbuf *out, struct error *err)
{
	struct glue_renderer *g = state;

	return campaign_renderer_message(g->r, db, g->cfg, item->delivery_id,
					 out, err);
}

const char *glue_render_lang(void *state)
{
	struct glue_renderer *g = state;

	return campaign_renderer_last_lang(g->r);
}
