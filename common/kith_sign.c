#include <sodium.h>

#include "kith_err.h"
#include "kith_sign.h"

int
kith_sign_ctx(uint8_t sig[64], const uint8_t *ctx, size_t ctxlen,
    const uint8_t *h, const uint8_t *m, size_t len, const uint8_t sk[64])
{
	crypto_sign_state st;
	int rc;

	crypto_sign_init(&st);
	crypto_sign_update(&st, ctx, ctxlen);
	if (h != NULL)
		crypto_sign_update(&st, h, 32);
	crypto_sign_update(&st, m, len);
	rc = crypto_sign_final_create(&st, sig, NULL, sk) ? KITH_ECRYPTO : 0;
	sodium_memzero(&st, sizeof(st));
	return (rc);
}

int
kith_verify_ctx(const uint8_t sig[64], const uint8_t *ctx, size_t ctxlen,
    const uint8_t *h, const uint8_t *m, size_t len, const uint8_t pk[32])
{
	crypto_sign_state st;
	int rc;

	crypto_sign_init(&st);
	crypto_sign_update(&st, ctx, ctxlen);
	if (h != NULL)
		crypto_sign_update(&st, h, 32);
	crypto_sign_update(&st, m, len);
	rc = crypto_sign_final_verify(&st, sig, pk) ? KITH_ECRYPTO : 0;
	sodium_memzero(&st, sizeof(st));
	return (rc);
}
