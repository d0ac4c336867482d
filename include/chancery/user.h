/*
 * user: the web console's local accounts, their sessions and the login
 * throttle (tables users, user_sessions, login_failures; migration 0025).
 *
 * Roles, each including the one before:
 *   viewer    reads every page
 *   editor    changes the registry, lists, templates and campaigns
 *             (create, edit, proof, test send, schedule, pause, cancel)
 *   approver  also approves and rejects campaigns
 *   admin     also manages accounts
 * The roles are enforced here (user_may) for the console, and by
 * campaign_approve: once the users table has an enabled account, an
 * approval's actor (db_actor) must be an enabled approver or admin, and
 * campaign.four_eyes refuses the person who created or last edited it.
 *
 * Passwords are hashed with Argon2id (libargon2, encoded form with its
 * own salt and parameters); a password is 12 to 256 bytes. A session is
 * 32 random bytes handed to the browser as 43 base64url characters; the
 * table keeps only their SHA-256, so a copy of the database opens no
 * session. Each session has its own CSRF token (another 32 random bytes,
 * stored as is: it is not a credential on its own).
 *
 * Every change appends user.added or user.changed (never the password or
 * its hash) with db_actor as actor, in the change's transaction.
 */
#ifndef CHANCERY_USER_H
#define CHANCERY_USER_H

#include <stdbool.h>
#include <stdint.h>

#include "chancery/db.h"
#include "chancery/error.h"

enum user_role {
	USER_VIEWER,
	USER_EDITOR,
	USER_APPROVER,
	USER_ADMIN,
};
/* "viewer", ...; NULL out of range. */
const char *user_role_name(enum user_role r);
/* 0, or ERR_USAGE "unknown role 'X' (viewer, editor, approver, admin)". */
int user_role_parse(const char *name, enum user_role *out, struct error *err);

/* What a role may do; the console checks before every action. */
enum user_action {
	USER_READ,    /* any page */
	USER_EDIT,    /* registry, lists, templates, campaigns */
	USER_APPROVE, /* approve / reject a campaign */
	USER_ADMINISTER, /* accounts */
};
bool user_may(enum user_role role, enum user_action action);

/* An account as stored; owned strings. */
struct user_info {
	int64_t id;
	char *name;
	enum user_role role;
	bool disabled;
	int64_t created_at, last_login_at; /* 0: never */
};
void user_info_release(struct user_info *u);

/*
 * Creates an account. name: 1 to 64 bytes of UTF-8, no control
 * characters, no spaces at either end (the same rule as --as); taken
 * names are ERR_DATA "user 'X' exists". A password outside 12..256 bytes
 * is ERR_USAGE naming the rule.
 */
int user_add(struct db *db, const char *name, enum user_role role,
	     const char *password, struct error *err);
int user_set_password(struct db *db, const char *name, const char *password,
		      struct error *err);
int user_set_role(struct db *db, const char *name, enum user_role role,
		  struct error *err);
/* Disabling also ends the account's sessions. */
int user_set_disabled(struct db *db, const char *name, bool disabled,
		      struct error *err);
/* ERR_NOTFOUND "no user 'X'". */
int user_find(struct db *db, const char *name, struct user_info *out,
	      struct error *err);
/* Every account by name; a non-zero return from fn stops the walk. */
int user_each(struct db *db, int (*fn)(const struct user_info *u, void *arg),
	      void *arg, struct error *err);
/* Whether any enabled account exists (then approvals need an approver). */
int user_any(struct db *db, bool *any, struct error *err);

/* A new random password of 20 characters from an unambiguous alphabet,
 * for `chancery user add --generate` and the demo's one-time admin
 * password; caller frees. */
char *user_password_generate(void);

#define USER_TOKEN_SIZE 44 /* 43 base64url characters and a NUL */

/* A logged-in session as the console sees it. */
struct user_session {
	struct user_info user;
	char token[USER_TOKEN_SIZE]; /* only filled by user_login */
	char csrf[USER_TOKEN_SIZE];
	int64_t expires_at;
};
void user_session_release(struct user_session *s);

/*
 * Checks name and password and opens a session lasting ttl seconds.
 * client (the peer address) keys the throttle with the name: after 5
 * failures within 15 minutes for that name or that client, every attempt
 * is ERR_TEMPFAIL "too many failed logins; try again in N seconds"
 * without checking the password. A wrong name or password, or a
 * disabled account, is ERR_NOPERM "wrong name or password" (the same
 * text for each, and the same Argon2 cost for an unknown name).
 */
int user_login(struct db *db, const char *name, const char *password,
	       const char *client, int64_t now, int64_t ttl,
	       struct user_session *out, struct error *err);
/* The session of a token that is unexpired and of an enabled account;
 * ERR_NOPERM "no session" otherwise. */
int user_session_find(struct db *db, const char *token, int64_t now,
		      struct user_session *out, struct error *err);
/* Whether csrf is the session's token (constant time). */
bool user_session_csrf_ok(const struct user_session *s, const char *csrf);
int user_logout(struct db *db, const char *token, struct error *err);

#endif
