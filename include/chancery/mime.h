/*
 * mime: process-wide GMime set-up, done once whichever module needs it
 * first (GMime's own initialisation is not thread-safe).
 */
#ifndef CHANCERY_MIME_H
#define CHANCERY_MIME_H

void mime_init(void);

#endif
