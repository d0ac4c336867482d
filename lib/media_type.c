/*
 * media_type: see media_type.h. The mime.types format: one type a line
 * followed by its extensions (without dots), separated by blanks; "#"
 * starts a comment. An extension listed twice keeps its first type.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chancery/media_type.h"
#include "chancery/xalloc.h"

struct entry {
	char *ext, *type;
};

static struct {
	struct entry *v;
	size_t n, alloc;
	bool loaded;
} table;

static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static const char *find(const char *ext)
{
	for (size_t i = 0; i < table.n; i++)
		if (strcasecmp(table.v[i].ext, ext) == 0)
			return table.v[i].type;
	return NULL;
}

static void add_line(char *line)
{
	char *save = NULL, *type, *ext;
	char *hash = strchr(line, '#');

	if (hash)
		*hash = '\0';
	type = strtok_r(line, " \t\r\n", &save);
	if (!type || !strchr(type, '/'))
		return;
	while ((ext = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
		if (find(ext))
			continue;
		xgrow(&table.v, sizeof(*table.v), table.n + 1, &table.alloc);
		table.v[table.n].ext = xstrdup(ext);
		table.v[table.n].type = xstrdup(type);
		table.n++;
	}
}

int media_type_load(const char *path, struct error *err)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;

	table.loaded = true;
	if (!f)
		return error_set_errno(err, ERR_NOINPUT, "%s: cannot read the "
				       "media types", path);
	while (getline(&line, &cap, f) != -1)
		add_line(line);
	free(line);
	fclose(f);
	return 0;
}

static void load_default(void)
{
	if (!table.loaded)
		media_type_load(MEDIA_TYPE_TABLE, NULL);
}

const char *media_type_of(const char *filename)
{
	const char *dot = strrchr(filename, '.'), *type;

	pthread_once(&table_once, load_default);
	if (!dot || !dot[1] || strchr(dot, '/'))
		return MEDIA_TYPE_DEFAULT;
	type = find(dot + 1);
	return type ? type : MEDIA_TYPE_DEFAULT;
}
