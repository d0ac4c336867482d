/*
 * mime_read: the GMime reading that the parsers of what comes back
 * (bounce_report, response) share. Library-private: it speaks GMime.
 */
#ifndef CHANCERY_MIME_READ_H
#define CHANCERY_MIME_READ_H

#include <stddef.h>

#include <gmime/gmime.h>

#include "chancery/sbuf.h"

/* data[0..len) parsed as a message (GMime does not copy it: data must
 * outlive the result); NULL when GMime finds none. Caller unrefs. */
GMimeMessage *mime_read_message(const char *data, size_t len);

/* The decoded content of a leaf part (its transfer encoding undone),
 * appended to sb. */
void mime_read_part_content(GMimePart *part, struct sbuf *sb);

#endif
