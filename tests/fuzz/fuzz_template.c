/* Fuzzes the template parser and the Mustache engine: the input is split
 * at its first NUL into a template file and a body.name value, the
 * template is parsed, compiled, checked and rendered for text and HTML. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/mustache.h"
#include "chancery/sbuf.h"
#include "chancery/template.h"
#include "chancery/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void render_both(struct mustache *m, const struct tvalue *ctx)
{
	struct mustache_render_opts text = {0}, html = {.html_escape = true};
	struct sbuf out = SBUF_INIT;
	struct error err = ERROR_INIT;

	(void)mustache_check_names(m, template_variables, NULL, &err);
	(void)mustache_render(m, ctx, NULL, &text, &out, &err);
	sbuf_reset(&out);
	(void)mustache_render(m, ctx, NULL, &html, &out, &err);
	sbuf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *src = xstrndup((const char *)data, size);
	size_t len = strlen(src);
	char *value = len < size ? xstrndup((const char *)data + len + 1,
					    size - len - 1)
				 : xstrdup("x");
	struct tvalue *ctx = tvalue_new(TVALUE_OBJECT);
	struct template *t = NULL;
	struct mustache *m = NULL;
	struct error err = ERROR_INIT;

	tvalue_set_path(ctx, "body.name", value);
	tvalue_set_path(ctx, "anniversary.ordinal", "33rd");
	if (mustache_compile(src, 1, &m, &err) == 0) {
		render_both(m, ctx);
		mustache_free(m);
	}
	(void)template_parse(src, &t, &err);
	template_free(t);
	tvalue_free(ctx);
	free(value);
	free(src);
	return 0;
}
