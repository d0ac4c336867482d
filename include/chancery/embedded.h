/*
 * embedded: the files of db/ (schema migrations, seed registry), compiled
 * into the library by cmake/embed.cmake so installed binaries need no data
 * directory to create or upgrade a database.
 */
#ifndef CHANCERY_EMBEDDED_H
#define CHANCERY_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
	const char *name; /* base name in db/, e.g. "0001_registry.sql" */
	const char *data; /* NUL-terminated */
	size_t size;
};

/* Sorted by name, ended by an entry whose name is NULL. */
extern const struct embedded_file embedded_files[];

/* The file of that base name, or NULL. */
const struct embedded_file *embedded_find(const char *name);

#endif
