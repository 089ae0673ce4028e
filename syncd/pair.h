/*
 * pair.h: enrolment of a new device by a pairing ticket, and the first
 * transfer of history to it.
 *
 * The new device (joiner) is the Noise initiator of
 * Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b: it knows the existing device's
 * static key and the psk from the ticket.  The existing device (shower)
 * takes the ticket as used only once the joiner's first transport message
 * decrypts (proof that it holds the psk), and enrols it only after a person
 * confirms on the shower and the account key is unsealed there.  The state
 * machine is given in docs/PROTOCOL.md.
 *
 * Both sides are blocking, one connection at a time; nothing here prints.
 */
#ifndef KITH_PAIR_H
#define KITH_PAIR_H

#include <stddef.h>
#include <stdint.h>

#include "home.h"
#include "ticket.h"
#include "xfer.h"

#define PAIR_PROTOCOL "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b"

/* Why a shower refused (MSG_REFUSE body, first byte). */
enum {
	PAIR_REFUSE_DECLINED = 1,
	PAIR_REFUSE_USED = 2,
	PAIR_REFUSE_REVOKED = 3,
	PAIR_REFUSE_BADPASS = 4,
	PAIR_REFUSE_INTERNAL = 5,
	PAIR_REFUSE_NAME = 6,
};

struct pair_ui {
	void *arg;
	/* Shower: may ${name} (fingerprint ${fp}) join?  1 yes, 0 no. */
	int (*confirm)(void *arg, const char *name, const char *fp);
	/*
	 * Shower: the account passphrase, attempt ${n} (from 1); *pass is
	 * sodium_malloc'd and freed by the caller with sodium_free.  Return
	 * non-zero to give up.
	 */
	int (*passphrase)(void *arg, int n, uint8_t **pass, size_t *len);
	/* Either side: something happened worth a line of log. */
	void (*note)(void *arg, const char *what);
	xfer_progress_cb *progress;
};

/* What a shower remembers across connections for one ticket. */
struct pair_state {
	int used;			/* a joiner proved the psk... */
	uint8_t used_by[32];		/* ...with this static key */
	int done;			/* transfer acknowledged */
	char joiner[ROSTER_NAMEMAX + 1];
	uint64_t sent;
};

/**
 * pair_serve(hm, t, ps, fd, ui): serve one connection ${fd} (owned, closed
 * on return) for ticket ${t}.  Returns 0 when the joiner acknowledged the
 * whole history (ps->done set); otherwise an error, after which the shower
 * may wait for another connection (KITH_EHANDSHAKE: a stranger without the
 * ticket; KITH_EUSED: the ticket is spent; KITH_EDECLINED; KITH_EBADPASS;
 * or a transfer error: the joiner may reconnect and resume).
 */
int pair_serve(struct home *hm, const struct ticket *t,
    struct pair_state *ps, int fd, const struct pair_ui *ui);

/**
 * pair_join(hm, t, fd, name, ui, stored): join with ticket ${t} over
 * ${fd} (owned), as device ${name}, and receive the history.  *${stored}
 * counts the records newly stored.  Returns 0 when the whole history is
 * held; KITH_EHANDSHAKE (wrong ticket or an impostor), KITH_EREFUSED,
 * KITH_EDECLINED, KITH_EUSED, KITH_EREVOKED, KITH_EBADPASS, or a
 * transfer error (what arrived is kept; running again resumes).
 */
int pair_join(struct home *hm, const struct ticket *t, int fd,
    const char *name, const struct pair_ui *ui, uint64_t *stored);

/**
 * pair_fingerprint(sign_pk, out): a short fingerprint of a device key to
 * compare by eye: "xxxx-xxxx-xxxx" (15 bytes with NUL).
 */
void pair_fingerprint(const uint8_t sign_pk[static 32], char out[static 15]);

#endif
