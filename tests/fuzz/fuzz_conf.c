/* Fuzzes the configuration loader: libconfig's parser and our key table. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chancery/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct conf cfg;
	struct error err = ERROR_INIT;
	FILE *f;

	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/chancery-fuzz-conf-%d",
			 (int)getpid());
	f = fopen(path, "w");
	if (!f)
		abort();
	fwrite(data, 1, size, f);
	fclose(f);
	chmod(path, 0600);
	conf_init(&cfg);
	(void)conf_load(&cfg, path, &err);
	conf_release(&cfg);
	return 0;
}
