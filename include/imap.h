/*
 * IMAP client (RFC 3501/9051 with CONDSTORE/QRESYNC, LIST-EXTENDED,
 * SPECIAL-USE, ESEARCH, SASL-IR, ENABLE, ID, UIDPLUS, LITERAL+/-). It does
 * not use LIST-STATUS: imap_status() asks STATUS before LIST instead (see
 * there why).
 *
 * The client is synchronous: each call sends its commands (pipelined where
 * it helps) and reads until they complete, never waiting longer than the
 * io timeout of its proto_params for the server. The engine runs it on the
 * account's own thread, so the UI never waits on it.
 *
 * Any protocol error, timeout or lost connection leaves the client broken:
 * every later call fails at once with the first error, and the caller
 * reconnects. The connection is never used in an unknown state.
 */
#ifndef PETREL_IMAP_H
#define PETREL_IMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap-parser.h"
#include "proto.h"
#include "util.h"

struct imap_client;

/*
 * Connect, read the greeting, upgrade with STARTTLS when pp->tls says so,
 * authenticate (AUTHENTICATE PLAIN with SASL-IR when offered, else LOGIN),
 * ENABLE QRESYNC (or CONDSTORE) and send ID when offered. The POP3 fields of
 * pp are ignored; the client keeps copies of what it needs. NULL with err
 * set: ERR_TRANSIENT (network), ERR_TLS, ERR_AUTH (credentials refused),
 * ERR_CONFIG (no user name), ERR_PROTO (the server misbehaved).
 */
struct imap_client *imap_connect(const struct proto_params *pp,
		    const char *password, struct error *err);
/* LOGOUT (when the connection is healthy), close and free; *cp becomes NULL. */
void		 imap_logout(struct imap_client **cp);
/* Capability, as advertised after login (case-insensitive). */
bool		 imap_has_cap(const struct imap_client *, const char *cap);
/* QRESYNC / CONDSTORE are enabled for this session. */
bool		 imap_qresync(const struct imap_client *);
bool		 imap_condstore(const struct imap_client *);
/* The error that broke the client, or NULL while it is healthy. */
const struct error *imap_broken(const struct imap_client *);
/* Bytes in/out so far. */
void		 imap_counters(const struct imap_client *, size_t *in, size_t *out);

/* ---- Folders ------------------------------------------------------------ */

struct imap_folder_info {
	const char	*name;		/* the server's name (modified UTF-7) */
	char		 delim;		/* 0 for NIL */
	const char	*attributes;	/* all attributes, space-separated */
	const char	*special_use;	/* "\\Sent"... or NULL */
	bool		 noselect;	/* \Noselect or \NonExistent */
	bool		 subscribed;
	bool		 has_status;	/* imap_status() filled the fields below */
	uint32_t	 messages;
	uint32_t	 uidnext;
	uint32_t	 uidvalidity;
	uint64_t	 highestmodseq;	/* 0 when not given */
	bool		 has_unseen;	/* NOTIFY's STATUS gives UNSEEN too */
	uint32_t	 unseen;
};
typedef int (*imap_folder_cb)(void *arg, const struct imap_folder_info *);
/*
 * Every folder with its attributes and subscription (LIST-EXTENDED with
 * SPECIAL-USE, else LIST and LSUB). A non-zero cb return stops with -1.
 */
int		 imap_list(struct imap_client *, imap_folder_cb, void *arg,
		     struct error *err);
/*
 * STATUS (MESSAGES UIDNEXT UIDVALIDITY [HIGHESTMODSEQ]) of the named folders,
 * pipelined; cb gets name and the status fields of each folder that answers.
 * Ask before LIST: Dovecot 2.3 answers a STATUS of a big folder in 1 ms when
 * it comes first in a session, but takes about 0.3 s per 100,000 messages
 * after a LIST (and as slow for LIST-STATUS).
 */
typedef int (*imap_status_cb)(void *arg, const struct imap_folder_info *);
int		 imap_status(struct imap_client *, const char *const *names, size_t n,
		     imap_status_cb cb, void *arg, struct error *err);

/*
 * MYRIGHTS (RFC 4314) of the named folders, pipelined: cb gets each name
 * and its rights letters. 1 when the server has no ACL; a NO (a folder
 * gone, no "l" right) only leaves that folder out.
 */
typedef int (*imap_rights_cb)(void *arg, const char *name, const char *rights);
int		 imap_myrights(struct imap_client *, const char *const *names,
		     size_t n, imap_rights_cb, void *arg, struct error *err);

/* What GETQUOTAROOT (RFC 9208) says of a folder's quota root. */
struct imap_quota {
	bool		 storage;	/* STORAGE given: in KiB */
	uint64_t	 storage_used, storage_limit;
	bool		 messages;	/* MESSAGE given */
	uint64_t	 messages_used, messages_limit;
};
/*
 * GETQUOTAROOT mailbox: 0 with *q filled (maybe neither resource), 1 when
 * the server has no QUOTA (or refuses: a NO), -1 on a broken connection.
 */
int		 imap_quota(struct imap_client *, const char *mailbox,
		     struct imap_quota *q, struct error *err);

/* ---- Messages ----------------------------------------------------------- */

/* One FETCH response, decoded. Pointers valid during the callback only. */
struct imap_msg {
	uint32_t	 seq;
	uint32_t	 uid;		/* 0 if the response had none */
	bool		 has_flags;
	uint32_t	 flags;		/* MSG_* bits of msgflags.h */
	const char	*keywords;	/* other flags, space-separated, or NULL */
	uint64_t	 modseq;
	bool		 has_internaldate;
	int64_t		 internaldate;
	int64_t		 size;		/* RFC822.SIZE, -1 if absent */
	const char	*header;	/* BODY[HEADER...] bytes, or NULL */
	size_t		 header_len;
	const char	*body;		/* BODY[] bytes when buffered, or NULL */
	size_t		 body_len;
	bool		 body_streamed;	/* BODY[] went to the literal sink */
	bool		 body_head;	/* BODY[]<0>: only the first bytes */
	const char	*bodystructure;	/* BODYSTRUCTURE re-serialised, or NULL */
};
typedef int (*imap_msg_cb)(void *arg, const struct imap_msg *);
/* UIDs reported gone: VANISHED ranges (QRESYNC). */
typedef int (*imap_vanished_cb)(void *arg, uint32_t first, uint32_t last);

struct imap_mailbox {
	uint32_t	 exists;
	uint32_t	 uidvalidity;
	uint32_t	 uidnext;	/* 0 if the server did not say */
	uint64_t	 highestmodseq;	/* 0 with NOMODSEQ or no CONDSTORE */
	bool		 readonly;
};

struct imap_select_opts {
	bool		 readonly;	/* EXAMINE */
	/* QRESYNC (only when enabled): the cached state to resync from. */
	uint32_t	 qresync_uidvalidity;
	uint64_t	 qresync_modseq;
	/* Handlers for the FETCH and VANISHED responses QRESYNC sends. */
	imap_msg_cb	 on_fetch;
	imap_vanished_cb on_vanished;
	void		*arg;
};

/* SELECT (or EXAMINE) a folder by its server name. */
int		 imap_select(struct imap_client *, const char *name,
		     const struct imap_select_opts *, struct imap_mailbox *mb,
		     struct error *err);
/*
 * UID FETCH uidset (items) [modifiers], e.g. items "UID FLAGS" and modifiers
 * "CHANGEDSINCE 1234". Untagged FETCH responses (including unsolicited ones)
 * go to cb; a non-zero return from cb stops with -1 (err as set by cb).
 */
int		 imap_uid_fetch(struct imap_client *, const char *uidset,
		     const char *items, const char *modifiers, imap_msg_cb cb,
		     void *arg, struct error *err);
/* UID SEARCH criteria: each UID found (ranges with ESEARCH) goes to cb. */
typedef int (*imap_uid_cb)(void *arg, uint32_t first, uint32_t last);
int		 imap_uid_search(struct imap_client *, const char *criteria,
		     imap_uid_cb cb, void *arg, struct error *err);
/* Literals of at least min bytes go to sink instead of memory (BODY[] fetches). */
void		 imap_set_literal_sink(struct imap_client *,
		     const struct imap_literal_sink *sink, void *arg, uint64_t min);
/*
 * NOOP, only to see whether the connection is alive: untagged responses it
 * brings (EXISTS, EXPUNGE, FETCH...) are read and dropped, not collected.
 */
int		 imap_noop(struct imap_client *, struct error *err);
/*
 * IDLE (RFC 2177) in the selected mailbox. Begin sends it and waits for
 * the server's continuation. Wait returns 1 when responses came (taken
 * into the map and the change hooks, as during any command), 2 when
 * wake_fd became readable, 0 after timeout_ms, -1 on error (also when the
 * server ended the IDLE). End sends DONE and reads the IDLE's tagged OK.
 */
int		 imap_idle_begin(struct imap_client *, struct error *err);
/*
 * NOTIFY SET (RFC 5465): new and expunged messages and flag changes in the
 * selected folder as usual, and an untagged STATUS (imap_changes.status)
 * whenever one of the personal folders changes, at any time. Once per
 * connection; 1 when the server has no NOTIFY.
 */
int		 imap_notify(struct imap_client *, struct error *err);
/* NOOP answered within timeout_ms, or -1 (and the client is broken). */
int		 imap_probe(struct imap_client *, int timeout_ms,
		     struct error *err);
/* Mark the connection broken, so that imap_logout() says nothing. */
void		 imap_abandon(struct imap_client *, const char *why);
bool		 imap_notify_active(const struct imap_client *);
int		 imap_idle_wait(struct imap_client *, int wake_fd, int timeout_ms,
		     struct error *err);
int		 imap_idle_end(struct imap_client *, struct error *err);

/* ---- What changes in the selected mailbox (seqmap.c) -------------------- */

/*
 * Untagged EXISTS, EXPUNGE, VANISHED and FETCH are read during every
 * command, whoever runs it. The client keeps the selected mailbox's
 * sequence number -> UID map (4 bytes per message: loaded with
 * imap_seqmap_load(), kept in step by EXISTS, EXPUNGE, VANISHED and every
 * FETCH that names a UID) and reports each change to these handlers, when
 * set: outside the SELECT that opens the mailbox, and for FETCH only when
 * no command asked for it (an unsolicited flag change).
 */
struct imap_changes {
	void	(*exists)(void *arg, uint32_t exists);
	/* uid 0: the map was not loaded, so which message is not known. */
	void	(*expunged)(void *arg, uint32_t uid);
	void	(*vanished)(void *arg, uint32_t first, uint32_t last);
	void	(*fetch)(void *arg, const struct imap_msg *);
	/*
	 * An untagged STATUS of another folder: NOTIFY's news (RFC 5465), or
	 * the answer to a STATUS command. Fields that were not given are 0.
	 */
	void	(*status)(void *arg, const struct imap_folder_info *);
};
void		 imap_set_changes(struct imap_client *,
		     const struct imap_changes *, void *arg);
/* The selected mailbox's server name, or NULL. */
const char	*imap_selected(const struct imap_client *);
/* Fill the map of the selected mailbox (UID SEARCH ALL). */
int		 imap_seqmap_load(struct imap_client *, struct error *err);
bool		 imap_seqmap_loaded(const struct imap_client *);
/* The UID of message number seq, 0 when not known. */
uint32_t	 imap_seq_uid(const struct imap_client *, uint32_t seq);

/* ---- Changing a mailbox (actions.c) ------------------------------------- */

/* What COPYUID (RFC 4315) said: src[i] became dst[i] in the destination. */
struct imap_copyuid {
	bool		 valid;
	uint32_t	 uidvalidity;
	uint32_t	*src, *dst;
	size_t		 n;
};
void		 imap_copyuid_free(struct imap_copyuid *);
/* The destination UID of src, 0 when not named. */
uint32_t	 imap_copyuid_lookup(const struct imap_copyuid *, uint32_t src);
/* UID STORE uidset +FLAGS.SILENT (flags) (or -FLAGS.SILENT). */
int		 imap_uid_store(struct imap_client *, const char *uidset, bool add,
		     const char *flags, struct error *err);
/* UID COPY, or UID MOVE (RFC 6851) when move; *cu gets the COPYUID answer. */
int		 imap_uid_copy(struct imap_client *, const char *uidset,
		     const char *dest, bool move, struct imap_copyuid *cu,
		     struct error *err);
/* UID EXPUNGE (needs UIDPLUS): only these UIDs, never other \Deleted ones. */
int		 imap_uid_expunge(struct imap_client *, const char *uidset,
		     struct error *err);
/* Bare EXPUNGE: every \Deleted message of the folder. */
int		 imap_expunge(struct imap_client *, struct error *err);
/*
 * APPEND a message to mailbox (the server's name, modified UTF-7) with
 * flags (a parenthesised-list body such as "\\Seen", or NULL) and an
 * internal date (UTC seconds, 0: the server's now). A non-synchronising
 * literal where the server offers LITERAL+ (or LITERAL- for at most 4096
 * bytes), else the server's "+" is awaited. With UIDPLUS, the tagged OK's
 * APPENDUID fills *uidvalidityp and *uidp (else both 0; either may be NULL).
 * -1 with err set: a NO/BAD names the server's words ([TRYCREATE], [OVERQUOTA]...)
 * and leaves the connection usable (a NO before the "+" means the message
 * was never sent). Refused unsent, ERR_USAGE: len 0, a NUL in msg (no
 * BINARY), flags with controls, parentheses, braces or quotes, a date
 * outside the years 1900-9999, during IDLE; ERR_PROTO: more than the
 * server's APPENDLIMIT. msg (CRLF line ends already) goes out byte for
 * byte through the connection's write queue, never copied whole.
 */
int		 imap_append(struct imap_client *, const char *mailbox,
		     const char *flags, int64_t internaldate, const void *msg,
		     size_t len, uint32_t *uidvalidityp, uint32_t *uidp,
		     struct error *err);

/* ---- Low level (also used by tests) ------------------------------------- */

/*
 * Run one command (the text after the tag, without CRLF) and wait for its
 * completion; untagged responses go to cb when given. Returns 0 on OK, -1
 * with err set on NO/BAD (ERR_PROTO, the server's text quoted) or failure.
 */
typedef int (*imap_untagged_cb)(void *arg, const struct imap_resp *);
int		 imap_command(struct imap_client *, imap_untagged_cb cb, void *arg,
		     struct error *err, const char *fmt, ...)
		     __attribute__((format(printf, 5, 6)));
/* Append s as an IMAP quoted string (or fail for CR, LF, NUL). */
struct buf;
int		 imap_quote(struct buf *, const char *s);
/* Re-serialise a parsed argument in IMAP syntax (for BODYSTRUCTURE). */
void		 imap_arg_write(struct buf *, const struct imap_arg *);
/* "17-Jul-1996 02:44:25 -0700" to UTC seconds; -1 when malformed. */
int		 imap_parse_internaldate(const char *, int64_t *t);
/* A flag list (LIST arg) to MSG_* bits plus other keywords. */
uint32_t	 imap_parse_flags(const struct imap_arg *list, struct buf *keywords);

#endif
