/*
 * qr.c: QR codes out with libqrencode, in with ZBar.
 *
 * Out: a code is always made at level M in the smallest version that holds
 * the text, in byte mode for the parts that need it and alphanumeric mode
 * for runs of upper-case letters, digits and " $%*+-./:" (so an upper-case
 * base32 ticket packs 11 bits per two characters, not 16).
 *
 * In: the image file is sniffed by its first bytes, never its name, decoded
 * to 8-bit luminance (libpng or libjpeg) and handed to ZBar with only its
 * QR decoder on, in binary mode so the data comes back byte for byte.  Both
 * image libraries report errors by longjmp(3); each decoder keeps its
 * setjmp in a function of its own, and any local it changes after setjmp
 * and needs after the jump is volatile.  Neither library may print: both
 * get error and warning hooks that stay silent.
 */
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/videodev2.h>
#endif

#include <jerror.h>
#include <jpeglib.h>
#include <png.h>
#include <qrencode.h>
#include <zbar.h>

#include "kith_err.h"
#include "qr.h"

/* Light modules kept clear around the code, on every side. */
#define QUIET		4

/* Pixels per module in qr_write_png when the caller says 0. */
#define SCALE_DEFAULT	8

/*
 * The largest image we decode or write, in pixels.  Checked against the
 * size an image header claims, before anything of that size is allocated:
 * a 60-byte file may claim to be a gigapixel.
 */
#define MAX_PIXELS	((uint64_t)64 * 1024 * 1024)

/* Where qr_scan_camera looks when the caller names no device. */
#define CAMERA_DEFAULT	"/dev/video0"

/* ZBar takes the image format as a fourcc; Y800 is 8-bit luminance. */
#define FOURCC(a, b, c, d)	((unsigned long)(a) |			\
	((unsigned long)(b) << 8) | ((unsigned long)(c) << 16) |	\
	((unsigned long)(d) << 24))

/* UTF-8 for the block elements U+2580, U+2584 and U+2588. */
#define UPPER_HALF	"\xe2\x96\x80"
#define LOWER_HALF	"\xe2\x96\x84"
#define FULL_BLOCK	"\xe2\x96\x88"

/* libjpeg's error manager, with the way back to our setjmp. */
struct jpgerr {
	struct jpeg_error_mgr mgr;	/* Must be first: libjpeg sees this. */
	jmp_buf jb;
	int eof;			/* The file ended inside the image. */
};

/*
 * Make the code for ${text} into *${qr}; the caller frees it with
 * QRcode_free.  libqrencode says why it failed through errno.
 */
static int
encode(const char *text, QRcode **qr)
{

	errno = 0;
	if ((*qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8,
	    1)) != NULL)
		return (0);

	switch (errno) {
	case ERANGE:
		return (KITH_ETOOBIG);
	case EINVAL:
		/* The empty string, which libqrencode refuses. */
		return (KITH_EINVAL);
	default:
		return (KITH_ENOMEM);
	}
}

/* Is module (x, y) of the code, counted with the quiet zone, dark? */
static int
dark(const QRcode *qr, int x, int y)
{

	x -= QUIET;
	y -= QUIET;
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return (0);
	return (qr->data[(size_t)y * (size_t)qr->width + (size_t)x] & 1);
}

/**
 * qr_version(text, version): the QR version (1..40) ${text} needs at level M.
 * Returns 0, KITH_ETOOBIG or KITH_ENOMEM.
 */
int
qr_version(const char *text, int *version)
{
	QRcode *qr;
	int rc;

	if ((rc = encode(text, &qr)) != 0)
		goto fail0;
	*version = qr->version;
	QRcode_free(qr);

	/* Success! */
	return (0);

fail0:
	/* Failure! */
	return (rc);
}

/**
 * qr_render_utf8(text, out): a NUL-terminated string that draws the code
 * for ${text} with UTF-8 half blocks (two module rows per line, a four
 * module quiet zone), dark modules drawn dark on a light terminal-agnostic
 * background.  The caller frees *${out}.  Returns 0, KITH_ETOOBIG or
 * KITH_ENOMEM.
 */
int
qr_render_utf8(const char *text, char **out)
{
	QRcode *qr;
	char *s, *p;
	size_t side, lines, size;
	int x, y, top, bot;
	int rc;

	if ((rc = encode(text, &qr)) != 0)
		goto fail0;

	/*
	 * Drawn "inverted": a character cell paints its ink where a module is
	 * LIGHT, and leaves dark modules to the terminal's background.  Most
	 * terminals are light text on a dark background, and there this gives
	 * the dark-on-light code (quiet zone included) that every scanner
	 * reads; it is what qrencode -t UTF8 and most terminal tools do.  On a
	 * dark-on-light terminal the same text shows a light-on-dark code,
	 * which phone cameras (iOS, Google Lens, ZXing) and qr_scan_file (it
	 * scans the negative too) still read.  Forcing the colours with
	 * escape sequences would fix both cases but break the text for pipes,
	 * files and terminals without colour, so the caller may add them.
	 *
	 * Each line is two module rows: the upper half of a cell is row 2i,
	 * the lower half row 2i + 1.  The side (width + 8) is odd, so the
	 * last line has only an upper row; its lower half stays empty.
	 */
	side = (size_t)qr->width + 2 * QUIET;
	lines = (side + 1) / 2;
	size = lines * (side * 3 + 1) + 1;
	if ((s = malloc(size)) == NULL) {
		rc = KITH_ENOMEM;
		goto fail1;
	}

	p = s;
	for (y = 0; y < (int)side; y += 2) {
		for (x = 0; x < (int)side; x++) {
			top = !dark(qr, x, y);
			bot = (y + 1 < (int)side) && !dark(qr, x, y + 1);
			if (top && bot) {
				memcpy(p, FULL_BLOCK, 3);
				p += 3;
			} else if (top) {
				memcpy(p, UPPER_HALF, 3);
				p += 3;
			} else if (bot) {
				memcpy(p, LOWER_HALF, 3);
				p += 3;
			} else {
				*p++ = ' ';
			}
		}
		*p++ = '\n';
	}
	*p = '\0';
	QRcode_free(qr);

	/* The string now belongs to the caller. */
	*out = s;

	/* Success! */
	return (0);

fail1:
	QRcode_free(qr);
fail0:
	/* Failure! */
	return (rc);
}

/* libpng error hook: no message, straight back to the setjmp. */
static void
pngcb_error(png_structp png, png_const_charp msg)
{

	(void)msg;
	png_longjmp(png, 1);
}

/* libpng warning hook: warnings are not worth a word from a library. */
static void
pngcb_warning(png_structp png, png_const_charp msg)
{

	(void)png;
	(void)msg;
}

/*
 * Write ${qr} to ${f} as an 8-bit grey PNG of ${scale} pixels per module
 * with the quiet zone.  The row buffer is allocated before setjmp and the
 * libpng structures are not changed after it, so nothing needs volatile.
 */
static int
write_code(FILE *f, const QRcode *qr, size_t scale)
{
	png_structp png;
	png_infop info = NULL;
	uint8_t *row;
	size_t side = (size_t)qr->width + 2 * QUIET;
	size_t npx = side * scale;
	size_t x, y;

	if ((row = malloc(npx)) == NULL)
		goto fail0;
	if ((png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL,
	    pngcb_error, pngcb_warning)) == NULL)
		goto fail1;
	if ((info = png_create_info_struct(png)) == NULL)
		goto fail2;
	if (setjmp(png_jmpbuf(png)))
		goto fail2;

	png_init_io(png, f);
	png_set_IHDR(png, info, (png_uint_32)npx, (png_uint_32)npx, 8,
	    PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
	    PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (y = 0; y < npx; y++) {
		for (x = 0; x < npx; x++)
			row[x] = dark(qr, (int)(x / scale), (int)(y / scale)) ?
			    0 : 255;
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	free(row);

	/* Success! */
	return (0);

fail2:
	png_destroy_write_struct(&png, &info);
fail1:
	free(row);
fail0:
	/* Failure! */
	return (-1);
}

/**
 * qr_write_png(text, path, scale): write the code for ${text} as a PNG of
 * ${scale} pixels per module (0 means 8) with a quiet zone, to ${path},
 * created 0600 (a pairing code is a secret) through a temporary file and rename.  Returns 0,
 * KITH_ETOOBIG, KITH_EIO or KITH_ENOMEM.
 */
int
qr_write_png(const char *text, const char *path, int scale)
{
	QRcode *qr;
	FILE *f;
	char *tmp;
	size_t side, pathlen;
	int fd;
	int rc;

	if (scale < 0) {
		rc = KITH_EINVAL;
		goto fail0;
	}
	if (scale == 0)
		scale = SCALE_DEFAULT;

	if ((rc = encode(text, &qr)) != 0)
		goto fail0;

	/* No larger an image than we would agree to read. */
	side = ((size_t)qr->width + 2 * QUIET) * (size_t)scale;
	if ((size_t)scale > 65536 || (uint64_t)side * side > MAX_PIXELS) {
		rc = KITH_ETOOBIG;
		goto fail1;
	}

	/*
	 * The temporary file sits next to ${path} so that rename(2) replaces
	 * it in one step: a reader sees the old image or the whole new one.
	 */
	pathlen = strlen(path);
	if ((tmp = malloc(pathlen + sizeof(".tmp.XXXXXX"))) == NULL) {
		rc = KITH_ENOMEM;
		goto fail1;
	}
	memcpy(tmp, path, pathlen);
	memcpy(tmp + pathlen, ".tmp.XXXXXX", sizeof(".tmp.XXXXXX"));
	if ((fd = mkstemp(tmp)) == -1) {
		rc = KITH_EIO;
		goto fail2;
	}

	/* mkstemp makes the file 0600; an image of a code is no secret. */
	if (fchmod(fd, 0600)) {
		rc = KITH_EIO;
		goto fail3;
	}
	if ((f = fdopen(fd, "wb")) == NULL) {
		rc = KITH_EIO;
		goto fail3;
	}

	/* From here on ${f} owns the descriptor. */
	fd = -1;
	if (write_code(f, qr, (size_t)scale)) {
		rc = KITH_EIO;
		goto fail4;
	}
	if (fflush(f) || fsync(fileno(f))) {
		rc = KITH_EIO;
		goto fail4;
	}
	if (fclose(f)) {
		rc = KITH_EIO;
		goto fail3;
	}
	if (rename(tmp, path)) {
		rc = KITH_EIO;
		goto fail3;
	}
	free(tmp);
	QRcode_free(qr);

	/* Success! */
	return (0);

fail4:
	fclose(f);
fail3:
	if (fd != -1)
		close(fd);
	unlink(tmp);
fail2:
	free(tmp);
fail1:
	QRcode_free(qr);
fail0:
	/* Failure! */
	return (rc);
}

/* Luminance of an sRGB pixel, ITU-R BT.601 weights, rounded. */
static uint8_t
luma(unsigned int r, unsigned int g, unsigned int b)
{

	return ((uint8_t)((299 * r + 587 * g + 114 * b + 500) / 1000));
}

/* ${y} seen through alpha ${a} against a white page. */
static uint8_t
on_white(unsigned int y, unsigned int a)
{

	return ((uint8_t)((y * a + 255 * (255 - a) + 127) / 255));
}

/*
 * Turn ${w} pixels of ${ch} 8-bit channels (G, GA, RGB or RGBA) at ${src}
 * into luminance at ${dst}.
 */
static void
row_to_luma(uint8_t *dst, const uint8_t *src, size_t w, int ch)
{
	size_t x;

	for (x = 0; x < w; x++, src += ch) {
		switch (ch) {
		case 1:
			dst[x] = src[0];
			break;
		case 2:
			dst[x] = on_white(src[0], src[1]);
			break;
		case 3:
			dst[x] = luma(src[0], src[1], src[2]);
			break;
		default:
			dst[x] = on_white(luma(src[0], src[1], src[2]), src[3]);
			break;
		}
	}
}

/*
 * Decode the PNG in ${f} to 8-bit luminance: *${pix} (the caller frees it),
 * *${w} by *${h}.  Returns 0, KITH_EIMAGE or KITH_ENOMEM.
 *
 * libpng expands palettes, grey below 8 bits and tRNS to plain 8-bit
 * channels and drops the low byte of 16-bit samples; the colour to grey
 * and alpha to white steps are ours.  A non-interlaced image is read a row
 * at a time; an interlaced one needs all its expanded rows at once.
 */
static int
load_png(FILE *f, uint8_t **pix, size_t *w, size_t *h)
{
	png_structp png;
	png_infop info = NULL;
	uint8_t *volatile gray = NULL;
	uint8_t *volatile buf = NULL;
	volatile int rc = KITH_EIMAGE;
	png_uint_32 pw, ph;
	size_t rowbytes, y;
	int ch, passes, pass;

	if ((png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL,
	    pngcb_error, pngcb_warning)) == NULL) {
		rc = KITH_ENOMEM;
		goto fail0;
	}
	if ((info = png_create_info_struct(png)) == NULL) {
		rc = KITH_ENOMEM;
		goto fail1;
	}
	if (setjmp(png_jmpbuf(png)))
		goto fail2;

	png_init_io(png, f);
	png_read_info(png, info);
	pw = png_get_image_width(png, info);
	ph = png_get_image_height(png, info);
	if (pw == 0 || ph == 0 || (uint64_t)pw * ph > MAX_PIXELS)
		goto fail2;

	png_set_expand(png);
	png_set_strip_16(png);
	passes = png_set_interlace_handling(png);
	png_read_update_info(png, info);
	ch = png_get_channels(png, info);
	rowbytes = png_get_rowbytes(png, info);
	if (png_get_bit_depth(png, info) != 8 || ch < 1 || ch > 4 ||
	    rowbytes != (size_t)pw * (size_t)ch)
		goto fail2;

	if ((gray = malloc((size_t)pw * ph)) == NULL ||
	    (buf = malloc(rowbytes * (passes > 1 ? ph : 1))) == NULL) {
		rc = KITH_ENOMEM;
		goto fail2;
	}

	if (passes > 1) {
		for (pass = 0; pass < passes; pass++)
			for (y = 0; y < ph; y++)
				png_read_row(png, buf + y * rowbytes, NULL);
		for (y = 0; y < ph; y++)
			row_to_luma(gray + y * pw, buf + y * rowbytes, pw, ch);
	} else {
		for (y = 0; y < ph; y++) {
			png_read_row(png, buf, NULL);
			row_to_luma(gray + y * pw, buf, pw, ch);
		}
	}

	/* Whatever follows the image data is of no interest. */
	png_destroy_read_struct(&png, &info, NULL);
	free(buf);

	/* The pixels now belong to the caller. */
	*pix = gray;
	*w = pw;
	*h = ph;

	/* Success! */
	return (0);

fail2:
	free(buf);
	free(gray);
fail1:
	png_destroy_read_struct(&png, &info, NULL);
fail0:
	/* Failure! */
	return (rc);
}

/* libjpeg fatal error hook: no message, no exit, back to the setjmp. */
static void
jpgcb_error(j_common_ptr cinfo)
{
	struct jpgerr *e = (struct jpgerr *)cinfo->err;

	longjmp(e->jb, 1);
}

/*
 * libjpeg message hook: silent, but note a file that ends inside the image
 * (libjpeg only warns, and fills the rest with grey).
 */
static void
jpgcb_message(j_common_ptr cinfo, int level)
{
	struct jpgerr *e = (struct jpgerr *)cinfo->err;

	if (level < 0) {
		e->mgr.num_warnings++;
		if (e->mgr.msg_code == JWRN_JPEG_EOF)
			e->eof = 1;
	}
}

/*
 * Decode the JPEG in ${f} to 8-bit luminance: *${pix} (the caller frees it),
 * *${w} by *${h}.  Returns 0, KITH_EIMAGE or KITH_ENOMEM.  A file cut short
 * is refused, as a cut PNG is, rather than scanned half grey.
 */
static int
load_jpeg(FILE *f, uint8_t **pix, size_t *w, size_t *h)
{
	struct jpeg_decompress_struct cinfo;
	struct jpgerr jerr;
	uint8_t *volatile gray = NULL;
	JSAMPROW row;
	size_t jw, jh;
	volatile int rc = KITH_EIMAGE;

	cinfo.err = jpeg_std_error(&jerr.mgr);
	jerr.mgr.error_exit = jpgcb_error;
	jerr.mgr.emit_message = jpgcb_message;
	jerr.eof = 0;
	jpeg_create_decompress(&cinfo);
	if (setjmp(jerr.jb))
		goto fail1;

	jpeg_stdio_src(&cinfo, f);
	if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK)
		goto fail1;
	jw = cinfo.image_width;
	jh = cinfo.image_height;
	if (jw == 0 || jh == 0 || (uint64_t)jw * jh > MAX_PIXELS)
		goto fail1;

	cinfo.out_color_space = JCS_GRAYSCALE;
	jpeg_start_decompress(&cinfo);
	if (cinfo.output_components != 1 || cinfo.output_width != jw ||
	    cinfo.output_height != jh)
		goto fail1;

	if ((gray = malloc(jw * jh)) == NULL) {
		rc = KITH_ENOMEM;
		goto fail1;
	}
	while (cinfo.output_scanline < cinfo.output_height) {
		row = gray + (size_t)cinfo.output_scanline * jw;
		if (jpeg_read_scanlines(&cinfo, &row, 1) != 1)
			goto fail1;
	}
	if (jerr.eof)
		goto fail1;

	/* Skip jpeg_finish_decompress: what follows the scan is not ours. */
	jpeg_destroy_decompress(&cinfo);

	/* The pixels now belong to the caller. */
	*pix = gray;
	*w = jw;
	*h = jh;

	/* Success! */
	return (0);

fail1:
	free(gray);
	jpeg_destroy_decompress(&cinfo);

	/* Failure! */
	return (rc);
}

/*
 * Copy the data of the first QR code among ${sym} and the symbols after it
 * into *${out} and *${len}.  Returns 0, KITH_ENOQR or KITH_ENOMEM.
 */
static int
take_first_qr(const zbar_symbol_t *sym, char **out, size_t *len)
{
	const char *data;
	char *s;
	size_t n;

	for (; sym != NULL; sym = zbar_symbol_next(sym)) {
		if (zbar_symbol_get_type(sym) != ZBAR_QRCODE)
			continue;

		/* Binary data may hold NULs: copy by length, then end it. */
		data = zbar_symbol_get_data(sym);
		n = zbar_symbol_get_data_length(sym);
		if ((s = malloc(n + 1)) == NULL)
			return (KITH_ENOMEM);
		if (n > 0)
			memcpy(s, data, n);
		s[n] = '\0';

		/* The copy now belongs to the caller. */
		*out = s;
		*len = n;
		return (0);
	}
	return (KITH_ENOQR);
}

/*
 * Scan the ${w} by ${h} luminance image ${pix} (still ours after the call)
 * for a QR code; if there is none, scan its negative, which ${pix} holds
 * afterwards.  Returns 0, KITH_ENOQR or KITH_ENOMEM.
 */
static int
scan_luma(uint8_t *pix, size_t w, size_t h, char **out, size_t *len)
{
	zbar_image_scanner_t *scanner;
	zbar_image_t *img;
	size_t i;
	int pass;
	int rc;

	if ((scanner = zbar_image_scanner_create()) == NULL) {
		rc = KITH_ENOMEM;
		goto fail0;
	}

	/*
	 * Only QR codes, so the 1-D decoders neither cost time nor find a
	 * "barcode" in the noise of a photo; and binary, so ZBar hands the
	 * bytes back as they are instead of guessing a character set.
	 */
	zbar_image_scanner_set_config(scanner, 0, ZBAR_CFG_ENABLE, 0);
	zbar_image_scanner_set_config(scanner, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
	zbar_image_scanner_set_config(scanner, ZBAR_QRCODE, ZBAR_CFG_BINARY, 1);

	if ((img = zbar_image_create()) == NULL) {
		rc = KITH_ENOMEM;
		goto fail1;
	}
	zbar_image_set_format(img, FOURCC('Y', '8', '0', '0'));
	zbar_image_set_size(img, (unsigned int)w, (unsigned int)h);

	/* No cleanup handler: ZBar borrows the pixels, it does not own them. */
	zbar_image_set_data(img, pix, (unsigned long)(w * h), NULL);

	/*
	 * A second pass on the negative reads light-on-dark codes, such as a
	 * screenshot of qr_render_utf8 on a light terminal.  ZBar's own
	 * ZBAR_CFG_TEST_INVERTED does the same, but its copy of the image
	 * (0.23) runs a word past the end of any buffer whose size is not a
	 * multiple of sizeof(long), so we invert in place ourselves.
	 */
	for (pass = 0; pass < 2; pass++) {
		/* Every pixel was written by row_to_luma or libjpeg. */
		if (pass == 1)
			for (i = 0; i < w * h; i++)
				/* NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Assign) */
				pix[i] = (uint8_t)~pix[i];
		if (zbar_scan_image(scanner, img) < 0) {
			rc = KITH_EIMAGE;
			goto fail2;
		}
		rc = take_first_qr(zbar_image_first_symbol(img), out, len);
		if (rc != KITH_ENOQR)
			break;
	}
	if (rc)
		goto fail2;
	zbar_image_destroy(img);
	zbar_image_scanner_destroy(scanner);

	/* Success! */
	return (0);

fail2:
	zbar_image_destroy(img);
fail1:
	zbar_image_scanner_destroy(scanner);
fail0:
	/* Failure! */
	return (rc);
}

/**
 * qr_scan_file(path, out, len): decode the first QR code found in the PNG
 * or JPEG image at ${path} (photo or screenshot; colour or grey).  *${out}
 * is a NUL-terminated copy of its data (the caller frees it), *${len} its
 * length.  Returns 0, KITH_EIMAGE (cannot open or decode the image),
 * KITH_ENOQR (no QR code in it) or KITH_ENOMEM.
 */
int
qr_scan_file(const char *path, char **out, size_t *len)
{
	static const uint8_t sig_png[8] = {
		0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'
	};
	static const uint8_t sig_jpeg[3] = { 0xff, 0xd8, 0xff };
	uint8_t head[8];
	uint8_t *pix;
	size_t w, h, n;
	FILE *f;
	int rc;

	if ((f = fopen(path, "rb")) == NULL) {
		rc = KITH_EIMAGE;
		goto fail0;
	}

	/* What the file is comes from its first bytes, not from its name. */
	n = fread(head, 1, sizeof(head), f);
	if (fseek(f, 0, SEEK_SET)) {
		rc = KITH_EIMAGE;
		goto fail1;
	}
	if (n >= sizeof(sig_png) && !memcmp(head, sig_png, sizeof(sig_png)))	/* not secret */
		rc = load_png(f, &pix, &w, &h);
	else if (n >= sizeof(sig_jpeg) &&
	    !memcmp(head, sig_jpeg, sizeof(sig_jpeg)))	/* not secret */
		rc = load_jpeg(f, &pix, &w, &h);
	else
		rc = KITH_EIMAGE;
	if (rc)
		goto fail1;
	(void)fclose(f);	/* read only: nothing to lose */

	rc = scan_luma(pix, w, h, out, len);
	free(pix);
	if (rc)
		goto fail0;

	/* Success! */
	return (0);

fail1:
	fclose(f);
fail0:
	/* Failure! */
	return (rc);
}

/* Milliseconds on a clock that only moves forward. */
static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/*
 * Is ${device} a video capture device?  libv4l, under ZBar, writes to
 * stderr when handed a node that is not one (a webcam's metadata node,
 * /dev/null), so ask the driver first, quietly, with the same ioctl.
 */
static int
is_camera(const char *device)
{
	struct stat st;
	int fd;
	int yes = 0;
#ifdef __linux__
	struct v4l2_capability cap;
	uint32_t caps;
#endif

	if ((fd = open(device, O_RDWR | O_NONBLOCK | O_CLOEXEC)) == -1)
		return (0);
	if (fstat(fd, &st) || !S_ISCHR(st.st_mode))
		goto done;
#ifdef __linux__
	memset(&cap, 0, sizeof(cap));
	if (ioctl(fd, VIDIOC_QUERYCAP, &cap) == -1)
		goto done;
	caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ?
	    cap.device_caps : cap.capabilities;
	yes = (caps & (V4L2_CAP_VIDEO_CAPTURE |
	    V4L2_CAP_VIDEO_CAPTURE_MPLANE)) != 0;
#else
	yes = 1;
#endif
done:
	close(fd);
	return (yes);
}

/**
 * qr_scan_camera(device, timeout_ms, out, len): read frames from the video
 * device ${device} (NULL for /dev/video0) until a QR code is seen or
 * ${timeout_ms} pass.  Returns 0, KITH_ENOCAMERA, KITH_ETIMEOUT or
 * KITH_ENOMEM.
 */
int
qr_scan_camera(const char *device, int timeout_ms, char **out, size_t *len)
{
	zbar_processor_t *proc;
	const zbar_symbol_set_t *syms;
	int64_t deadline, left;
	int n, rc;

	if (device == NULL)
		device = CAMERA_DEFAULT;

	/* ZBar would find out too, but not without a word on stderr. */
	if (access(device, F_OK) || !is_camera(device)) {
		rc = KITH_ENOCAMERA;
		goto fail0;
	}
	if (timeout_ms < 0)
		timeout_ms = 0;
	deadline = now_ms() + timeout_ms;

	/* Unthreaded, no window: frames are read inside zbar_process_one. */
	if ((proc = zbar_processor_create(0)) == NULL) {
		rc = KITH_ENOMEM;
		goto fail0;
	}
	zbar_processor_set_config(proc, 0, ZBAR_CFG_ENABLE, 0);
	zbar_processor_set_config(proc, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
	zbar_processor_set_config(proc, ZBAR_QRCODE, ZBAR_CFG_BINARY, 1);
	if (zbar_processor_init(proc, device, 0)) {
		rc = KITH_ENOCAMERA;
		goto fail1;
	}
	zbar_processor_set_visible(proc, 0);
	if (zbar_processor_set_active(proc, 1)) {
		rc = KITH_ENOCAMERA;
		goto fail1;
	}

	/* Frames until a QR code or the deadline; other symbols are off. */
	for (;;) {
		left = deadline - now_ms();
		if (left < 0)
			left = 0;
		if ((n = zbar_process_one(proc, (int)left)) < 0) {
			rc = KITH_ENOCAMERA;
			goto fail2;
		}
		if (n > 0 &&
		    (syms = zbar_processor_get_results(proc)) != NULL) {
			rc = take_first_qr(zbar_symbol_set_first_symbol(syms),
			    out, len);
			zbar_symbol_set_ref(syms, -1);
			if (rc == 0)
				break;
			if (rc != KITH_ENOQR)
				goto fail2;
		}
		if (left == 0) {
			rc = KITH_ETIMEOUT;
			goto fail2;
		}
	}
	zbar_processor_set_active(proc, 0);
	zbar_processor_destroy(proc);

	/* Success! */
	return (0);

fail2:
	zbar_processor_set_active(proc, 0);
fail1:
	zbar_processor_destroy(proc);
fail0:
	/* Failure! */
	return (rc);
}
