/*
 * The console's accounts, sessions and login throttle (user.h).
 *
 * Passwords: Argon2id through libargon2 in its encoded form
 * ("$argon2id$v=19$m=65536,t=3,p=1$salt$hash"), a 16-byte salt from
 * getrandom(2) and a 32-byte tag. A login for a name that does not exist
 * verifies the password against a dummy hash made once with the same
 * parameters, so the answer takes as long for a wrong name as for a
 * wrong password.
 *
 * The Argon2 work (a third of a second) happens outside any write
 * transaction: the daemon shares the file, and BEGIN IMMEDIATE would
 * hold its write lock that long. So two attempts racing can each pass the
 * throttle before either records its failure; the count may reach 6 or 7
 * rather than 5, never more than the attempts in flight.
 */
#include <argon2.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "chancery/clock.h"
#include "chancery/ledger.h"
#include "chancery/sha256.h"
#include "chancery/user.h"
#include "chancery/utf8.h"
#include "chancery/xalloc.h"
#include "user_impl.h"

#define NAME_MAX_BYTES 64
#define PASSWORD_MIN 12
#define PASSWORD_MAX 256
#define SALT_BYTES 16
#define TAG_BYTES 32
#define ENCODED_MAX 160
#define THROTTLE_FAILURES 5
#define THROTTLE_WINDOW 900 /* seconds */
#define TOKEN_BYTES 32

enum {
	U_INSERT,
	U_FIND,
	U_EACH,
	U_SET_HASH,
	U_SET_ROLE,
	U_SET_DISABLED,
	U_ANY,
	U_LOGGED_IN,
	S_INSERT,
	S_FIND,
	S_DELETE,
	S_DELETE_USER,
	S_PRUNE,
	F_INSERT,
	F_PRUNE,
	F_NAME_NTH,
	F_CLIENT_NTH,
	F_CLEAR_NAME,
	ST__COUNT
};

#define USER_COLUMNS "id, name, role, disabled, created_at, last_login_at"

static const char *const user_sql[ST__COUNT] = {
	[U_INSERT] = "INSERT INTO users (name, role, password_hash, disabled, "
		     "created_at, updated_at) VALUES (?1, ?2, ?3, 0, ?4, ?4)",
	[U_FIND] = "SELECT " USER_COLUMNS ", password_hash FROM users "
		   "WHERE name = ?1",
	[U_EACH] = "SELECT " USER_COLUMNS " FROM users ORDER BY name",
	[U_SET_HASH] = "UPDATE users SET password_hash = ?2, updated_at = ?3 "
		       "WHERE id = ?1",
	[U_SET_ROLE] = "UPDATE users SET role = ?2, updated_at = ?3 "
		       "WHERE id = ?1",
	[U_SET_DISABLED] = "UPDATE users SET disabled = ?2, updated_at = ?3 "
			   "WHERE id = ?1",
	[U_ANY] = "SELECT EXISTS (SELECT 1 FROM users WHERE disabled = 0)",
	[U_LOGGED_IN] = "UPDATE users SET last_login_at = ?2 WHERE id = ?1",
	[S_INSERT] = "INSERT INTO user_sessions (user_id, token_sha256, csrf, "
		     "client, created_at, expires_at) "
		     "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[S_FIND] = "SELECT s.csrf, s.expires_at, u.id, u.name, u.role, "
		   "u.disabled, u.created_at, u.last_login_at "
		   "FROM user_sessions s JOIN users u ON u.id = s.user_id "
		   "WHERE s.token_sha256 = ?1 AND s.expires_at > ?2 "
		   "AND u.disabled = 0",
	[S_DELETE] = "DELETE FROM user_sessions WHERE token_sha256 = ?1",
	[S_DELETE_USER] = "DELETE FROM user_sessions WHERE user_id = ?1",
	[S_PRUNE] = "DELETE FROM user_sessions WHERE expires_at <= ?1",
	[F_INSERT] = "INSERT INTO login_failures (name, client, at) "
		     "VALUES (?1, ?2, ?3)",
	[F_PRUNE] = "DELETE FROM login_failures WHERE at <= ?1",
	/* the 5th newest failure in the window: while there is one, the
	 * throttle holds until it leaves the window */
	[F_NAME_NTH] = "SELECT at FROM login_failures WHERE name = ?1 "
		       "AND at > ?2 ORDER BY at DESC LIMIT 1 OFFSET ?3",
	[F_CLIENT_NTH] = "SELECT at FROM login_failures WHERE client = ?1 "
			 "AND at > ?2 ORDER BY at DESC LIMIT 1 OFFSET ?3",
	[F_CLEAR_NAME] = "DELETE FROM login_failures WHERE name = ?1",
};

static const struct db_statements user_statements = {"user", user_sql,
						     ST__COUNT};

/* ---- roles ---- */

static const char *const role_names[] = {
	[USER_VIEWER] = "viewer",
	[USER_EDITOR] = "editor",
	[USER_APPROVER] = "approver",
	[USER_ADMIN] = "admin",
};

const char *user_role_name(enum user_role r)
{
	if ((int)r < 0 || (size_t)r >= sizeof(role_names) / sizeof(*role_names))
		return NULL;
	return role_names[r];
}

static bool role_lookup(const char *name, enum user_role *out)
{
	for (size_t i = 0; name && i < sizeof(role_names) / sizeof(*role_names);
	     i++) {
		if (strcmp(name, role_names[i]) == 0) {
			*out = (enum user_role)i;
			return true;
		}
	}
	return false;
}

int user_role_parse(const char *name, enum user_role *out, struct error *err)
{
	char *shown;
	int rc;

	if (role_lookup(name, out))
		return 0;
	shown = utf8_escaped(name ? name : "");
	rc = error_set(err, ERR_USAGE, "unknown role '%s' (viewer, editor, "
		       "approver, admin)", shown);
	free(shown);
	return rc;
}

bool user_may(enum user_role role, enum user_action action)
{
	switch (action) {
	case USER_READ:
		return role >= USER_VIEWER && role <= USER_ADMIN;
	case USER_EDIT:
		return role >= USER_EDITOR && role <= USER_ADMIN;
	case USER_APPROVE:
		return role >= USER_APPROVER && role <= USER_ADMIN;
	case USER_ADMINISTER:
		return role == USER_ADMIN;
	}
	return false;
}

void user_info_release(struct user_info *u)
{
	if (!u)
		return;
	free(u->name);
	u->name = NULL;
}

void user_session_release(struct user_session *s)
{
	if (!s)
		return;
	user_info_release(&s->user);
	explicit_bzero(s->token, sizeof(s->token));
	explicit_bzero(s->csrf, sizeof(s->csrf));
}

/* ---- checks ---- */

static int check_name(const char *name, struct error *err)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0)
		return error_set(err, ERR_DATA, "a user name cannot be empty");
	if (len > NAME_MAX_BYTES)
		return error_set(err, ERR_DATA, "a user name is 1 to %d bytes "
				 "(this one has %zu)", NAME_MAX_BYTES, len);
	return utf8_check_text("the user name", name, err);
}

static int check_password(const char *password, struct error *err)
{
	size_t len = password ? strlen(password) : 0;

	if (len < PASSWORD_MIN || len > PASSWORD_MAX)
		return error_set(err, ERR_USAGE, "a password is %d to %d bytes "
				 "(this one has %zu)", PASSWORD_MIN,
				 PASSWORD_MAX, len);
	return 0;
}

/* ---- random bytes, tokens, hashes ---- */

static int random_bytes(void *buf, size_t len, struct error *err)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return error_set_errno(err, ERR_OS, "getrandom");
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* 32 bytes as 43 base64url characters, no padding. */
static void base64url(const unsigned char in[TOKEN_BYTES],
		      char out[USER_TOKEN_SIZE])
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				"0123456789-_";
	size_t o = 0;
	uint32_t v;
	int i;

	for (i = 0; i + 3 <= TOKEN_BYTES; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = a[v >> 6 & 63];
		out[o++] = a[v & 63];
	}
	/* 32 = 30 + 2: two bytes left, three characters */
	v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
	out[o++] = a[v >> 18 & 63];
	out[o++] = a[v >> 12 & 63];
	out[o++] = a[v >> 6 & 63];
	out[o] = '\0';
}

static int new_token(char out[USER_TOKEN_SIZE], struct error *err)
{
	unsigned char raw[TOKEN_BYTES];
	int rc = random_bytes(raw, sizeof(raw), err);

	if (!rc)
		base64url(raw, out);
	explicit_bzero(raw, sizeof(raw));
	return rc;
}

static uint32_t hash_t_cost = USER_HASH_T_COST;
static uint32_t hash_m_kib = USER_HASH_M_KIB;
static pthread_mutex_t dummy_lock = PTHREAD_MUTEX_INITIALIZER;
static char dummy_hash[ENCODED_MAX];
static uint32_t dummy_t, dummy_m;

void user_hash_cost_set(uint32_t t_cost, uint32_t m_kib)
{
	hash_t_cost = t_cost;
	hash_m_kib = m_kib;
}

static int hash_with_salt(const char *password, const unsigned char *salt,
			  char out[ENCODED_MAX], struct error *err)
{
	int a = argon2id_hash_encoded(hash_t_cost, hash_m_kib, USER_HASH_LANES,
				      password, strlen(password), salt,
				      SALT_BYTES, TAG_BYTES, out, ENCODED_MAX);

	if (a != ARGON2_OK)
		return error_set(err, ERR_SOFTWARE, "argon2id: %s",
				 argon2_error_message(a));
	return 0;
}

static int hash_password(const char *password, char out[ENCODED_MAX],
			 struct error *err)
{
	unsigned char salt[SALT_BYTES];
	int rc = random_bytes(salt, sizeof(salt), err);

	return rc ? rc : hash_with_salt(password, salt, out, err);
}

/* The hash an unknown name's password is checked against, at the cost
 * of a real one: made once per process (again if the cost changed). Its
 * result is discarded, so what it was made of does not matter. */
static int dummy(char out[ENCODED_MAX], struct error *err)
{
	static const unsigned char salt[SALT_BYTES] = "chancery-dummy!";
	int rc = 0;

	pthread_mutex_lock(&dummy_lock);
	if (!dummy_hash[0] || dummy_t != hash_t_cost || dummy_m != hash_m_kib) {
		rc = hash_with_salt("\x01no such user\x01", salt, dummy_hash,
				    err);
		dummy_t = hash_t_cost;
		dummy_m = hash_m_kib;
		if (rc)
			dummy_hash[0] = '\0';
	}
	memcpy(out, dummy_hash, ENCODED_MAX);
	pthread_mutex_unlock(&dummy_lock);
	return rc;
}

char *user_password_generate(void)
{
	/* no 0/O, 1/l/I: read aloud or copied by hand without doubt */
	static const char alphabet[] = "23456789abcdefghijkmnpqrstuvwxyz"
				       "ABCDEFGHJKLMNPQRSTUVWXYZ";
	const unsigned n = sizeof(alphabet) - 1; /* 56 */
	const unsigned limit = 256 - 256 % n;    /* rejection: no bias */
	char *out = xmalloc(21);
	unsigned char buf[32];
	size_t used = sizeof(buf), i = 0;

	while (i < 20) {
		if (used == sizeof(buf)) {
			/* getrandom(2) on a 256-bit request only fails before
			 * the kernel's pool is ready (it blocks instead) or
			 * on a signal; there is no error to return here */
			if (random_bytes(buf, sizeof(buf), NULL))
				abort();
			used = 0;
		}
		if (buf[used] < limit)
			out[i++] = alphabet[buf[used] % n];
		used++;
	}
	out[20] = '\0';
	explicit_bzero(buf, sizeof(buf));
	return out;
}

/* ---- accounts ---- */

static void read_info(sqlite3_stmt *st, int col, struct user_info *u)
{
	u->id = sqlite3_column_int64(st, col);
	u->name = db_column_strdup(st, col + 1);
	if (!role_lookup(db_column_text(st, col + 2), &u->role))
		u->role = USER_VIEWER;
	u->disabled = sqlite3_column_int(st, col + 3) != 0;
	u->created_at = sqlite3_column_int64(st, col + 4);
	u->last_login_at = sqlite3_column_int64(st, col + 5);
}

/* The account and (when hash is given) its stored hash; 1 when found,
 * 0 when not, or an ERR_ code. */
static int lookup(struct db *db, const char *name, struct user_info *out,
		  char hash[ENCODED_MAX], struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &user_statements, U_FIND, &st, err);

	memset(out, 0, sizeof(*out));
	if (rc)
		return rc;
	db_bind_text(st, 1, name);
	rc = db_step(db, st, err);
	if (rc == 1) {
		read_info(st, 0, out);
		if (hash)
			snprintf(hash, ENCODED_MAX, "%s",
				 db_column_text(st, 6));
		sqlite3_reset(st);
	}
	return rc;
}

static int not_found(const char *name, struct error *err)
{
	char *shown = utf8_escaped(name ? name : "");
	int rc = error_set(err, ERR_NOTFOUND, "no user '%s'", shown);

	free(shown);
	return rc;
}

int user_find(struct db *db, const char *name, struct user_info *out,
	      struct error *err)
{
	int rc = lookup(db, name, out, NULL, err);

	if (rc == 1)
		return 0;
	return rc ? rc : not_found(name, err);
}

struct each_ctx {
	int (*fn)(const struct user_info *u, void *arg);
	void *arg;
};

static int each_row(sqlite3_stmt *st, void *arg)
{
	struct each_ctx *c = arg;
	struct user_info u;
	int rc;

	read_info(st, 0, &u);
	rc = c->fn(&u, c->arg);
	user_info_release(&u);
	return rc;
}

int user_each(struct db *db, int (*fn)(const struct user_info *u, void *arg),
	      void *arg, struct error *err)
{
	struct each_ctx c = {fn, arg};
	sqlite3_stmt *st;
	int rc = db_prepare(db, &user_statements, U_EACH, &st, err);

	return rc ? rc : db_each_row(db, st, each_row, &c, err);
}

int user_any(struct db *db, bool *any, struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &user_statements, U_ANY, &st, err);

	*any = false;
	if (rc)
		return rc;
	rc = db_step(db, st, err);
	if (rc < 0)
		return rc;
	*any = rc == 1 && sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	return 0;
}

int user_add(struct db *db, const char *name, enum user_role role,
	     const char *password, struct error *err)
{
	struct user_info u = {0};
	struct ledger_entry e;
	char hash[ENCODED_MAX];
	sqlite3_stmt *st;
	bool own = false;
	int rc;

	if ((rc = check_name(name, err)))
		return rc;
	if (!user_role_name(role))
		return error_set(err, ERR_USAGE, "unknown role %d", (int)role);
	if ((rc = check_password(password, err)))
		return rc;
	if ((rc = hash_password(password, hash, err)))
		return rc;
	if ((rc = db_begin_if_none(db, &own, err)))
		goto out;
	rc = lookup(db, name, &u, NULL, err);
	if (rc == 1)
		rc = error_set(err, ERR_DATA, "user '%s' exists", name);
	if (!rc)
		rc = db_prepare(db, &user_statements, U_INSERT, &st, err);
	if (!rc) {
		db_bind_text(st, 1, name);
		db_bind_text(st, 2, user_role_name(role));
		db_bind_text(st, 3, hash);
		sqlite3_bind_int64(st, 4, clock_now());
		rc = db_step_done(db, st, err);
	}
	if (!rc) {
		ledger_entry_init(&e, LEDGER_USER_ADDED, 0, 0, 0, 0);
		ledger_entry_str(&e, "name", name);
		ledger_entry_str(&e, "role", user_role_name(role));
		rc = ledger_entry_append(db, &e, NULL, err);
		ledger_entry_release(&e);
	}
	rc = db_end_if_own(db, own, rc, err);
out:
	explicit_bzero(hash, sizeof(hash));
	user_info_release(&u);
	return rc;
}

/* One change to an existing account, with its user.changed event:
 * what is "password", "role" or "state". */
struct change {
	const char *what;
	const char *hash;       /* password */
	enum user_role role;    /* role */
	bool disabled;          /* state */
};

static int apply_change(struct db *db, const struct user_info *u,
			const struct change *c, struct error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (!strcmp(c->what, "password")) {
		rc = db_prepare(db, &user_statements, U_SET_HASH, &st, err);
		if (!rc)
			db_bind_text(st, 2, c->hash);
	} else if (!strcmp(c->what, "role")) {
		rc = db_prepare(db, &user_statements, U_SET_ROLE, &st, err);
		if (!rc)
			db_bind_text(st, 2, user_role_name(c->role));
	} else {
		rc = db_prepare(db, &user_statements, U_SET_DISABLED, &st, err);
		if (!rc)
			sqlite3_bind_int(st, 2, c->disabled);
	}
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, u->id);
	sqlite3_bind_int64(st, 3, clock_now());
	rc = db_step_done(db, st, err);
	if (!rc && !strcmp(c->what, "state") && c->disabled) {
		rc = db_prepare(db, &user_statements, S_DELETE_USER, &st, err);
		if (!rc) {
			sqlite3_bind_int64(st, 1, u->id);
			rc = db_step_done(db, st, err);
		}
	}
	return rc;
}

static void change_event(struct ledger_entry *e, const struct user_info *u,
			 const struct change *c)
{
	ledger_entry_str(e, "name", u->name);
	if (!strcmp(c->what, "password")) {
		ledger_entry_str(e, "password", "changed");
		return;
	}
	json_key(&e->js, c->what);
	json_object_begin(&e->js);
	if (!strcmp(c->what, "role")) {
		json_kv_string(&e->js, "from", user_role_name(u->role));
		json_kv_string(&e->js, "to", user_role_name(c->role));
	} else {
		json_kv_string(&e->js, "from", u->disabled ? "disabled"
							   : "enabled");
		json_kv_string(&e->js, "to", c->disabled ? "disabled"
							 : "enabled");
	}
	json_object_end(&e->js);
}

static int change(struct db *db, const char *name, const struct change *c,
		  struct error *err)
{
	struct user_info u = {0};
	struct ledger_entry e;
	bool own = false;
	int rc = db_begin_if_none(db, &own, err);

	if (rc)
		return rc;
	rc = lookup(db, name, &u, NULL, err);
	if (rc == 0)
		rc = not_found(name, err);
	else if (rc == 1)
		rc = 0;
	if (rc)
		goto out;
	/* nothing to record when nothing changes (a disabled account's
	 * sessions are gone already) */
	if ((!strcmp(c->what, "role") && u.role == c->role) ||
	    (!strcmp(c->what, "state") && u.disabled == c->disabled))
		goto out;
	rc = apply_change(db, &u, c, err);
	if (!rc) {
		ledger_entry_init(&e, LEDGER_USER_CHANGED, 0, 0, 0, 0);
		change_event(&e, &u, c);
		rc = ledger_entry_append(db, &e, NULL, err);
		ledger_entry_release(&e);
	}
out:
	rc = db_end_if_own(db, own, rc, err);
	user_info_release(&u);
	return rc;
}

int user_set_password(struct db *db, const char *name, const char *password,
		      struct error *err)
{
	struct change c = {.what = "password"};
	char hash[ENCODED_MAX];
	int rc = check_password(password, err);

	if (rc)
		return rc;
	/* an unknown name is said before the cost of a hash */
	{
		struct user_info u;

		if ((rc = user_find(db, name, &u, err)))
			return rc;
		user_info_release(&u);
	}
	if ((rc = hash_password(password, hash, err)))
		return rc;
	c.hash = hash;
	rc = change(db, name, &c, err);
	explicit_bzero(hash, sizeof(hash));
	return rc;
}

int user_set_role(struct db *db, const char *name, enum user_role role,
		  struct error *err)
{
	struct change c = {.what = "role", .role = role};

	if (!user_role_name(role))
		return error_set(err, ERR_USAGE, "unknown role %d", (int)role);
	return change(db, name, &c, err);
}

int user_set_disabled(struct db *db, const char *name, bool disabled,
		      struct error *err)
{
	struct change c = {.what = "state", .disabled = disabled};

	return change(db, name, &c, err);
}

/* ---- logins and sessions ---- */

/* Seconds until fewer than 5 failures of key are in the window; 0 when
 * there are fewer already. */
static int throttle_wait(struct db *db, int index, const char *key,
			 int64_t now, int64_t *wait, struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &user_statements, index, &st, err);

	*wait = 0;
	if (rc)
		return rc;
	db_bind_text(st, 1, key);
	sqlite3_bind_int64(st, 2, now - THROTTLE_WINDOW);
	sqlite3_bind_int(st, 3, THROTTLE_FAILURES - 1);
	rc = db_step(db, st, err);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		int64_t until = sqlite3_column_int64(st, 0) + THROTTLE_WINDOW;

		*wait = until > now ? until - now : 1;
		sqlite3_reset(st);
	}
	return 0;
}

static int run_id_now(struct db *db, int index, const char *text,
		      int64_t value, struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &user_statements, index, &st, err);

	if (rc)
		return rc;
	if (text)
		db_bind_text(st, 1, text);
	else
		sqlite3_bind_int64(st, 1, value);
	return db_step_done(db, st, err);
}

/* Records a failure (and forgets those older than the window). */
static int record_failure(struct db *db, const char *name, const char *client,
			  int64_t now, struct error *err)
{
	sqlite3_stmt *st;
	bool own = false;
	int rc = db_begin_if_none(db, &own, err);

	if (rc)
		return rc;
	rc = run_id_now(db, F_PRUNE, NULL, now - THROTTLE_WINDOW, err);
	if (!rc)
		rc = db_prepare(db, &user_statements, F_INSERT, &st, err);
	if (!rc) {
		/* a name of any length may be typed; the throttle only
		 * needs to tell names apart, not keep a novel */
		sqlite3_bind_text(st, 1, name ? name : "",
				  (int)strnlen(name ? name : "", 256),
				  SQLITE_TRANSIENT);
		db_bind_text(st, 2, client);
		sqlite3_bind_int64(st, 3, now);
		rc = db_step_done(db, st, err);
	}
	return db_end_if_own(db, own, rc, err);
}

static int open_session(struct db *db, const struct user_info *u,
			const char *client, int64_t now, int64_t ttl,
			struct user_session *out, struct error *err)
{
	char digest[SHA256_HEX_SIZE];
	sqlite3_stmt *st;
	bool own = false;
	int rc;

	if ((rc = new_token(out->token, err)) ||
	    (rc = new_token(out->csrf, err)))
		return rc;
	sha256_hex(out->token, strlen(out->token), digest);
	out->expires_at = now + ttl;
	if ((rc = db_begin_if_none(db, &own, err)))
		return rc;
	rc = run_id_now(db, S_PRUNE, NULL, now, err);
	if (!rc)
		rc = run_id_now(db, F_CLEAR_NAME, u->name, 0, err);
	if (!rc)
		rc = db_prepare(db, &user_statements, S_INSERT, &st, err);
	if (!rc) {
		sqlite3_bind_int64(st, 1, u->id);
		db_bind_text(st, 2, digest);
		db_bind_text(st, 3, out->csrf);
		db_bind_text(st, 4, client);
		sqlite3_bind_int64(st, 5, now);
		sqlite3_bind_int64(st, 6, out->expires_at);
		rc = db_step_done(db, st, err);
	}
	if (!rc)
		rc = db_prepare(db, &user_statements, U_LOGGED_IN, &st, err);
	if (!rc) {
		sqlite3_bind_int64(st, 1, u->id);
		sqlite3_bind_int64(st, 2, now);
		rc = db_step_done(db, st, err);
	}
	return db_end_if_own(db, own, rc, err);
}

int user_login(struct db *db, const char *name, const char *password,
	       const char *client, int64_t now, int64_t ttl,
	       struct user_session *out, struct error *err)
{
	struct user_info u = {0};
	char hash[ENCODED_MAX], fake[ENCODED_MAX];
	int64_t wait_name = 0, wait_client = 0;
	bool found, ok;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!name)
		name = "";
	if (!password)
		password = "";
	if (ttl <= 0)
		return error_set(err, ERR_USAGE, "a session lasts at least a "
				 "second (ttl %lld)", (long long)ttl);
	/* made before the name is looked up, whether it is known or not */
	if ((rc = dummy(fake, err)))
		return rc;
	if ((rc = throttle_wait(db, F_NAME_NTH, name, now, &wait_name, err)))
		return rc;
	if (client && (rc = throttle_wait(db, F_CLIENT_NTH, client, now,
					  &wait_client, err)))
		return rc;
	if (wait_name || wait_client)
		return error_set(err, ERR_TEMPFAIL, "too many failed logins; try "
				 "again in %lld seconds",
				 (long long)(wait_name > wait_client
						     ? wait_name
						     : wait_client));
	rc = lookup(db, name, &u, hash, err);
	if (rc < 0)
		goto out;
	found = rc == 1;
	ok = argon2id_verify(found ? hash : fake, password,
			     strlen(password)) == ARGON2_OK;
	if (!found || !ok || u.disabled) {
		rc = record_failure(db, name, client, now, err);
		if (!rc)
			rc = error_set(err, ERR_NOPERM, "wrong name or password");
		goto out;
	}
	rc = open_session(db, &u, client, now, ttl, out, err);
	if (rc)
		goto out;
	u.last_login_at = now;
	out->user = u;
	memset(&u, 0, sizeof(u));
out:
	explicit_bzero(hash, sizeof(hash));
	user_info_release(&u);
	if (rc)
		user_session_release(out);
	return rc;
}

/* A token as the browser must hand it back: 43 base64url characters. */
static bool token_shaped(const char *token)
{
	if (!token || strlen(token) != USER_TOKEN_SIZE - 1)
		return false;
	return strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			     "0123456789-_") == USER_TOKEN_SIZE - 1;
}

int user_session_find(struct db *db, const char *token, int64_t now,
		      struct user_session *out, struct error *err)
{
	char digest[SHA256_HEX_SIZE];
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!token_shaped(token))
		return error_set(err, ERR_NOPERM, "no session");
	if ((rc = db_prepare(db, &user_statements, S_FIND, &st, err)))
		return rc;
	sha256_hex(token, strlen(token), digest);
	db_bind_text(st, 1, digest);
	sqlite3_bind_int64(st, 2, now);
	rc = db_step(db, st, err);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return error_set(err, ERR_NOPERM, "no session");
	snprintf(out->csrf, sizeof(out->csrf), "%s", db_column_text(st, 0));
	out->expires_at = sqlite3_column_int64(st, 1);
	read_info(st, 2, &out->user);
	sqlite3_reset(st);
	return 0;
}

bool user_session_csrf_ok(const struct user_session *s, const char *csrf)
{
	if (!s || !csrf || strlen(s->csrf) != USER_TOKEN_SIZE - 1 ||
	    strlen(csrf) != USER_TOKEN_SIZE - 1)
		return false;
	return CRYPTO_memcmp(s->csrf, csrf, USER_TOKEN_SIZE - 1) == 0;
}

int user_logout(struct db *db, const char *token, struct error *err)
{
	char digest[SHA256_HEX_SIZE];

	if (!token_shaped(token))
		return 0;
	sha256_hex(token, strlen(token), digest);
	return run_id_now(db, S_DELETE, digest, 0, err);
}
