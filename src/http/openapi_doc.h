/*
 * openapi_doc: openapi.yaml inside the binary, served at GET /openapi.yaml.
 * Its .c is generated at build time (scripts/embed.sh, build/gen/), so an
 * installed procsvc serves the document of its own build and needs no
 * source tree. Constant data: safe from any thread.
 */
#ifndef PROCSVC_HTTP_OPENAPI_DOC_H
#define PROCSVC_HTTP_OPENAPI_DOC_H

#include <stddef.h>

/* The document's bytes, exactly as in the repository (not NUL-terminated). */
extern const unsigned char openapi_doc[];

/* The number of bytes in openapi_doc. */
extern const size_t openapi_doc_len;

/* A strong entity tag of the bytes, quotes included: "\"<sha256 hex>\"". */
extern const char openapi_doc_etag[];

#endif
