/*
 * assets: the console's stylesheet and its one small script, compiled in
 * (no CDN, no build step), served at /static/NAME.
 *
 * The script only asks for confirmation before a button marked
 * data-confirm="TEXT" submits its form; every page works without it.
 */
#include <string.h>

#include "pages.h"

static const char css[] =
	":root{--ink:#1d2430;--muted:#5b6472;--line:#d5d9e0;--bg:#f6f7f9;"
	"--card:#fff;--accent:#1f5fa8;--err:#a3261b;--errbg:#fdeeec;"
	"--ok:#1e6b34;--okbg:#e9f6ec}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0;font:15px/1.5 system-ui,-apple-system,'Segoe UI',"
	"Roboto,'Noto Sans',sans-serif;color:var(--ink);background:var(--bg)}\n"
	"header.top{display:flex;align-items:center;gap:1.5rem;flex-wrap:wrap;"
	"padding:.6rem 1.5rem;background:#243447;color:#fff}\n"
	"header.top a{color:#e8eef6;text-decoration:none}\n"
	"header.top a:hover{text-decoration:underline}\n"
	".brand{font-weight:700;letter-spacing:.02em;font-size:1.1rem}\n"
	"nav{display:flex;gap:1.1rem;flex:1}\n"
	".who{display:flex;gap:.8rem;align-items:center;color:#c9d3df}\n"
	".who form{margin:0}\n"
	"button.link{background:none;border:0;color:#e8eef6;padding:0;"
	"cursor:pointer;font:inherit;text-decoration:underline}\n"
	"main{max-width:72rem;margin:1.5rem auto;padding:0 1.5rem}\n"
	"h1{font-size:1.5rem;margin:.2rem 0 1rem}\n"
	"h2{font-size:1.15rem;margin:1.6rem 0 .6rem;border-bottom:1px solid "
	"var(--line);padding-bottom:.2rem}\n"
	"a{color:var(--accent)}\n"
	"table{border-collapse:collapse;width:100%;background:var(--card);"
	"margin:.5rem 0 1rem}\n"
	"th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid "
	"var(--line);vertical-align:top}\n"
	"th{background:#eef1f5;font-weight:600;font-size:.9rem}\n"
	"tr:hover td{background:#fafbfc}\n"
	"form{margin:.5rem 0}\n"
	"fieldset{border:1px solid var(--line);background:var(--card);"
	"padding:.8rem 1rem;margin:0 0 1rem}\n"
	"legend{font-weight:600;padding:0 .3rem}\n"
	"label{display:block;margin:.35rem 0 .1rem;font-size:.9rem;"
	"color:var(--muted)}\n"
	"input[type=text],input[type=password],input[type=search],"
	"input[type=email],select,textarea{font:inherit;padding:.35rem .5rem;"
	"border:1px solid #b8bfca;border-radius:3px;min-width:18rem;"
	"max-width:100%;background:#fff}\n"
	"textarea{width:100%;min-height:8rem}\n"
	"button,input[type=submit]{font:inherit;padding:.35rem .9rem;"
	"border:1px solid var(--accent);background:var(--accent);color:#fff;"
	"border-radius:3px;cursor:pointer}\n"
	"button.secondary{background:#fff;color:var(--accent)}\n"
	"button.danger{background:var(--err);border-color:var(--err)}\n"
	".inline{display:inline-block;margin:0 .3rem 0 0}\n"
	".box{padding:.6rem .9rem;border-radius:3px;margin:0 0 1rem}\n"
	".error{background:var(--errbg);color:var(--err);border:1px solid "
	"#e7b7b2}\n"
	".notice{background:var(--okbg);color:var(--ok);border:1px solid "
	"#b9dcc2}\n"
	".muted{color:var(--muted)}\n"
	".status-active{color:var(--ok)}\n"
	".status-disabled,.status-suppressed,.status-bouncing{color:var(--err)}"
	"\n"
	".diff-added{background:var(--okbg)}\n"
	".diff-changed{background:#fff6e0}\n"
	".diff-kept{background:#f1f1f1}\n"
	".diff-conflict{background:var(--errbg)}\n"
	"pre{background:var(--card);border:1px solid var(--line);padding:.6rem;"
	"overflow:auto;white-space:pre-wrap}\n"
	".login{max-width:24rem;margin:3rem auto}\n"
	"dl.fields{display:grid;grid-template-columns:max-content 1fr;"
	"gap:.2rem 1rem;background:var(--card);padding:.8rem 1rem;"
	"border:1px solid var(--line)}\n"
	"dl.fields dt{color:var(--muted)}\n"
	"dl.fields dd{margin:0}\n"
	/* page_campaigns.c, page_templates.c: an HTML part in its sandbox */
	"iframe.proof-html,iframe.rendered-html{width:100%;min-height:24rem;"
	"border:1px solid var(--line);background:#fff}\n";

static const char js[] =
	"'use strict';\n"
	"document.addEventListener('submit', function (e) {\n"
	"  var b = e.submitter || e.target.querySelector('[data-confirm]');\n"
	"  var q = b && b.getAttribute('data-confirm');\n"
	"  if (q && !window.confirm(q)) e.preventDefault();\n"
	"});\n";

WEB_HANDLER(page_asset)
{
	const char *name = rq->path + strlen("/static/");

	(void)ctx;
	if (strcmp(name, "chancery.css") == 0) {
		rs->type = "text/css; charset=utf-8";
		sbuf_add(&rs->body, css, sizeof(css) - 1);
	} else if (strcmp(name, "chancery.js") == 0) {
		rs->type = "text/javascript; charset=utf-8";
		sbuf_add(&rs->body, js, sizeof(js) - 1);
	} else if (strcmp(name, "progress.js") == 0) { /* page_campaigns.c */
		rs->type = "text/javascript; charset=utf-8";
		sbuf_addstr(&rs->body, web_progress_js);
	} else {
		rs->status = 404;
		rs->type = "text/plain; charset=utf-8";
		sbuf_addstr(&rs->body, "no such file\n");
		return 0;
	}
	rs->cacheable = true;
	return 0;
}
