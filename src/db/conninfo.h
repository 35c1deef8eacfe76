/*
 * conninfo: what procsvc checks about DATABASE_URL before it uses it, and
 * how the URL appears in messages: never with its password.
 *
 * libpq reads a URL only when it connects, and echoes a malformed one into
 * its error text, password included. So the URL is parsed once at start
 * (PQconninfoParse), every message that carries it or libpq's text goes
 * through the redaction here, and a first connection tells a server that is
 * not up yet (worth waiting for, "retry later") from one that answered and
 * refused (a missing database or a wrong password: retrying cannot help).
 *
 * Only src/db/ includes libpq; nothing here exposes it. Thread-safe: no
 * state of its own.
 */
#ifndef PROCSVC_DB_CONNINFO_H
#define PROCSVC_DB_CONNINFO_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

/* What the password of a URL or message is replaced by. */
#define DB_REDACTED "***"

/*
 * Checks conninfo (a libpq URI or key=value string) the way libpq will read
 * it, and the values libpq only rejects when it connects (port numbers,
 * sslmode). 0, or -1 with e set to one line that names what is wrong and
 * shows no password; name is the setting it came from (DATABASE_URL).
 * Borrowed arguments.
 */
int db_conninfo_check(const char *name, const char *conninfo, struct err *e)
    MUST_CHECK;

/*
 * Writes s into buf (size n, NUL-terminated, cut when it does not fit)
 * with every password replaced by DB_REDACTED: the one of a URI's user
 * information (postgresql://u:***@host/db), and every password=value, in
 * key=value form or a URI query, quoted or not. Anything else is copied
 * unchanged; s may be a conninfo or a message quoting one. Returns buf.
 */
const char *db_redact(const char *s, char *buf, size_t n);

/*
 * Makes libpq's message text (size n, in place) fit for one log line about
 * conninfo: the password removed as db_redact does, also where libpq
 * quotes a piece of a malformed URL on its own ("sek%zzret"); newlines
 * and tabs folded into "; " or spaces, trailing blanks dropped.
 */
void db_redact_message(char *text, size_t n, const char *conninfo);

/*
 * Connects once to conninfo and disconnects, waiting first up to wait_s
 * seconds (0: no wait) for a server that is not accepting connections yet.
 * 0 when the connection worked; else -1 with e's message saying why
 * (redacted, one line) and e->http_status telling how to go on:
 *   503  transient: nothing answered, or the server is starting or
 *        shutting down; retrying later may work;
 *   200  the server answered and refused (no such database, wrong
 *        password) or the URL cannot work (bad option values);
 *        retrying as is will not help.
 * Logs one line when it starts waiting. conninfo should have passed
 * db_conninfo_check.
 */
int db_conninfo_connect(const char *conninfo, long wait_s, struct err *e)
    MUST_CHECK;

#endif
