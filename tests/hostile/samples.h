/*
 * samples: a valid sample request body for every API (with the topology
 * they need), the JSON positions inside each, and the hostile values to put
 * there. Shared by the hostile suite and the soak, so both generate their
 * positions from the same list of APIs instead of hand-written bodies.
 */
#ifndef PROCSVC_TEST_SAMPLES_H
#define PROCSVC_TEST_SAMPLES_H

#include <stdbool.h>
#include <stddef.h>

#include "net.h"

#define AUTH "\"bk_app_code\":\"esb_test\",\"bk_app_secret\":\"xxx\",\"bk_username\":\"admin\""

struct api {
	const char *name;
	const char *path;
	char sample[1024];   /* filled in by samples_fixture() */
};

extern struct api apis[];
extern const size_t napis;

/*
 * Makes the topology the samples need (business 9, hosts 901/902, module
 * 9060, a service template and instance; names unique per run) on the
 * server at port, fills every sample and checks that the server accepts
 * each. false with a reason in why (size n).
 */
bool samples_fixture(int port, char *why, size_t n);

/* A position: a value of a sample, named by its path from the root. */
#define MAX_POS 64
struct pos {
	char path[256];  /* "" for the root, else e.g. instances[0].processes */
	bool array;      /* the sample holds an array there */
};

/* Every value position of a's sample, root first. Returns how many. */
int samples_positions(const struct api *a, struct pos *out);

/* a's sample with the value at path replaced by the raw bytes v[0..n). */
void samples_body_with(const struct api *a, const char *path, const char *v,
    size_t n, struct buf *out);

/* Hostile values into b (emptied first). */
void value_deep(struct buf *b, size_t depth, bool objects);
void value_array(struct buf *b, size_t n, const char *elem);
void value_string(struct buf *b, size_t n);

/* A complete POST of body to path, Connection: close, plus extra header
 * lines (each ending in \r\n; may be NULL), into b (emptied first). */
void http_post(struct buf *b, const char *path, const char *body, size_t len,
    const char *extra);

#endif
