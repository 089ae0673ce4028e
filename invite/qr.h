/*
 * qr.h: QR codes out (libqrencode: terminal and PNG) and in (ZBar: PNG or
 * JPEG images, and video devices).
 *
 * Codes are always made at error-correction level M, in the smallest
 * version that holds the text.  Nothing here prints or exits.
 */
#ifndef KITH_QR_H
#define KITH_QR_H

#include <stddef.h>

/**
 * qr_version(text, version): the QR version (1..40) ${text} needs at level M.
 * Returns 0, KITH_ETOOBIG or KITH_ENOMEM.
 */
int qr_version(const char *text, int *version);

/**
 * qr_render_utf8(text, out): a NUL-terminated string that draws the code
 * for ${text} with UTF-8 half blocks (two module rows per line, a four
 * module quiet zone).  Blocks mark the light modules, as `qrencode -t UTF8`
 * does: a dark terminal shows a dark-on-light code; a light one shows it
 * inverted, which cameras and ZBar read as well.  The caller frees *${out}.  Returns 0, KITH_ETOOBIG or
 * KITH_ENOMEM.
 */
int qr_render_utf8(const char *text, char **out);

/**
 * qr_write_png(text, path, scale): write the code for ${text} as a PNG of
 * ${scale} pixels per module (0 means 8) with a quiet zone, to ${path},
 * created 0600 (it may hold a secret) through a temporary file and rename.  Returns 0,
 * KITH_ETOOBIG, KITH_EIO or KITH_ENOMEM.
 */
int qr_write_png(const char *text, const char *path, int scale);

/**
 * qr_scan_file(path, out, len): decode the first QR code found in the PNG
 * or JPEG image at ${path} (photo or screenshot; colour or grey).  *${out}
 * is a NUL-terminated copy of its data (the caller frees it), *${len} its
 * length.  Returns 0, KITH_EIMAGE (cannot open or decode the image),
 * KITH_ENOQR (no QR code in it) or KITH_ENOMEM.
 */
int qr_scan_file(const char *path, char **out, size_t *len);

/**
 * qr_scan_camera(device, timeout_ms, out, len): read frames from the video
 * device ${device} (NULL for /dev/video0) until a QR code is seen or
 * ${timeout_ms} pass.  Returns 0, KITH_ENOCAMERA, KITH_ETIMEOUT or
 * KITH_ENOMEM.
 */
int qr_scan_camera(const char *device, int timeout_ms, char **out,
    size_t *len);

#endif
