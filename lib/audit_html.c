/*
 * The HTML form of the audit reports: one self-contained file a person
 * opens in a browser years later, offline. Styles and the script are
 * inline; a Content-Security-Policy of default-src 'none' makes the
 * browser refuse any network load even if one slipped in. Every text from
 * the database goes through audit_html_escape, and the data the script
 * reads is JSON inside <script type="application/json"> with '<', '>' and
 * '&' written as \u escapes, so no value can close the element; the
 * script only ever writes textContent.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/audit.h"
#include "chancery/json.h"
#include "chancery/xalloc.h"
#include "audit_impl.h"

static const char page_css[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}"
	"h1{font-size:1.4em;margin:0 0 .2em}.sub{color:#555;margin:0 0 1em}"
	".filters{display:flex;gap:1em;flex-wrap:wrap;align-items:center;"
	"margin:0 0 1em;padding:.5em;background:#f4f4f4;border-radius:4px}"
	"table{border-collapse:collapse}th,td{border:1px solid #ccc;"
	"padding:2px 6px;text-align:left;vertical-align:top}"
	"th{background:#eee;position:sticky;top:0}"
	"td.cell{text-align:center;cursor:pointer;min-width:5em}"
	"td.none{background:#fff;cursor:default}"
	".st-delivered{background:#1b7f3b;color:#fff}"
	".st-sent{background:#7fcf8f}"
	".st-sending,.st-pending{background:#fde9a9}"
	".st-deferred{background:#f7c96b}"
	".st-bounced{background:#e4572e;color:#fff}"
	".st-failed{background:#b5172b;color:#fff}"
	".st-expired{background:#d98a8a}"
	".st-cancelled,.st-skipped{background:#cfcfcf}"
	".st-unreached{background:#fff;color:#b5172b;"
	"outline:2px dashed #b5172b;outline-offset:-3px}"
	"th .mark{color:#b5172b;text-transform:uppercase;font-size:.8em}"
	".legend span{padding:1px 6px;margin-right:4px;border-radius:3px}"
	"#panel{margin-top:1em;padding:.5em 1em;border:1px solid #999;"
	"background:#fafafa;display:none}#panel li{margin:.3em 0}"
	"details summary{cursor:pointer}code{font-size:12px;"
	"white-space:pre-wrap;word-break:break-all}";

/* Filters rows of #report by data-kind, data-states and data-text (preset
 * from the URL fragment); a matrix cell click fills #panel from the JSON
 * in #cell-data, through textContent only. */
static const char page_js[] =
	"(function(){\n"
	"var kind=document.getElementById('f-kind'),"
	"state=document.getElementById('f-state'),"
	"text=document.getElementById('f-text'),"
	"count=document.getElementById('f-count'),"
	"rows=document.querySelectorAll('#report tbody tr');\n"
	"function apply(){var k=kind.value,s=state.value,"
	"q=text.value.toLowerCase(),n=0;\n"
	" rows.forEach(function(r){var ok=(!k||r.dataset.kind===k)&&"
	"(!s||(' '+r.dataset.states+' ').indexOf(' '+s+' ')>=0)&&"
	"(!q||r.dataset.text.toLowerCase().indexOf(q)>=0);"
	"r.style.display=ok?'':'none';if(ok)n++;});\n"
	" count.textContent=n+' of '+rows.length+' rows';}\n"
	"[kind,state].forEach(function(e){e.addEventListener('change',apply);});\n"
	"text.addEventListener('input',apply);\n"
	/* "#state=failed&kind=ngo&q=osce" presets the filters (and
	 * "#cell=N" opens a matrix cell's details): a link can
	 * point at a view, and a headless browser test can check one. */
	"new URLSearchParams(location.hash.slice(1)).forEach(function(v,k){"
	"var e={kind:kind,state:state,q:text}[k];if(e)e.value=v;});apply();\n"
	"var data=document.getElementById('cell-data');if(!data)return;\n"
	"var cells=JSON.parse(data.textContent),"
	"panel=document.getElementById('panel');\n"
	"function add(p,tag,t){var e=document.createElement(tag);"
	"if(t!==undefined)e.textContent=t;p.appendChild(e);return e;}\n"
	"function show(i){var c=cells[i];if(!c)return;panel.textContent='';"
	"panel.style.display='block';\n"
	" add(panel,'h2',c.body+' \\u2014 '+c.campaign);"
	"add(panel,'p',Object.keys(c.counts).map(function(k){"
	"return c.counts[k]+' '+k;}).join(', '));\n"
	" if(!c.deliveries){add(panel,'p','Per-delivery details: chancery "
	"audit campaign '+c.campaign+' --format html');return;}\n"
	" var ul=add(panel,'ul');\n"
	" c.deliveries.forEach(function(d){var li=add(ul,'li');"
	"add(li,'strong',d.email);add(li,'span',' '+d.state);"
	"var s=add(li,'span',' ');s.className='st-'+d.state;\n"
	"  var parts=[['sent',d.sent_at],['reply',[d.reply_code,d.reply_enhanced,"
	"d.reply_text].filter(function(x){return x!==null;}).join(' ')],"
	"['queue id',d.queue_id],['reason',d.reason],['delivery',d.id]];\n"
	"  parts.forEach(function(p){if(p[1]!==null&&p[1]!==''){"
	"add(li,'br');add(li,'span',p[0]+': '+p[1]);}});});\n"
	" panel.scrollIntoView({block:'nearest'});}\n"
	"document.getElementById('report').addEventListener('click',"
	"function(ev){var td=ev.target.closest('td[data-cell]');"
	"if(td)show(+td.dataset.cell);});\n"
	"var p=new URLSearchParams(location.hash.slice(1));"
	"if(p.has('cell'))show(+p.get('cell'));\n"
	"})();\n";

void audit_html_escape(struct sbuf *out, const char *s)
{
	/* Copies each run of plain characters in one call: a campaign page
	 * escapes megabytes, and one call per byte showed in the profile. */
	while (s && *s) {
		size_t plain = strcspn(s, "&<>\"'");

		sbuf_add(out, s, plain);
		s += plain;
		switch (*s) {
		case '&': sbuf_addstr(out, "&amp;"); break;
		case '<': sbuf_addstr(out, "&lt;"); break;
		case '>': sbuf_addstr(out, "&gt;"); break;
		case '"': sbuf_addstr(out, "&quot;"); break;
		case '\'': sbuf_addstr(out, "&#39;"); break;
		default: return; /* the end of the string */
		}
		s++;
	}
}

/* Appends JSON text safe inside a <script> element: the three characters
 * that could end it or start markup only occur inside JSON strings, where
 * \u escapes mean the same. */
static void add_script_json(struct sbuf *out, const struct sbuf *json)
{
	for (size_t i = 0; i < json->len; i++) {
		char c = json->buf[i];

		if (c == '<')
			sbuf_addstr(out, "\\u003c");
		else if (c == '>')
			sbuf_addstr(out, "\\u003e");
		else if (c == '&')
			sbuf_addstr(out, "\\u0026");
		else
			sbuf_addch(out, c);
	}
}

static void page_begin(struct sbuf *out, const char *title,
		       const char *subtitle)
{
	sbuf_addstr(out, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
			 "<meta charset=\"utf-8\">\n<meta http-equiv=\""
			 "Content-Security-Policy\" content=\"default-src "
			 "'none'; style-src 'unsafe-inline'; script-src "
			 "'unsafe-inline'\">\n<title>");
	audit_html_escape(out, title);
	sbuf_addf(out, "</title>\n<style>%s</style></head>\n<body>\n<h1>",
		  page_css);
	audit_html_escape(out, title);
	sbuf_addstr(out, "</h1>\n");
	if (subtitle) {
		sbuf_addstr(out, "<p class=\"sub\">");
		audit_html_escape(out, subtitle);
		sbuf_addstr(out, "</p>\n");
	}
}

static void page_end(struct sbuf *out)
{
	sbuf_addf(out, "<script>\n%s</script>\n</body></html>\n", page_js);
}

static void add_option(struct sbuf *out, const char *value)
{
	sbuf_addstr(out, "<option value=\"");
	audit_html_escape(out, value);
	sbuf_addstr(out, "\">");
	audit_html_escape(out, value);
	sbuf_addstr(out, "</option>");
}

/* The filter bar; kinds are the distinct values of the first filter. */
static void add_filters(struct sbuf *out, const char *kind_label,
			const char *const *kinds, size_t nkinds)
{
	sbuf_addf(out, "<div class=\"filters\"><label>%s <select id=\"f-kind\">"
		  "<option value=\"\">all</option>", kind_label);
	for (size_t i = 0; i < nkinds; i++)
		add_option(out, kinds[i]);
	sbuf_addstr(out, "</select></label> <label>State <select id=\"f-state\">"
			 "<option value=\"\">all</option>");
	for (int r = AUDIT_NSTATES; r >= 1; r--)
		if (audit_state_by_rank(r))
			add_option(out, audit_state_by_rank(r));
	add_option(out, AUDIT_NOT_REACHED);
	/* what came back: rows carry these in data-states too */
	for (int i = 0; i < AUDIT_NMARKS; i++)
		add_option(out, audit_mark_name(i));
	sbuf_addstr(out, "</select></label> <label>Search <input id=\"f-text\" "
			 "type=\"search\" placeholder=\"any text\">"
			 "</label> <span id=\"f-count\"></span></div>\n"
			 "<p class=\"legend\">");
	for (int r = AUDIT_NSTATES; r >= 1; r--) {
		const char *s = audit_state_by_rank(r);

		if (s)
			sbuf_addf(out, "<span class=\"st-%s\">%s</span>", s, s);
	}
	sbuf_addstr(out, "<span class=\"st-unreached\">" AUDIT_NOT_REACHED
			 "</span></p>\n");
}

/* Adds s to the set v (linear: kinds and years are few). */
static void add_distinct(const char ***v, size_t *n, const char *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i], s) == 0)
			return;
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = s;
}

static size_t find_column(const struct table *t, const char *name)
{
	for (size_t i = 0; i < table_columns(t); i++)
		if (strcmp(table_header(t, i), name) == 0)
			return i;
	return (size_t)-1;
}

/* The class of a state cell; only known states become class names. */
static void add_state_cell(struct sbuf *out, const char *state)
{
	if (audit_state_rank(state))
		sbuf_addf(out, "<td class=\"st-%s\">%s</td>", state, state);
	else if (strcmp(state, AUDIT_NOT_REACHED) == 0)
		sbuf_addstr(out, "<td class=\"st-unreached\">"
				 AUDIT_NOT_REACHED "</td>");
	else {
		sbuf_addstr(out, "<td>");
		audit_html_escape(out, state);
		sbuf_addstr(out, "</td>");
	}
}

/* The ledger events of one delivery, folded. */
static void add_event_details(struct sbuf *out,
			      const struct audit_events *evs, int64_t id)
{
	size_t first = 0, n = evs ? audit_events_find(evs, id, &first) : 0;

	sbuf_addf(out, "<td><details><summary>%zu event%s</summary><ol>", n,
		  n == 1 ? "" : "s");
	for (size_t i = first; n && i < first + n; i++) {
		sbuf_addf(out, "<li>#%lld <time>", (long long)evs->v[i].id);
		audit_html_escape(out, evs->v[i].ts);
		sbuf_addstr(out, "</time> <strong>");
		audit_html_escape(out, evs->v[i].kind);
		sbuf_addstr(out, "</strong> <code>");
		audit_html_escape(out, evs->v[i].data);
		sbuf_addstr(out, "</code></li>");
	}
	sbuf_addstr(out, "</ol></details></td>");
}

/* The response columns of a deliveries table, in AUDIT_MARK_* order;
 * (size_t)-1 where the table has none. */
static const char *const response_columns[AUDIT_NMARKS] = {
	"acknowledged_at", "auto_replied_at", "replied_at", "complained_at",
};

static void add_delivery_row(struct sbuf *out, const struct table *t,
			     size_t r, size_t fcol, size_t scol, size_t idcol,
			     const struct audit_events *evs)
{
	sbuf_addstr(out, "<tr data-kind=\"");
	audit_html_escape(out, table_cell(t, r, fcol));
	sbuf_addstr(out, "\" data-states=\"");
	audit_html_escape(out, table_cell(t, r, scol));
	for (int i = 0; i < AUDIT_NMARKS; i++) {
		size_t col = find_column(t, response_columns[i]);

		if (col != (size_t)-1 && table_cell(t, r, col))
			sbuf_addf(out, " %s", audit_mark_name(i));
	}
	sbuf_addstr(out, "\" data-text=\"");
	for (size_t c = 0; c < table_columns(t); c++) {
		audit_html_escape(out, table_cell(t, r, c));
		sbuf_addch(out, ' ');
	}
	sbuf_addstr(out, "\">");
	for (size_t c = 0; c < table_columns(t); c++) {
		const char *v = table_cell(t, r, c);

		if (c == scol) {
			add_state_cell(out, v ? v : "");
			continue;
		}
		sbuf_addstr(out, "<td>");
		audit_html_escape(out, v ? v : "");
		sbuf_addstr(out, "</td>");
	}
	/* a body not reached has no delivery, hence no events */
	if (table_cell(t, r, idcol))
		add_event_details(out, evs, atoll(table_cell(t, r, idcol)));
	else
		sbuf_addstr(out, "<td></td>");
	sbuf_addstr(out, "</tr>\n");
}

/* The text report's sentences on what came back, as a list. */
static void add_responses_list(struct sbuf *out, const char *lines)
{
	if (!lines || !*lines)
		return;
	sbuf_addstr(out, "<h2>Acknowledgements and replies</h2>\n"
			 "<ul id=\"responses\">");
	while (*lines) {
		size_t n = strcspn(lines, "\n");
		char *line = xstrndup(lines, n);
		const char *p = line;

		while (*p == ' ')
			p++;
		sbuf_addstr(out, "<li>");
		audit_html_escape(out, p);
		sbuf_addstr(out, "</li>");
		free(line);
		lines += n + (lines[n] == '\n');
	}
	sbuf_addstr(out, "</ul>\n");
}

void audit_html_deliveries(const char *title, const char *subtitle,
			   const struct table *rows,
			   const struct audit_events *events,
			   const char *responses, struct sbuf *out)
{
	size_t fcol = find_column(rows, "kind");
	size_t scol = find_column(rows, "state");
	size_t idcol = find_column(rows, "delivery_id");
	const char *label = "Kind";
	const char **kinds = NULL;
	size_t nkinds = 0;

	if (fcol == (size_t)-1) {
		fcol = find_column(rows, "year");
		label = "Year";
	}
	for (size_t r = 0; r < table_rows(rows); r++)
		add_distinct(&kinds, &nkinds, table_cell(rows, r, fcol));
	page_begin(out, title, subtitle);
	add_filters(out, label, kinds, nkinds);
	sbuf_addstr(out, "<table id=\"report\"><thead><tr>");
	for (size_t c = 0; c < table_columns(rows); c++) {
		sbuf_addstr(out, "<th>");
		audit_html_escape(out, table_header(rows, c));
		sbuf_addstr(out, "</th>");
	}
	sbuf_addstr(out, "<th>ledger</th></tr></thead>\n<tbody>\n");
	for (size_t r = 0; r < table_rows(rows); r++)
		add_delivery_row(out, rows, r, fcol, scol, idcol, events);
	sbuf_addstr(out, "</tbody></table>\n");
	add_responses_list(out, responses);
	page_end(out);
	free(kinds);
}

/* ---- the matrix ---- */

static void add_matrix_head(struct sbuf *out, const struct audit_matrix *m)
{
	sbuf_addstr(out, "<table id=\"report\"><thead><tr><th>body</th>"
			 "<th>kind</th>");
	for (size_t c = 0; c < m->ncampaigns; c++) {
		sbuf_addstr(out, "<th title=\"");
		audit_html_escape(out, m->campaigns[c].send_at);
		sbuf_addstr(out, " (");
		audit_html_escape(out, m->campaigns[c].state);
		sbuf_addstr(out, ")\">");
		const char *mark = audit_matrix_campaign_mark(&m->campaigns[c]);

		audit_html_escape(out, m->campaigns[c].name);
		sbuf_addf(out, "<br><small>%d</small>", m->campaigns[c].year);
		/* nothing went out: say so rather than leave a bare column */
		if (mark)
			sbuf_addf(out, "<br><span class=\"mark\">%s</span>",
				  mark);
		sbuf_addstr(out, "</th>");
	}
	sbuf_addstr(out, "</tr></thead>\n<tbody>\n");
}

/* The responses of a cell (AUDIT_MARK_* bits); 0 without any. */
static unsigned cell_marks(const struct audit_matrix *m, size_t cell)
{
	return m->responses ? m->responses[cell] : 0;
}

static bool body_hidden(const struct audit_matrix *m, size_t b)
{
	return m->hidden && m->hidden[b];
}

/* " +ack +replied" after a cell's state. */
static void add_cell_marks(struct sbuf *out, unsigned bits)
{
	for (int i = 0; i < AUDIT_NMARKS; i++)
		if (bits & (1u << i))
			sbuf_addf(out, " %s", audit_mark_text(i));
}

static void add_matrix_row(struct sbuf *out, const struct audit_matrix *m,
			   size_t b, size_t *cell_no)
{
	const struct audit_matrix_body *body = &m->bodies[b];
	const int *best = &m->best[b * m->ncampaigns];
	const char *sep = "";

	sbuf_addstr(out, "<tr data-kind=\"");
	audit_html_escape(out, body->kind);
	sbuf_addstr(out, "\" data-states=\"");
	for (size_t c = 0; c < m->ncampaigns; c++) {
		const char *text = audit_matrix_cell_text(m, b * m->ncampaigns + c);

		/* "not reached" has a space: the filter looks for " s " */
		if (text) {
			sbuf_addf(out, "%s%s", sep, text);
			sep = " ";
		}
		for (int i = 0; i < AUDIT_NMARKS; i++) {
			if (cell_marks(m, b * m->ncampaigns + c) & (1u << i)) {
				sbuf_addf(out, "%s%s", sep, audit_mark_name(i));
				sep = " ";
			}
		}
	}
	sbuf_addstr(out, "\" data-text=\"");
	audit_html_escape(out, body->acronym);
	sbuf_addch(out, ' ');
	audit_html_escape(out, body->name);
	sbuf_addch(out, ' ');
	audit_html_escape(out, body->country);
	sbuf_addstr(out, "\"><th title=\"");
	audit_html_escape(out, body->name);
	sbuf_addstr(out, "\">");
	audit_html_escape(out, body->acronym ? body->acronym : body->name);
	sbuf_addstr(out, "</th><td>");
	audit_html_escape(out, body->kind);
	sbuf_addstr(out, "</td>");
	for (size_t c = 0; c < m->ncampaigns; c++) {
		size_t cell = b * m->ncampaigns + c;
		const char *s = audit_matrix_cell_text(m, cell);
		const char *why = m->unreached ? m->unreached[cell] : NULL;

		if (s && strcmp(s, AUDIT_NOT_REACHED) == 0) {
			/* the reason as a tooltip; clickable when the body
			 * also has (skipped) deliveries */
			sbuf_addstr(out, "<td class=\"cell st-unreached\" "
					 "title=\"");
			audit_html_escape(out, why);
			if (best[c])
				sbuf_addf(out, "\" data-cell=\"%zu",
					  (*cell_no)++);
			sbuf_addstr(out, "\">" AUDIT_NOT_REACHED ": ");
			audit_html_escape(out, why);
			sbuf_addstr(out, "</td>");
		} else if (s) {
			sbuf_addf(out, "<td class=\"cell st-%s\" data-cell=\"%zu\">"
				  "%s", s, (*cell_no)++, s);
			add_cell_marks(out, cell_marks(m, cell));
			sbuf_addstr(out, "</td>");
		} else {
			sbuf_addstr(out, "<td class=\"cell none\"></td>");
		}
	}
	sbuf_addstr(out, "</tr>\n");
}

/* One delivery of a cell, as the click panel shows it. */
static void add_cell_delivery(struct json *js, const struct table *d, size_t r)
{
	static const char *const fields[] = {
		"state", "email", "sent_at", "reply_code", "reply_enhanced",
		"reply_text", "queue_id", "reason",
	};

	json_object_begin(js);
	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
		json_kv_string(js, fields[f],
			       table_cell(d, r, find_column(d, fields[f])));
	json_kv_string(js, "id", table_cell(d, r, find_column(d, "delivery_id")));
	json_object_end(js);
}

/* "counts": {"sent": 2, "failed": 1}, best first. */
static void add_cell_counts(struct json *js, const unsigned *counts)
{
	json_key(js, "counts");
	json_object_begin(js);
	for (int r = AUDIT_NSTATES; r >= 1; r--)
		if (counts[r - 1])
			json_kv_int(js, audit_state_by_rank(r), counts[r - 1]);
	json_object_end(js);
}

/* The details of every non-empty cell, in the order the cells were
 * numbered (body by body, campaign by campaign). The delivery rows are
 * grouped by cell first (a counting sort), so this is linear. */
static void add_cell_data(struct sbuf *out, const struct audit_matrix *m)
{
	const struct table *d = m->deliveries;
	size_t ncells = m->nbodies * m->ncampaigns, n = d ? table_rows(d) : 0;
	size_t *start = xcalloc(ncells + 2, sizeof(*start));
	size_t *order = xcalloc(n + 1, sizeof(*order));
	struct sbuf json = SBUF_INIT;
	struct json js;

	for (size_t r = 0; r < n; r++)
		if (m->delivery_cell[r] != SIZE_MAX)
			start[m->delivery_cell[r] + 2]++;
	for (size_t i = 2; i < ncells + 2; i++)
		start[i] += start[i - 1];
	for (size_t r = 0; r < n; r++) /* start[cell + 1] is its fill point */
		if (m->delivery_cell[r] != SIZE_MAX)
			order[start[m->delivery_cell[r] + 1]++] = r;
	json_init(&js, &json, false);
	json_array_begin(&js);
	for (size_t cell = 0; cell < ncells; cell++) {
		const struct audit_matrix_body *b =
			&m->bodies[cell / m->ncampaigns];

		if (!m->best[cell] || body_hidden(m, cell / m->ncampaigns))
			continue;
		json_object_begin(&js);
		json_kv_string(&js, "body", b->acronym ? b->acronym : b->name);
		json_kv_string(&js, "campaign",
			       m->campaigns[cell % m->ncampaigns].name);
		add_cell_counts(&js, &m->counts[cell * AUDIT_NSTATES]);
		if (d) {
			json_key(&js, "deliveries");
			json_array_begin(&js);
			for (size_t i = start[cell]; i < start[cell + 1]; i++)
				add_cell_delivery(&js, d, order[i]);
			json_array_end(&js);
		}
		json_object_end(&js);
	}
	json_array_end(&js);
	sbuf_addstr(out, "<script type=\"application/json\" id=\"cell-data\">");
	add_script_json(out, &json);
	sbuf_addstr(out, "</script>\n");
	sbuf_release(&json);
	free(start);
	free(order);
}

void audit_html_matrix(const char *title, const struct audit_matrix *m,
		       struct sbuf *out)
{
	const char **kinds = NULL;
	size_t nkinds = 0, cell_no = 0;
	char sub[320];

	for (size_t b = 0; b < m->nbodies; b++)
		add_distinct(&kinds, &nkinds, m->bodies[b].kind);
	snprintf(sub, sizeof(sub), "%zu bodies, %zu campaigns, %zu deliveries; "
		 "each cell is the best state among the body's contacts; click "
		 "it for details%s", m->nbodies, m->ncampaigns, m->total,
		 m->deliveries ? "" : " (state counts only: too many deliveries "
				      "for one page; narrow with --since or see "
				      "'audit campaign NAME --format html')");
	page_begin(out, title, sub);
	add_filters(out, "Kind", kinds, nkinds);
	add_matrix_head(out, m);
	for (size_t b = 0; b < m->nbodies; b++)
		if (!body_hidden(m, b))
			add_matrix_row(out, m, b, &cell_no);
	sbuf_addstr(out, "</tbody></table>\n<div id=\"panel\"></div>\n");
	add_cell_data(out, m);
	page_end(out);
	free(kinds);
}
