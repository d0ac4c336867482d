/*
 * routes: the console's route table, one group per page file (each
 * group's handlers are declared in pages.h). A path ending in '/' with
 * prefix set matches every longer path; the first matching row wins, so
 * exact rows come before the prefix rows of the same page.
 */
#include "pages.h"

const struct web_route web_routes[] = {
	/* web/assets.c */
	{"GET", "/static/", true, USER_READ, true, page_asset},

	/* web/page_login.c */
	{"GET", "/login", false, USER_READ, true, page_login_form},
	{"POST", "/login", false, USER_READ, true, page_login_submit},
	{"POST", "/logout", false, USER_READ, false, page_logout},

	/* web/page_home.c */
	{"GET", "/", false, USER_READ, false, page_home},

	/* web/page_registry.c */
	{"GET", "/registry", false, USER_READ, false, page_registry_search},
	{"GET", "/body/new", false, USER_EDIT, false, page_body_new},
	{"POST", "/body/new", false, USER_EDIT, false, page_body_add},
	{"GET", "/body/", true, USER_READ, false, page_body_show},
	{"POST", "/body/", true, USER_EDIT, false, page_body_post},

	/* web/page_import.c */
	{"GET", "/registry/import", false, USER_EDIT, false, page_import_form},
	{"POST", "/registry/import", false, USER_EDIT, false,
	 page_import_preview},
	{"POST", "/registry/import/apply", false, USER_EDIT, false,
	 page_import_apply},

	/* web/page_lists.c */
	{"GET", "/lists", false, USER_READ, false, page_lists},
	{"POST", "/lists/new", false, USER_EDIT, false, page_list_create},
	{"GET", "/lists/addressees", false, USER_EDIT, false,
	 page_addressees_form},
	{"POST", "/lists/addressees", false, USER_EDIT, false,
	 page_addressees_plan},
	{"POST", "/lists/addressees/apply", false, USER_EDIT, false,
	 page_addressees_apply},
	{"GET", "/list", false, USER_READ, false, page_list_show},
	{"POST", "/list/", true, USER_EDIT, false, page_list_post},

	/* web/page_templates.c */
	{"GET", "/templates", false, USER_READ, false, page_templates},
	{"GET", "/template", false, USER_READ, false, page_template_show},

	/* web/page_campaigns.c */
	{"GET", "/campaigns", false, USER_READ, false, page_campaigns},
	{"GET", "/campaign/", true, USER_READ, false, page_campaign_show},
	{"POST", "/campaign/", true, USER_EDIT, false, page_campaign_post},
	{"POST", "/approval/", true, USER_APPROVE, false, page_campaign_decide},

	/* web/page_campaign_new.c */
	{"GET", "/campaigns/new", false, USER_EDIT, false,
	 page_campaign_new_form},
	{"POST", "/campaigns/new", false, USER_EDIT, false, page_campaign_new},

	/* web/page_audit.c */
	{"GET", "/audit", false, USER_READ, false, page_audit},
	{"GET", "/audit/campaign", false, USER_READ, false, page_audit_campaign},
	{"GET", "/audit/body", false, USER_READ, false, page_audit_body},
	{"POST", "/audit/verify", false, USER_EDIT, false, page_audit_verify},

	/* web/page_inbound.c */
	{"GET", "/inbound", false, USER_READ, false, page_inbound},
	/* POST /inbound/ID/confirm and /inbound/ID/dismiss */
	{"POST", "/inbound/", true, USER_EDIT, false, page_inbound_confirm},

	{NULL, NULL, false, USER_READ, false, NULL},
};
