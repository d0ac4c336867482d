/*
 * pages: the handlers web/routes.c names, one group per page file. Each
 * page file includes this header and defines its group's functions
 * (handlers are web_handler: see web.h). Keep one group per file with its
 * comment line, so that branches adding pages merge without conflicts.
 */
#ifndef CHANCERY_WEB_PAGES_H
#define CHANCERY_WEB_PAGES_H

#include "web.h"

#define WEB_HANDLER(name)                                                  \
	int name(struct web_ctx *ctx, const struct web_request *rq,         \
		 struct web_response *rs)

/* web/assets.c: GET /static/... (public) */
WEB_HANDLER(page_asset);

/* web/page_login.c */
WEB_HANDLER(page_login_form);   /* GET /login */
WEB_HANDLER(page_login_submit); /* POST /login */
WEB_HANDLER(page_logout);       /* POST /logout */

/* web/page_home.c */
WEB_HANDLER(page_home);            /* GET /: the overview */

/* web/page_registry.c */
WEB_HANDLER(page_registry_search); /* GET /registry */
WEB_HANDLER(page_body_new);        /* GET /body/new */
WEB_HANDLER(page_body_add);        /* POST /body/new */
WEB_HANDLER(page_body_show);       /* GET /body/ID */
WEB_HANDLER(page_body_post);       /* POST /body/ID/ACTION */

/* web/page_import.c */
WEB_HANDLER(page_import_form);    /* GET /registry/import */
WEB_HANDLER(page_import_preview); /* POST /registry/import */
WEB_HANDLER(page_import_apply);   /* POST /registry/import/apply */

/* web/page_lists.c */
WEB_HANDLER(page_lists);              /* GET /lists */
WEB_HANDLER(page_list_create);        /* POST /lists/new */
WEB_HANDLER(page_list_show);          /* GET /list?name=NAME */
WEB_HANDLER(page_list_post);          /* POST /list/ACTION */
WEB_HANDLER(page_addressees_form);    /* GET /lists/addressees */
WEB_HANDLER(page_addressees_plan);    /* POST /lists/addressees */
WEB_HANDLER(page_addressees_apply);   /* POST /lists/addressees/apply */

/* web/page_templates.c (webpages) */
WEB_HANDLER(page_templates);      /* GET /templates */
WEB_HANDLER(page_template_show);  /* GET /template?name=N&version=V */

/* web/page_campaigns.c (webpages) */
WEB_HANDLER(page_campaigns);       /* GET /campaigns */
WEB_HANDLER(page_campaign_show);   /* GET /campaign/ID[/progress.json|/proofs] */
WEB_HANDLER(page_campaign_post);   /* POST /campaign/ID/ACTION */
WEB_HANDLER(page_campaign_decide); /* POST /approval/ID/approve|reject */
/* /static/progress.js (served by assets.c): polls progress.json */
extern const char web_progress_js[];

/* web/page_campaign_new.c */
WEB_HANDLER(page_campaign_new_form); /* GET /campaigns/new */
WEB_HANDLER(page_campaign_new);      /* POST /campaigns/new */

/* web/page_audit.c (webpages) */
WEB_HANDLER(page_audit);          /* GET /audit (matrix, ledger) */
WEB_HANDLER(page_audit_campaign); /* GET /audit/campaign?name=N */
WEB_HANDLER(page_audit_body);     /* GET /audit/body?body=B */
WEB_HANDLER(page_audit_verify);   /* POST /audit/verify */

/* web/page_inbound.c (webpages) */
WEB_HANDLER(page_inbound);         /* GET /inbound */
WEB_HANDLER(page_inbound_confirm); /* POST /inbound/ID/confirm|dismiss */

#endif
