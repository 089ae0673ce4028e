#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kith_err.h"
#include "kith_util.h"

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

void
kith_base32_enc(const uint8_t *in, size_t len, char *out)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = b32[(acc << (5 - bits)) & 31];
	out[o] = '\0';
}

int
kith_base32_dec(const char *in, size_t inlen, uint8_t *out, size_t cap,
    size_t *outlen)
{
	uint32_t acc = 0;
	int bits = 0, v;
	size_t i, o = 0;
	char c;

	for (i = 0; i < inlen; i++) {
		c = in[i];
		if (c == '-' || c == ' ')
			continue;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= '2' && c <= '7')
			v = c - '2' + 26;
		else
			return (KITH_EFORMAT);
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			if (o >= cap)
				return (KITH_ETOOBIG);
			out[o++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
		acc &= 0xff;
	}
	/* Leftover bits must be padding zeros, and fewer than five. */
	if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0)
		return (KITH_EFORMAT);
	*outlen = o;
	return (0);
}

void
kith_hex(const uint8_t *in, size_t len, char *out)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hx[in[i] >> 4];
		out[2 * i + 1] = hx[in[i] & 15];
	}
	out[2 * len] = '\0';
}

int
kith_file_read(const char *path, size_t max, uint8_t **buf, size_t *len)
{
	struct stat st;
	uint8_t *b;
	size_t got = 0;
	ssize_t r;
	int fd, rc = KITH_EIO;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (errno == ENOENT ? KITH_ENOENT : KITH_EIO);
	if (fstat(fd, &st) == -1)
		goto fail0;
	if ((uintmax_t)st.st_size > max) {
		rc = KITH_ETOOBIG;
		goto fail0;
	}
	if ((b = malloc((size_t)st.st_size + 1)) == NULL) {
		rc = KITH_ENOMEM;
		goto fail0;
	}
	while (got < (size_t)st.st_size) {
		r = read(fd, b + got, (size_t)st.st_size - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			goto fail1;
		got += (size_t)r;
	}
	b[got] = '\0';
	close(fd);
	*buf = b;
	*len = got;
	return (0);

fail1:
	free(b);
fail0:
	close(fd);
	return (rc);
}

static int
write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t w;

	while (len > 0) {
		w = write(fd, p, len);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return (-1);
		p += w;
		len -= (size_t)w;
	}
	return (0);
}

int
kith_file_write(const char *path, const void *buf, size_t len, mode_t mode)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	char *slash;
	int fd, dfd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >=
	    (int)sizeof(tmp))
		return (KITH_EINVAL);
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    mode)) == -1)
		return (KITH_EIO);
	if (fchmod(fd, mode) || write_all(fd, buf, len) || fsync(fd)) {
		close(fd);
		goto fail;
	}
	if (close(fd) || rename(tmp, path))
		goto fail;

	/* Make the rename durable. */
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
		if (dir[0] == '\0')
			strcpy(dir, "/");
	} else
		strcpy(dir, ".");
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	return (0);

fail:
	(void)unlink(tmp);
	return (KITH_EIO);
}

int
kith_mkdirs(const char *path, mode_t mode)
{
	char p[PATH_MAX];
	size_t i;

	if (snprintf(p, sizeof(p), "%s", path) >= (int)sizeof(p))
		return (KITH_EINVAL);
	for (i = 1; p[i] != '\0'; i++) {
		if (p[i] != '/')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0755) == -1 && errno != EEXIST)
			return (KITH_EIO);
		p[i] = '/';
	}
	if (mkdir(p, mode) == -1 && errno != EEXIST)
		return (KITH_EIO);
	return (0);
}

uint64_t
kith_now(void)
{

	return ((uint64_t)time(NULL));
}

uint64_t
kith_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

static int
hexval(char c)
{

	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

int
kith_unhex(const char *in, size_t inlen, uint8_t *out, size_t outlen)
{
	size_t i;
	int hi, lo;

	if (inlen != 2 * outlen)
		return (KITH_EFORMAT);
	for (i = 0; i < outlen; i++) {
		if ((hi = hexval(in[2 * i])) < 0 ||
		    (lo = hexval(in[2 * i + 1])) < 0)
			return (KITH_EFORMAT);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (0);
}

int
kith_duration(const char *s, uint64_t *secs)
{
	uint64_t v = 0, mul = 1;
	size_t i = 0;

	if (s[0] < '0' || s[0] > '9')
		return (KITH_EINVAL);
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > 10ull * 366 * 86400)
			return (KITH_EINVAL);
	}
	switch (s[i]) {
	case '\0':
	case 's':
		break;
	case 'm':
		mul = 60;
		break;
	case 'h':
		mul = 3600;
		break;
	case 'd':
		mul = 86400;
		break;
	default:
		return (KITH_EINVAL);
	}
	if (s[i] != '\0' && s[i + 1] != '\0')
		return (KITH_EINVAL);
	if (v * mul > 10ull * 366 * 86400)
		return (KITH_EINVAL);
	*secs = v * mul;
	return (0);
}

int
kith_number(const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	if (s[0] == '\0')
		return (KITH_EINVAL);
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' ||
		    x > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return (KITH_EINVAL);
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	if (x < min || x > max)
		return (KITH_EINVAL);
	*v = x;
	return (0);
}

int
kith_text_ok(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, k, need;
	uint32_t cp;

	for (i = 0; i < n; i += need + 1) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			return (0);
		if (p[i] < 0x80) {
			need = 0;
			continue;
		}
		/* Well-formed UTF-8: no overlong forms, no surrogates. */
		if (p[i] >= 0xc2 && p[i] <= 0xdf) {
			need = 1;
			cp = p[i] & 0x1f;
		} else if (p[i] >= 0xe0 && p[i] <= 0xef) {
			need = 2;
			cp = p[i] & 0x0f;
		} else if (p[i] >= 0xf0 && p[i] <= 0xf4) {
			need = 3;
			cp = p[i] & 0x07;
		} else
			return (0);
		if (n - i <= need)
			return (0);
		for (k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return (0);
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 &&
		    cp <= 0xdfff))) || (need == 3 && (cp < 0x10000 ||
		    cp > 0x10ffff)) || (cp >= 0x80 && cp <= 0x9f))
			return (0);
	}
	return (1);
}
