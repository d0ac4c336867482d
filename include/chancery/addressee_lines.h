/*
 * addressee_lines: what a line of a statement is, for addressee.c's
 * cleaning pass over text copied from PDFs and web pages.
 */
#ifndef CHANCERY_ADDRESSEE_LINES_H
#define CHANCERY_ADDRESSEE_LINES_H

#include <stdbool.h>
#include <stddef.h>

/* The length of a list-item marker starting s[0..n) ("• ", "- ", "3. ",
 * "b) ", "c. ", "(iv) "), white space before it included; 0 when none. */
size_t addressee_bullet_len(const char *s, size_t n);

/* Whether the line s[0..n) is page debris: a page number or marker
 * ("12", "- 3 -", "Page 2 of 5"), or a running header or footer that
 * ends or starts with a page number set apart by a run of spaces
 * ("Annual Report 2024        17"). */
bool addressee_line_debris(const char *s, size_t n);

/* Whether the line s[0..n) starts what follows a statement, not its
 * list: a signature or contact line ("Press service of the Ombudsman",
 * "Tel: ...", "www...."), or a place and date ("Baku, 26 February
 * 2024", "26.02.2024"). */
bool addressee_line_after_list(const char *s, size_t n);

/* Whether the lines of text[from..len) up to the next blank line are a
 * list of one name a line (after a line ending in ':'): at least two,
 * each short, starting with a capital or "the", with no comma or
 * semicolon and no end that continues ("of", "and", "-"). Sets *end to
 * the offset after the block. */
bool addressee_lines_are_items(const char *text, size_t len, size_t from,
			       size_t *end);

#endif
