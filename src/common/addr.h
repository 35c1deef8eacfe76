/*
 * addr: the listen address of PROCSVC_LISTEN, "[HOST:]PORT", read the same
 * way by `serve` (before CivetWeb sees it, so a malformed value is a
 * configuration error and not a failed start) and by `probe` (which
 * connects to it). C library only.
 */
#ifndef PROCSVC_ADDR_H
#define PROCSVC_ADDR_H

#include <stdbool.h>

#include "common/err.h"

struct addr {
	char host[254]; /* IPv4 literal or host name; "" = every interface */
	int port;       /* 1..65535 */
};

/*
 * Parses spec: "8080", "127.0.0.1:8080", "0.0.0.0:8080", "localhost:8080".
 * IPv6 literals are refused (the CivetWeb build procsvc links has no IPv6),
 * and so are CivetWeb's port suffixes ('s', 'r') and lists: procsvc
 * listens on one plain-HTTP address. 0, or -1 with e set to one line
 * naming spec and what is wrong. Borrowed arguments.
 */
int addr_parse(const char *spec, struct addr *a, struct err *e) MUST_CHECK;

/* The host a local client should connect to: host, or 127.0.0.1 for "every
 * interface" ("" or 0.0.0.0). Borrowed from a. */
const char *addr_connect_host(const struct addr *a);

#endif
