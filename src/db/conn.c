#include "db/conn.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "common/counter.h"
#include "common/log.h"

static void
ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

void
conn_close(struct db_conn *c)
{
	PQfinish(c->pg);
	c->pg = NULL;
	c->nprepared = 0;
}

int
conn_open(struct db_conn *c, struct err *e)
{
	/*
	 * Our defaults come first and the caller's conninfo last, so anything
	 * DATABASE_URL sets wins. search_path is pinned so that no other schema
	 * can capture unqualified names; statement_timeout bounds a stuck query.
	 * Every statement is a prepared OLTP statement over keys, whose best
	 * plan does not depend on the values: with the default plan cache
	 * mode PostgreSQL re-plans a create's statement (a dozen CTEs over
	 * array parameters) for every execution, which cost 40 % of its time
	 * (make bench, pgbench -c 1: 0.86 ms, 0.52 ms with generic plans).
	 * make bench gives its pgbench ceiling these same options. The one
	 * exception, the service-instance lists (filters on skewed columns),
	 * plans each call (pq_exec_custom_plan).
	 */
	const char *keys[] = { "connect_timeout", "application_name", "options",
		"dbname", NULL };
	const char *vals[] = { "5", c->cfg->app_name,
		"-c search_path=public -c statement_timeout=10000 -c plan_cache_mode=force_generic_plan",
		c->cfg->conninfo, NULL };

	/* A transaction pooler gets no options (PgBouncer 1.18 refuses the
	 * connection): the settings come from the role or the pooler. */
	if (c->cfg->unnamed) {
		keys[2] = keys[3];
		vals[2] = vals[3];
		keys[3] = vals[3] = NULL;
	}
	conn_close(c);
	c->pg = PQconnectdbParams(keys, vals, 1);
	if (c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK) {
		snprintf(c->failed, sizeof(c->failed), "%s",
		    c->pg ? PQerrorMessage(c->pg) : "out of memory");
		if (!c->cfg->quiet) {
			counter_inc(COUNTER_DB_CONNECT_ERRORS);
			log_error("database connection failed: %s", c->failed);
		}
		conn_close(c);
		err_server(e, "database unavailable, retry later");
		return -1;
	}
	c->failed[0] = '\0';
	/* Server notices (e.g. "already exists, skipping") are not our log. */
	PQsetNoticeProcessor(c->pg, ignore_notice, NULL);
	log_debug("database connection opened (backend pid %d)", PQbackendPID(c->pg));
	return 0;
}

void
conn_error(const struct db_conn *c, char *buf, size_t n)
{
	const char *msg = c->pg ? PQerrorMessage(c->pg) : c->failed;

	if (*msg == '\0')
		msg = "no connection";
	snprintf(buf, n, "%.*s", (int)strcspn(msg, "\n"), msg);
}

bool
conn_usable(const struct db_conn *c)
{
	struct pollfd p;

	if (c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK)
		return false;
	p.fd = PQsocket(c->pg);
	p.events = POLLIN;
	p.revents = 0;
	return p.fd >= 0 && poll(&p, 1, 0) == 0;
}

PGTransactionStatusType
conn_tx_status(const struct db_conn *c)
{
	return c->pg ? PQtransactionStatus(c->pg) : PQTRANS_UNKNOWN;
}

void
conn_clean(struct db_conn *c)
{
	PGTransactionStatusType st;

	if (c->pg == NULL)
		return;
	st = PQtransactionStatus(c->pg);
	if (PQstatus(c->pg) == CONNECTION_OK &&
	    (st == PQTRANS_INTRANS || st == PQTRANS_INERROR))
		PQclear(PQexec(c->pg, "ROLLBACK"));
	if (PQstatus(c->pg) != CONNECTION_OK ||
	    PQtransactionStatus(c->pg) != PQTRANS_IDLE)
		conn_close(c);
}

void
conn_map_error(const PGresult *r, const struct db_conn *c, struct err *e)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *cons = r ? PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME) : NULL;

	/* The constraint name travels in e->constraint so the caller can name
	 * the rule (pq_constraint). */
	if (state != NULL && (strcmp(state, "23505") == 0 || strcmp(state, "23503") == 0 || strcmp(state, "23514") == 0)) {
		if (err_isset(e))
			return;
		err_set(e, strcmp(state, "23505") == 0 ? ERR_DUPLICATE : ERR_BAD_VALUE,
		    NULL, "conflicts with existing data (%s)", cons ? cons : "a constraint");
		snprintf(e->constraint, sizeof(e->constraint), "%s", cons ? cons : "");
		return;
	}
	if (!c->cfg->quiet) {
		counter_inc(COUNTER_DB_STATEMENT_ERRORS);
		log_error("database error %s: %s", state ? state : "(none)",
		    r ? PQresultErrorMessage(r) : (c->pg ? PQerrorMessage(c->pg) : "no connection"));
	}
	err_server(e, "database error, retry later");
}

static bool
result_ok(const PGresult *r)
{
	ExecStatusType st = PQresultStatus(r);

	return st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
}

/* 1 prepared (or already), 0 no room left (run unprepared), -1 e set. */
static int
prepare(struct db_conn *c, const struct pq_stmt *stmt, struct err *e)
{
	PGresult *r;

	for (size_t i = 0; i < c->nprepared; i++)
		if (c->prepared[i] == stmt)
			return 1;
	if (c->nprepared == CONN_MAX_PREPARED)
		return 0;
	r = PQprepare(c->pg, stmt->name, stmt->sql, 0, NULL);
	if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
		conn_map_error(r, c, e);
		PQclear(r);
		return -1;
	}
	PQclear(r);
	c->prepared[c->nprepared++] = stmt;
	return 1;
}

PGresult *
conn_exec(struct db_conn *c, const struct pq_stmt *stmt, int n,
    const char *const *params, struct err *e)
{
	PGresult *r;

	if (c->pg == NULL) {
		conn_map_error(NULL, c, e);
		return NULL;
	}
	switch (c->cfg->unnamed ? 0 : prepare(c, stmt, e)) {
	case 1:
		r = PQexecPrepared(c->pg, stmt->name, n, params, NULL, NULL, 0);
		break;
	case 0:
		/* PROCSVC_PREPARE=off, or more statements than
		 * CONN_MAX_PREPARED: unnamed, still parameterised. */
		r = PQexecParams(c->pg, stmt->sql, n, NULL, params, NULL, NULL, 0);
		break;
	default:
		return NULL;
	}
	if (r != NULL && result_ok(r))
		return r;
	conn_map_error(r, c, e);
	PQclear(r);
	return NULL;
}

PGresult *
conn_exec_plain(struct db_conn *c, const char *sql, struct err *e)
{
	PGresult *r;

	if (c->pg == NULL) {
		conn_map_error(NULL, c, e);
		return NULL;
	}
	r = PQexec(c->pg, sql);
	if (r != NULL && result_ok(r))
		return r;
	conn_map_error(r, c, e);
	PQclear(r);
	return NULL;
}
