# Tidies scdoc's roff for mandoc's lint: scdoc emits a paragraph macro
# after .TH/.SH/.SS, before headings, twice in a row and just before .RE,
# where roff starts or ends a paragraph anyway. Such a .P is dropped or
# moved after the .RE; the rendered page stays the same.
function heading(l) { return l ~ /^\.(TH|SH|SS)( |$)/ }
{
	if ($0 == ".P") {
		if (!heading(prev))
			held = 1
		next
	}
	if (held && $0 == ".RE") {
		print
		prev = $0
		next
	}
	if (held && !heading($0))
		print ".P"
	held = 0
	print
	prev = $0
}
END { if (held) print ".P" }
