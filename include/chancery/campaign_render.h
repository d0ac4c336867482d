/*
 * campaign_render: the messages of a campaign's deliveries, rendered with
 * its template version for each delivery's contact, and its preview.
 */
#ifndef CHANCERY_CAMPAIGN_RENDER_H
#define CHANCERY_CAMPAIGN_RENDER_H

#include <stdint.h>

#include "chancery/conf.h"
#include "chancery/db.h"
#include "chancery/error.h"
#include "chancery/sbuf.h"

/*
 * The complete message of one delivery (headers and body), rendered with
 * the campaign's template version for the delivery's contact. The queue
 * daemon calls this for each message it sends.
 */
int campaign_delivery_message(struct db *db, const struct conf *cfg,
			      int64_t delivery_id, struct sbuf *out,
			      struct error *err);

/*
 * The same with caches: a renderer keeps the campaigns and the compiled
 * template versions its deliveries use (a few of each), so a campaign's
 * template is loaded once per renderer, not once per message. Contacts
 * and bodies are read for every message. One thread at a time (a
 * compiled template caches its partials): the daemon gives each worker
 * its own.
 */
struct campaign_renderer;

/* What a renderer did, for tests and benchmarks. */
struct campaign_renderer_stats {
	int64_t template_loads, template_hits;
	int64_t campaign_loads, campaign_hits;
};

struct campaign_renderer *campaign_renderer_new(void);
void campaign_renderer_free(struct campaign_renderer *r);
int campaign_renderer_message(struct campaign_renderer *r, struct db *db,
			      const struct conf *cfg, int64_t delivery_id,
			      struct sbuf *out, struct error *err);
void campaign_renderer_get_stats(const struct campaign_renderer *r,
				 struct campaign_renderer_stats *out);
/* The language (BCP 47) of the variant the last successful
 * campaign_renderer_message used (language.default for the default
 * variant), or NULL before one; valid until the next call. */
const char *campaign_renderer_last_lang(const struct campaign_renderer *r);
/*
 * The message the campaign would send to the first active contact of its
 * list, or to the first active contact of body_key (acronym, name or
 * alias) when not NULL.
 */
int campaign_preview(struct db *db, const struct conf *cfg, int64_t id,
		     const char *body_key, struct sbuf *out,
		     struct error *err);

#endif
