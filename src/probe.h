/*
 * probe: a minimal HTTP/1.0 GET over a plain socket, for `procsvc probe`:
 * the container and systemd health checks run it, and the runtime image
 * has no curl. Depends on the C library and common/ only.
 */
#ifndef PROCSVC_PROBE_H
#define PROCSVC_PROBE_H

#include <stddef.h>

#include "common/addr.h"
#include "common/err.h"

/*
 * Sends "GET path" to the address a local client uses for a (see
 * addr_connect_host) and reads the answer, all within timeout_ms. Returns
 * the HTTP status, with the first line of the body (cut, control bytes
 * replaced) in body (size n); or -1 with e saying what failed (connect,
 * timeout, not HTTP). Borrowed arguments; thread-safe.
 */
int probe_get(const struct addr *a, const char *path, long timeout_ms,
    char *body, size_t n, struct err *e) MUST_CHECK;

#endif
