/*
 * media_type: the media type (MIME type) of a file from its name's
 * extension, by the system's table, /etc/mime.types (Debian's package
 * media-types), not a list of our own: what the system knows (".p7s" is
 * application/pkcs7-signature) an attachment gets.
 */
#ifndef CHANCERY_MEDIA_TYPE_H
#define CHANCERY_MEDIA_TYPE_H

#include "chancery/error.h"

#define MEDIA_TYPE_TABLE "/etc/mime.types"
#define MEDIA_TYPE_DEFAULT "application/octet-stream"

/*
 * The type for filename's extension (case-insensitive), or
 * MEDIA_TYPE_DEFAULT when it has none the table knows, or when the table
 * cannot be read. The table is read on the first call; the string is
 * static. Thread-safe.
 */
const char *media_type_of(const char *filename);

/*
 * Reads the table from path now, in place of MEDIA_TYPE_TABLE (for tests,
 * before any other call). 0, or ERR_NOINPUT when it cannot be read.
 */
int media_type_load(const char *path, struct error *err);

#endif
