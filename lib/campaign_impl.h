/*
 * campaign_impl: what the files of the campaign module share, private to
 * lib/. campaign.c holds the lifecycle and the campaigns table's
 * statements, campaign_approve.c approval with its frozen recipient set
 * (campaign_approvals, campaign_recipients, campaign_unreached), edit and
 * reject, campaign_start.c the materialisation of deliveries and
 * campaign_render.c the rendering of their messages.
 */
#ifndef CHANCERY_CAMPAIGN_IMPL_H
#define CHANCERY_CAMPAIGN_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "chancery/campaign.h"
#include "chancery/conf.h"
#include "chancery/db.h"
#include "chancery/error.h"
#include "chancery/ledger.h"
#include "chancery/protocol.h"
#include "chancery/registry.h"
#include "chancery/render.h"

/* The campaign module's statements (the SQL is in campaign.c). */
enum {
	ST_INSERT,
	ST_BY_NAME,
	ST_BY_ID,
	ST_BY_SERIES,
	ST_ALL,
	ST_SET_STATE,
	ST_START,
	ST_FINISH,
	ST_DUE,
	ST_NEXT_DUE,
	ST_FINISHABLE,
	ST_COUNTS,
	ST_DELIVERY_GET,
	ST_REDRAFT,
	ST_RENAME,
	ST__COUNT
};
extern const struct db_statements campaign_statements;

/* A campaign event naming the campaign and, when not NULL, the states. */
int campaign_event(struct db *db, enum ledger_kind kind,
		   const struct campaign_info *c, const char *from,
		   const char *to, struct error *err);
/* ERR_DATA: c's state does not allow verb (allowed: the states it
 * applies to, as a phrase). */
int campaign_illegal(const struct campaign_info *c, const char *verb,
		     const char *allowed, struct error *err);

/* The checks of schedule (campaign.h): problems, one a line, ERR_DATA. */
int campaign_check_all(struct db *db, const struct conf *cfg,
		       const struct campaign_info *c, struct sbuf *problems,
		       struct error *err);
/* Moves c to `to` unless it moved meanwhile (ERR_TEMPFAIL); no event. */
int campaign_set_state(struct db *db, struct campaign_info *c,
		       enum campaign_state to, struct error *err);
/* One state change with its ledger event, in one (nested) transaction. */
int campaign_transition(struct db *db, struct campaign_info *c,
			enum campaign_state to, enum ledger_kind kind,
			struct error *err);

/* A contact of a campaign's list, as a walk over the list sees it (the
 * strings belong to the row being read). */
struct member {
	int64_t contact_id;
	int64_t body_id;
	const char *email;
	enum registry_contact_status status;
	const char *status_reason;
};

/* A walk over a list's members one row at a time: a campaign to a million
 * contacts must not hold them all (100 bytes each) to start or check. */
typedef int member_fn(const struct member *m, void *arg);

/* Calls fn for each member of the list; a non-zero return stops. */
int campaign_members_each(struct db *db, int64_t list_id, member_fn *fn,
			  void *arg, struct error *err);

/* A delivery's render context with the contact and body it points to. */
struct delivery_ctx {
	struct registry_body body;
	struct registry_contact contact;
	struct protocol_forms protocol; /* locale: running names, salutations */
	struct render_context ctx;
};

/*
 * The first active contact of c's list, of the body body_key names when
 * not NULL: whom a preview or a test send renders for. ERR_NOTFOUND
 * "list 'L' has no active contact [of B]" when there is none.
 */
int campaign_first_contact(struct db *db, const struct campaign_info *c,
			   const char *body_key, int64_t *contact_id,
			   struct error *err);

/* Loads the contact and its body and fills the render context. */
int campaign_delivery_ctx_init(struct db *db, const struct conf *cfg,
			       const struct campaign_info *c,
			       int64_t contact_id, const char *message_id,
			       const char *envid, struct delivery_ctx *d,
			       struct error *err);
void campaign_delivery_ctx_release(struct delivery_ctx *d);

/*
 * The variant of t (a loaded version) that d's contact gets: by the
 * contact's language, then the body's, then c's (or campaign.language),
 * each with its fallback chain (template_choose); sets d->ctx.lang. In
 * memory only: no query. out (may be NULL) gets the whole choice.
 */
struct template;
struct template_choice;
struct template *campaign_variant(const struct conf *cfg,
				  const struct campaign_info *c,
				  struct template *t, struct delivery_ctx *d,
				  struct template_choice *out);

/* Loads c's template version, chooses d's variant and composes the
 * message into out (one message: previews, test sends). */
int campaign_delivery_render(struct db *db, const struct conf *cfg,
			     const struct campaign_info *c,
			     struct delivery_ctx *d, struct sbuf *out,
			     struct error *err);

/* Why a member gets no message, or NULL when it gets one (caller frees):
 * its status, or an address that does not parse. */
char *campaign_skip_reason(const struct member *m);

/* How many contacts the campaign's approval froze (0: none, the start
 * walks the list as before approvals existed). */
int campaign_frozen_count(struct db *db, int64_t id, int64_t *n,
			  struct error *err);

/* Queues c's deliveries as it becomes scheduled (campaign_start.c): due
 * at its send time (or now, when that has passed), claimed only once it
 * runs; *added gets the rows. The caller holds the transaction. */
int campaign_queue_scheduled(struct db *db, const struct conf *cfg,
			     const struct campaign_info *c, int *added,
			     struct error *err);

/* The domain Message-IDs are made in: the campaign's sender's, else the
 * configured sender's, else "localhost". */
const char *campaign_message_domain(const struct conf *cfg,
				    const struct campaign_info *c);

/* The ids the statement index returns (bound to arg when it takes one);
 * the caller frees *ids. */
int campaign_load_ids(struct db *db, int index, int64_t arg, int64_t **ids,
		      size_t *n, struct error *err);

#endif
