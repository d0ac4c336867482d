/*
 * message: one statement for one addressee as a complete RFC 5322 message
 * (MIME, through GMime 3), ready for the transport.
 *
 * What goes out: From (the campaign's sender override, else the
 * template's From:, else the configured sender), To (the contact, with
 * its display name), Reply-To (the template's, else the configured one),
 * Subject (RFC 2047 encoded when not ASCII), Date (now, in ctx->tz),
 * Message-ID (ctx->message_id, else one generated on the sender's
 * domain), MIME-Version, Organization when configured, and
 * X-Chancery-Delivery when ctx->envid is set, and
 * Disposition-Notification-To (the From address) when ctx->receipt asks
 * for a read receipt (RFC 8098). The body is text/plain;
 * charset=utf-8 in quoted-printable; with an HTML part the two form a
 * multipart/alternative; with attachments everything sits in a
 * multipart/mixed whose attachments are base64 with their file names
 * (RFC 2231 when not ASCII). Lines end in CRLF and none exceeds 998
 * octets.
 *
 * A value reaching a header that holds CR or LF is refused with ERR_DATA
 * naming the variable (header injection); so is an address that does not
 * pass address_check.
 */
#ifndef CHANCERY_MESSAGE_H
#define CHANCERY_MESSAGE_H

#include <stdint.h>

#include "chancery/db.h"
#include "chancery/error.h"
#include "chancery/render.h"
#include "chancery/sbuf.h"
#include "chancery/template.h"

/* Renders a loaded template for ctx, appending the message to out. For a
 * campaign: load the version once (template_load), compose many. A
 * struct template caches compiled partials, so one thread at a time. */
int message_compose(struct template *t, const struct render_context *ctx,
		    struct sbuf *out, struct error *err);

/* Loads version template_id and composes the message for ctx. */
int message_render(struct db *db, int64_t template_id,
		   const struct render_context *ctx, struct sbuf *out,
		   struct error *err);

#endif
