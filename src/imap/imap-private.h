/* Internals of the IMAP client, shared by its files only. */
#ifndef PETREL_IMAP_PRIVATE_H
#define PETREL_IMAP_PRIVATE_H

#include "buf.h"
#include "imap.h"
#include "net.h"
#include "proto.h"

enum imap_state {
	IMAP_S_CONNECTED,	/* greeting read, not authenticated */
	IMAP_S_AUTH,		/* authenticated */
	IMAP_S_SELECTED,
	IMAP_S_LOGOUT,
	IMAP_S_BROKEN,		/* unusable; see c->error */
};

/* A command sent and not yet waited for. */
struct imap_pending {
	uint32_t	 tag;
	bool		 done;
	enum imap_status status;
	char		*text;		/* completion text, for errors */
	char		*code;		/* response code atom, if any */
};

#define IMAP_MAX_PENDING	64

/* The other users' and shared namespace prefixes, once per connection. */
struct imap_namespaces {
	char		**prefixes;
	size_t		  n;
	bool		  known;
};

struct imap_client {
	/* Copied from the proto_params at connect. */
	char			*name;		/* account, for messages */
	char			*host;
	int			 port;
	bool			 token;		/* the secret is an OAuth2 token */
	bool			 external;	/* a certificate, no secret */
	char			*user;
	enum proto_tls		 tls;
	struct conn		*conn;
	struct imap_parser	*parser;
	enum imap_state		 state;
	struct error		 error;		/* set when BROKEN */
	uint32_t		 next_tag;
	char			**caps;
	size_t			 ncaps;
	bool			 caps_seen;	/* caps set since last cleared */
	bool			 qresync;
	bool			 condstore;
	char			*bye;		/* text of an untagged BYE */
	struct imap_pending	 pending[IMAP_MAX_PENDING];
	size_t			 npending;
	/* Where untagged responses go while a command runs. */
	imap_untagged_cb	 untagged_cb;
	void			*untagged_arg;
	/* Sees tagged completions that carry a response code, while set. */
	imap_untagged_cb	 tagged_cb;
	void			*tagged_arg;
	/* Answers continuation requests ("+ ...") while set. */
	int			(*cont_cb)(struct imap_client *, void *,
				    const char *text, struct error *);
	void			*cont_arg;
	/* The selected mailbox (seqmap.c). */
	char			*selected;
	bool			 selecting;	/* inside its SELECT */
	uint32_t		*seqmap;	/* UID by sequence number - 1 */
	size_t			 nseq, seqsize;
	bool			 seqmap_loaded;	/* imap_seqmap_load() ran */
	const struct imap_changes *changes;
	void			*changes_arg;
	struct buf		 chg_scratch;
	uint32_t		 idle_tag;	/* of the IDLE running, or 0 */
	bool			 idling;	/* its continuation came */
	bool			 notify;	/* NOTIFY SET was accepted */
	int			 io_timeout_ms;	/* as connected */
	bool			 want_compress;	/* proto_params.compress */
	char			*auth;		/* proto_params.auth, or NULL */
	struct imap_namespaces	 namespaces;	/* mailbox.c */
	char			 rbuf[65536];
};

/* Keep the map and report changes (seqmap.c); asked: a command's cb wants it. */
void	imap_track_untagged(struct imap_client *, const struct imap_resp *,
	    bool asked);
/* An untagged STATUS into f (strings r's): 0, 1 not a STATUS, -1 bad. */
int	imap_status_parse(const struct imap_resp *, struct imap_folder_info *f,
	    struct error *err);
void	imap_seqmap_reset(struct imap_client *, const char *selected);

void	imap_set_state(struct imap_client *, enum imap_state);
/* Mark the client broken with err copied; returns -1. */
int	imap_break(struct imap_client *, const struct error *err);
/* Send a tagged command; *tagp gets its tag. */
int	imap_send(struct imap_client *, uint32_t *tagp, struct error *err,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int	imap_vsend(struct imap_client *, uint32_t *tagp, struct error *err,
	    const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));
/* Read until the command with this tag completes; untagged go to cb. */
int	imap_wait(struct imap_client *, uint32_t tag, imap_untagged_cb cb,
	    void *arg, struct error *err);
/* Read one response (for greeting and continuations). */
int	imap_read(struct imap_client *, struct imap_resp *, struct error *err);
/* Apply capabilities from a CAPABILITY list of args. */
void	imap_set_caps(struct imap_client *, const struct imap_arg *, size_t n);
/*
 * Call cb for each range (first <= last) of a UID set such as "1:3,7".
 * 0, -1 for a malformed set, -2 when cb returned non-zero.
 */
int	imap_uidset_each(const char *s, size_t len, imap_uid_cb cb, void *arg);
/* "dd-Mon-yyyy hh:mm:ss +0000" and its NUL. */
#define IMAP_DATE_LEN	27
/* UTC seconds as an IMAP date-time (without the quotes); -1 out of range. */
int	imap_format_internaldate(char out[IMAP_DATE_LEN], int64_t t);
/* Decode a FETCH response's list into m (fetch.c); -1 if malformed. */
int	imap_fetch_decode(const struct imap_resp *, struct imap_msg *m,
	    struct buf *scratch, struct error *err);

#endif
