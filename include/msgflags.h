/*
 * Message flags as bits, shared by the protocol modules and the cache so
 * neither depends on the other. Other keywords travel as text.
 */
#ifndef PETREL_MSGFLAGS_H
#define PETREL_MSGFLAGS_H

#define MSG_SEEN	0x01
#define MSG_ANSWERED	0x02
#define MSG_FLAGGED	0x04
#define MSG_DELETED	0x08
#define MSG_DRAFT	0x10
#define MSG_FORWARDED	0x20	/* $Forwarded keyword */

#endif
