#include <gmime/gmime.h>
#include <pthread.h>

#include "chancery/mime.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_gmime(void)
{
	g_mime_init();
}

void mime_init(void)
{
	pthread_once(&once, init_gmime);
}
