/*
 * Rendering campaign messages: a delivery's message for the daemon's
 * workers, through a renderer that caches campaigns and compiled
 * template versions, and a campaign's preview.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/campaign.h"
#include "chancery/campaign_render.h"
#include "chancery/message.h"
#include "chancery/registry.h"
#include "chancery/template.h"
#include "chancery/xalloc.h"
#include "campaign_impl.h"

/* ---- rendering ---- */

struct delivery_row {
	int64_t campaign_id, contact_id;
	char *message_id, *envid;
};

static int delivery_load(struct db *db, int64_t id, struct delivery_row *d,
			 struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &campaign_statements, ST_DELIVERY_GET, &st, err);

	memset(d, 0, sizeof(*d));
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	rc = db_step(db, st, err);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return error_set(err, ERR_NOTFOUND, "no delivery #%lld",
				 (long long)id);
	d->campaign_id = sqlite3_column_int64(st, 0);
	d->contact_id = sqlite3_column_int64(st, 1);
	d->message_id = db_column_strdup(st, 2);
	d->envid = db_column_strdup(st, 3);
	sqlite3_reset(st);
	return 0;
}

/*
 * What every delivery of a campaign shares, kept per renderer (one per
 * dispatch worker) instead of being read and compiled again for each
 * message: measured with callgrind, loading and compiling the template
 * (16%) and reading the campaign with its template and list names (4%)
 * were a fifth of the rendering. Both caches are safe without
 * invalidation:
 * - a campaign's rendering fields (name, template, send_at, tz, sender,
 *   event_date) never change once it exists: the only updates are of its
 *   state and timestamps (ST_SET_STATE, ST_START, ST_FINISH), which
 *   rendering does not read;
 * - a template version is immutable once locked: the triggers of
 *   db/0002_templates.sql refuse to change or delete it, so its id is
 *   never reused either. A campaign locks its version when it starts, in
 *   the transaction that creates its deliveries. A version found unlocked
 *   anyway is used for that one message and never kept.
 * A new template version has a new id, so it is never served from a stale
 * entry. Contacts and bodies do change: they are read for every message.
 * A handful of entries suffices (a worker sends a few campaigns at once)
 * and bounds the memory: a template may carry attachments.
 */
#define RENDERER_SLOTS 4

struct cached_template {
	int64_t id;
	struct template *t;
};

struct campaign_renderer {
	struct campaign_info campaigns[RENDERER_SLOTS];
	size_t ncampaigns, next_campaign; /* next_campaign: next to evict */
	struct cached_template templates[RENDERER_SLOTS];
	size_t ntemplates, next_template;
	struct campaign_renderer_stats stats;
	char last_lang[64]; /* the language of the last message rendered */
};

struct campaign_renderer *campaign_renderer_new(void)
{
	return xcalloc(1, sizeof(struct campaign_renderer));
}

void campaign_renderer_free(struct campaign_renderer *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->ncampaigns; i++)
		campaign_info_release(&r->campaigns[i]);
	for (size_t i = 0; i < r->ntemplates; i++)
		template_free(r->templates[i].t);
	free(r);
}

const char *campaign_renderer_last_lang(const struct campaign_renderer *r)
{
	return r->last_lang[0] ? r->last_lang : NULL;
}

void campaign_renderer_get_stats(const struct campaign_renderer *r,
				 struct campaign_renderer_stats *out)
{
	*out = r->stats;
}

/* The slot a new entry goes to: a free one, else the oldest. */
static size_t renderer_slot(size_t *n, size_t *next)
{
	size_t i;

	if (*n < RENDERER_SLOTS)
		return (*n)++;
	i = *next;
	*next = (*next + 1) % RENDERER_SLOTS;
	return i;
}

static int renderer_campaign(struct campaign_renderer *r, struct db *db,
			     int64_t id, const struct campaign_info **out,
			     struct error *err)
{
	struct campaign_info c;
	size_t i;
	int rc;

	for (i = 0; i < r->ncampaigns; i++)
		if (r->campaigns[i].id == id) {
			r->stats.campaign_hits++;
			*out = &r->campaigns[i];
			return 0;
		}
	rc = campaign_get(db, id, &c, err);
	if (rc)
		return rc;
	r->stats.campaign_loads++;
	i = renderer_slot(&r->ncampaigns, &r->next_campaign);
	campaign_info_release(&r->campaigns[i]);
	r->campaigns[i] = c;
	*out = &r->campaigns[i];
	return 0;
}

/* The loaded version template_id; *owned when the caller must free it
 * (an unlocked version, see above). */
static int renderer_template(struct campaign_renderer *r, struct db *db,
			     int64_t template_id, struct template **out,
			     bool *owned, struct error *err)
{
	struct template_info info;
	bool locked;
	size_t i;
	int rc;

	*owned = false;
	for (i = 0; i < r->ntemplates; i++)
		if (r->templates[i].id == template_id) {
			r->stats.template_hits++;
			*out = r->templates[i].t;
			return 0;
		}
	rc = template_get(db, template_id, &info, err);
	if (rc)
		return rc;
	locked = info.locked;
	template_info_release(&info);
	rc = template_load(db, template_id, out, err);
	if (rc)
		return rc;
	r->stats.template_loads++;
	if (!locked) {
		*owned = true;
		return 0;
	}
	i = renderer_slot(&r->ntemplates, &r->next_template);
	template_free(r->templates[i].t);
	r->templates[i] = (struct cached_template){template_id, *out};
	return 0;
}

int campaign_renderer_message(struct campaign_renderer *r, struct db *db,
			      const struct conf *cfg, int64_t delivery_id,
			      struct sbuf *out, struct error *err)
{
	const struct campaign_info *c = NULL;
	struct template *t = NULL;
	struct delivery_row d;
	struct delivery_ctx ctx;
	bool owned = false;
	int rc = delivery_load(db, delivery_id, &d, err);

	if (!rc)
		rc = renderer_campaign(r, db, d.campaign_id, &c, err);
	if (!rc)
		rc = renderer_template(r, db, c->template_id, &t, &owned, err);
	if (!rc)
		rc = campaign_delivery_ctx_init(db, cfg, c, d.contact_id,
						d.message_id, d.envid, &ctx,
						err);
	if (!rc) {
		struct template_choice choice;

		/* chosen in memory: no query beyond the contact and body */
		rc = message_compose(campaign_variant(cfg, c, t, &ctx, &choice),
				     &ctx.ctx, out, err);
		snprintf(r->last_lang, sizeof(r->last_lang), "%s",
			 rc ? "" : choice.sent);
		campaign_delivery_ctx_release(&ctx);
	}
	if (rc)
		error_prefix(err, "delivery #%lld", (long long)delivery_id);
	if (owned)
		template_free(t);
	free(d.message_id);
	free(d.envid);
	return rc;
}

int campaign_delivery_message(struct db *db, const struct conf *cfg,
			      int64_t delivery_id, struct sbuf *out,
			      struct error *err)
{
	struct campaign_renderer *r = campaign_renderer_new();
	int rc = campaign_renderer_message(r, db, cfg, delivery_id, out, err);

	campaign_renderer_free(r);
	return rc;
}

/* The first active contact of the list (of body_id when not 0). */
struct pick {
	int64_t body_id;
	int64_t contact_id; /* 0 until found */
};

static int pick_contact(const struct member *m, void *arg)
{
	struct pick *p = arg;

	if (m->status != CONTACT_ACTIVE || (p->body_id && m->body_id != p->body_id))
		return 0;
	p->contact_id = m->contact_id;
	return 1; /* found: stop the walk */
}

int campaign_first_contact(struct db *db, const struct campaign_info *c,
			   const char *body_key, int64_t *contact_id,
			   struct error *err)
{
	struct registry_body body = {0};
	struct pick pick = {0, 0};
	int rc = body_key ? registry_body_find(db, body_key, &body, err) : 0;

	pick.body_id = body.id;
	if (!rc)
		rc = campaign_members_each(db, c->list_id, pick_contact, &pick,
					   err);
	registry_body_release(&body);
	if (rc < 0)
		return rc;
	if (!pick.contact_id)
		return error_set(err, ERR_NOTFOUND, "list '%s' has no active "
				 "contact%s%s", c->list_name,
				 body_key ? " of " : "", body_key ? body_key : "");
	*contact_id = pick.contact_id;
	return 0;
}

int campaign_preview(struct db *db, const struct conf *cfg, int64_t id,
		     const char *body_key, struct sbuf *out,
		     struct error *err)
{
	struct campaign_info c = {0};
	struct delivery_ctx ctx;
	char *message_id = NULL;
	int64_t contact_id = 0;
	int rc = campaign_get(db, id, &c, err);

	if (!rc)
		rc = campaign_first_contact(db, &c, body_key, &contact_id, err);
	if (rc)
		goto out;
	message_id = xasprintf("%lld.preview@%s", (long long)c.id,
			       campaign_message_domain(cfg, &c));
	rc = campaign_delivery_ctx_init(db, cfg, &c, contact_id,
					message_id, "chancery-preview", &ctx,
					err);
	if (!rc) {
		rc = campaign_delivery_render(db, cfg, &c, &ctx, out, err);
		campaign_delivery_ctx_release(&ctx);
	}
out:
	free(message_id);
	campaign_info_release(&c);
	return rc;
}
