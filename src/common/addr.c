#include "common/addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool
all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* A DNS name: labels of letters, digits and '-', not starting or ending
 * with '-', joined by single dots. */
static bool
host_name_ok(const char *h)
{
	size_t label = 0;

	for (const char *p = h;; p++) {
		if (*p == '.' || *p == '\0') {
			if (label == 0 || label > 63 || p[-1] == '-')
				return false;
			if (*p == '\0')
				return true;
			label = 0;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9') || (*p == '-' && label > 0)))
			return false;
		label++;
	}
}

int
addr_parse(const char *spec, struct addr *a, struct err *e)
{
	const char *colon = strrchr(spec, ':');
	const char *port = colon ? colon + 1 : spec;
	size_t hostlen = colon ? (size_t)(colon - spec) : 0;
	char q[96];
	long p = 0;

	memset(a, 0, sizeof(*a));
	err_quote(q, sizeof(q), spec);
	if (spec[0] == '[' || (colon != NULL && memchr(spec, ':', hostlen) != NULL)) {
		err_set(e, ERR_BAD_VALUE, NULL,
		    "PROCSVC_LISTEN=%s: IPv6 addresses are not "
		    "supported; use an IPv4 address or a host name, e.g. 127.0.0.1:8080",
		    q);
		return -1;
	}
	if (!all_digits(port, strlen(port)) || strlen(port) > 5 ||
	    (p = strtol(port, NULL, 10)) < 1 || p > 65535) {
		err_set(e, ERR_BAD_VALUE, NULL,
		    "PROCSVC_LISTEN=%s: the port must be a number "
		    "in 1..65535, as in 127.0.0.1:8080 or 8080",
		    q);
		return -1;
	}
	if (colon != NULL) {
		if (hostlen == 0 || hostlen >= sizeof(a->host)) {
			err_set(e, ERR_BAD_VALUE, NULL,
			    "PROCSVC_LISTEN=%s: the address before "
			    "':' is %s",
			    q, hostlen ? "too long" : "empty");
			return -1;
		}
		memcpy(a->host, spec, hostlen);
		/* Digits and dots only: it is meant as an IPv4 address, and must be
		 * one (CivetWeb would take "999.1.1.1"). */
		if (strspn(a->host, "0123456789.") == hostlen) {
			struct in_addr in;
			if (inet_pton(AF_INET, a->host, &in) != 1) {
				err_set(e, ERR_BAD_VALUE, NULL,
				    "PROCSVC_LISTEN=%s: %s is not an IPv4 address", q, a->host);
				return -1;
			}
		} else if (!host_name_ok(a->host)) {
			err_set(e, ERR_BAD_VALUE, NULL,
			    "PROCSVC_LISTEN=%s: %s is neither an IPv4 "
			    "address nor a host name",
			    q, a->host);
			return -1;
		}
	}
	a->port = (int)p;
	return 0;
}

const char *
addr_connect_host(const struct addr *a)
{
	return a->host[0] == '\0' || strcmp(a->host, "0.0.0.0") == 0 ? "127.0.0.1" : a->host;
}
