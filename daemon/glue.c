/*
 * The real pieces behind the dispatch engine: each worker's link is one
 * transport instance (one relay connection, or the outbox), and a
 * message is rendered by the campaign module from the delivery row,
 * whose Message-ID and ENVID the claim has just fixed.
 */
#include "chancery/campaign.h"
#include "chancery/transport.h"
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

int glue_render(void *arg, struct db *db, const struct queue_item *item,
		struct sbuf *out, struct error *err)
{
	return campaign_delivery_message(db, (const struct conf *)arg,
					 item->delivery_id, out, err);
}
