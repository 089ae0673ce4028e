/*
 * test_qr.c: QR codes made by invite/qr.c, read back by invite/qr.c.
 *
 * No mocks: real PNG and JPEG files in a temporary directory, real ZBar.
 *
 *  1. round trips: text -> qr_write_png -> qr_scan_file -> the same bytes,
 *     for short, long upper-case base32, mixed case, UTF-8 and non-UTF-8
 *     texts, and for the same code saved as every kind of PNG
 *     (palette, 1-bit and 16-bit grey, grey+alpha, RGB, RGBA, interlaced);
 *  2. the code as a phone would see it: scaled 1.7x (bilinear), turned,
 *     blurred, noisy, low contrast, tinted, on a grey margin, saved as a
 *     quality 70 JPEG; and files whose names lie about their format;
 *  3. qr_render_utf8 read back module by module equals libqrencode's
 *     matrix, and drawn as a dark and as a light terminal would, scans;
 *  4. versions: a 180-character pairing code fits version 10 at level M,
 *     and more than a version 40 code holds is KITH_ETOOBIG;
 *  5. bad input: not an image, empty, cut PNG and JPEG, headers claiming
 *     huge images -> KITH_EIMAGE; a blank image -> KITH_ENOQR;
 *  6. qr_scan_camera on a device that is missing or not a camera ->
 *     KITH_ENOCAMERA.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jpeglib.h>
#include <png.h>
#include <qrencode.h>

#include "kith_err.h"
#include "qr.h"

static int npass, nfail;

#define CHECK(c)	check((c), #c, __LINE__)
#define CHECK_RC(e, want)	check_rc((e), (want), #e, __LINE__)

static int
check(int ok, const char *what, int line)
{

	if (ok)
		npass++;
	else {
		nfail++;
		fprintf(stderr, "test_qr.c:%d: check failed: %s\n", line, what);
	}
	return (ok);
}

static int
check_rc(int got, int want, const char *what, int line)
{

	if (got == want)
		npass++;
	else {
		nfail++;
		fprintf(stderr, "test_qr.c:%d: %s: got %d (%s), want %d (%s)\n",
		    line, what, got, kith_strerror(got), want,
		    kith_strerror(want));
	}
	return (got == want);
}

static char tmpdir[256];

/* ${name} in the temporary directory (one static buffer per slot). */
static const char *
in_tmp(const char *name)
{
	static char buf[4][512];
	static int slot;

	slot = (slot + 1) % 4;
	snprintf(buf[slot], sizeof(buf[slot]), "%s/%s", tmpdir, name);
	return (buf[slot]);
}

static void
rm_tmpdir(void)
{
	DIR *d;
	struct dirent *e;

	if ((d = opendir(tmpdir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		unlink(in_tmp(e->d_name));
	}
	closedir(d);
	rmdir(tmpdir);
}

/* Does any leftover temporary file of qr_write_png sit in tmpdir? */
static int
tmp_leftovers(void)
{
	DIR *d;
	struct dirent *e;
	int n = 0;

	if ((d = opendir(tmpdir)) == NULL)
		return (-1);
	while ((e = readdir(d)) != NULL)
		if (strstr(e->d_name, ".tmp.") != NULL)
			n++;
	closedir(d);
	return (n);
}

static int
write_bytes(const char *path, const void *p, size_t n)
{
	FILE *f;
	int ok;

	if ((f = fopen(path, "wb")) == NULL)
		return (-1);
	ok = fwrite(p, 1, n, f) == n;
	return ((fclose(f) == 0 && ok) ? 0 : -1);
}

static uint8_t *
read_bytes(const char *path, size_t *n)
{
	FILE *f;
	uint8_t *p = NULL;
	long sz;

	if ((f = fopen(path, "rb")) == NULL)
		return (NULL);
	if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) > 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (p = malloc((size_t)sz)) != NULL) {
		if (fread(p, 1, (size_t)sz, f) != (size_t)sz) {
			free(p);
			p = NULL;
		} else
			*n = (size_t)sz;
	}
	fclose(f);
	return (p);
}

/* A grey image, one byte a pixel. */
struct gray {
	size_t w, h;
	uint8_t *p;
};

/* Read any PNG as 8-bit grey with libpng's simplified API. */
static int
read_png_gray(const char *path, struct gray *g)
{
	png_image img;

	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_file(&img, path))
		return (-1);
	img.format = PNG_FORMAT_GRAY;
	g->w = img.width;
	g->h = img.height;
	if ((g->p = malloc(PNG_IMAGE_SIZE(img))) == NULL) {
		png_image_free(&img);
		return (-1);
	}
	if (!png_image_finish_read(&img, NULL, g->p, 0, NULL)) {
		free(g->p);
		g->p = NULL;
		return (-1);
	}
	return (0);
}

/* The ways test images are stored as PNG. */
enum pngkind {
	K_GRAY8, K_GRAY1, K_GRAY16, K_GA8, K_RGB8, K_RGBA8, K_RGBA16,
	K_PAL1, K_PAL_TRNS, K_INTERLACED, K_NKINDS
};

static const char *kind_name[K_NKINDS] = {
	"gray8", "gray1", "gray16", "ga8", "rgb8", "rgba8", "rgba16",
	"pal1", "paltrns", "interlaced"
};

/*
 * Store the mostly black-and-white ${g} as a PNG of ${kind}.  In the kinds
 * with alpha, light pixels become fully transparent BLACK: only a decoder
 * that lays alpha on white sees a code in them.
 */
static int
write_png_kind(const char *path, const struct gray *g, enum pngkind kind)
{
	png_structp png;
	png_infop info;
	png_color pal[2] = { { 10, 20, 110 }, { 255, 250, 205 } };
	png_byte trns[2] = { 255, 0 };
	png_color all_black[2] = { { 0, 0, 0 }, { 0, 0, 0 } };
	uint8_t *volatile row = NULL;
	FILE *volatile f;
	int ctype, depth, ilace, passes, pass;
	size_t x, y, bpp;
	volatile int rc = -1;

	if ((f = fopen(path, "wb")) == NULL)
		return (-1);
	if ((png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL,
	    NULL)) == NULL) {
		fclose(f);
		return (-1);
	}
	if ((info = png_create_info_struct(png)) == NULL) {
		png_destroy_write_struct(&png, NULL);
		fclose(f);
		return (-1);
	}
	if (setjmp(png_jmpbuf(png)))
		goto done;

	ilace = PNG_INTERLACE_NONE;
	switch (kind) {
	case K_GRAY1: ctype = PNG_COLOR_TYPE_GRAY; depth = 1; bpp = 1; break;
	case K_GRAY16: ctype = PNG_COLOR_TYPE_GRAY; depth = 16; bpp = 2; break;
	case K_GA8: ctype = PNG_COLOR_TYPE_GRAY_ALPHA; depth = 8; bpp = 2;
		break;
	case K_RGB8: ctype = PNG_COLOR_TYPE_RGB; depth = 8; bpp = 3; break;
	case K_RGBA8: ctype = PNG_COLOR_TYPE_RGB_ALPHA; depth = 8; bpp = 4;
		break;
	case K_RGBA16: ctype = PNG_COLOR_TYPE_RGB_ALPHA; depth = 16; bpp = 8;
		break;
	case K_PAL1:
	case K_PAL_TRNS: ctype = PNG_COLOR_TYPE_PALETTE; depth = 1; bpp = 1;
		break;
	case K_INTERLACED: ilace = PNG_INTERLACE_ADAM7;
		/* FALLTHROUGH */
	default: ctype = PNG_COLOR_TYPE_GRAY; depth = 8; bpp = 1; break;
	}
	if ((row = calloc(g->w, bpp)) == NULL)
		goto done;

	png_init_io(png, f);
	png_set_IHDR(png, info, (png_uint_32)g->w, (png_uint_32)g->h, depth,
	    ctype, ilace, PNG_COMPRESSION_TYPE_DEFAULT,
	    PNG_FILTER_TYPE_DEFAULT);
	if (kind == K_PAL1)
		png_set_PLTE(png, info, pal, 2);
	if (kind == K_PAL_TRNS) {
		/* Index 1 (the light modules) is black, but transparent. */
		png_set_PLTE(png, info, all_black, 2);
		png_set_tRNS(png, info, trns, 2, NULL);
	}
	png_write_info(png, info);
	if (depth == 1)
		png_set_packing(png);
	passes = png_set_interlace_handling(png);

	for (pass = 0; pass < passes; pass++)
	for (y = 0; y < g->h; y++) {
		const uint8_t *s = g->p + y * g->w;

		for (x = 0; x < g->w; x++) {
			int light = s[x] >= 128;
			uint8_t *d = row + x * bpp;

			switch (kind) {
			case K_GRAY1:
			case K_PAL1:
			case K_PAL_TRNS:
				d[0] = (uint8_t)light;
				break;
			case K_GRAY16:
				d[0] = s[x];
				d[1] = (uint8_t)(s[x] ^ 0x5a);
				break;
			case K_GA8:
				d[0] = 0;
				d[1] = light ? 0 : 255;
				break;
			case K_RGB8:
				/* Blue alone would see no code at all. */
				d[0] = light ? 250 : 20;
				d[1] = light ? 240 : 30;
				d[2] = 190;
				break;
			case K_RGBA8:
				d[0] = d[1] = d[2] = 0;
				d[3] = light ? 0 : 255;
				break;
			case K_RGBA16:
				memset(d, 0, 6);
				d[6] = d[7] = light ? 0 : 255;
				break;
			default:
				d[0] = s[x];
				break;
			}
		}
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	rc = 0;
done:
	png_destroy_write_struct(&png, &info);
	free(row);
	if (fclose(f))
		rc = -1;
	return (rc);
}

/* Write ${w} x ${h} pixels of ${ncomp} components as a JPEG. */
static int
write_jpeg(const char *path, const uint8_t *px, size_t w, size_t h,
    int ncomp, int quality)
{
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr jerr;
	JSAMPROW row;
	FILE *f;

	if ((f = fopen(path, "wb")) == NULL)
		return (-1);
	/* The default error handler exits: fine for a test program. */
	c.err = jpeg_std_error(&jerr);
	jpeg_create_compress(&c);
	jpeg_stdio_dest(&c, f);
	c.image_width = (JDIMENSION)w;
	c.image_height = (JDIMENSION)h;
	c.input_components = ncomp;
	c.in_color_space = ncomp == 3 ? JCS_RGB : JCS_GRAYSCALE;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, quality, TRUE);
	jpeg_start_compress(&c, TRUE);
	while (c.next_scanline < c.image_height) {
		row = (JSAMPROW)(px + (size_t)c.next_scanline * w * ncomp);
		jpeg_write_scanlines(&c, &row, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	return (fclose(f) ? -1 : 0);
}

static uint32_t rng_state = 0x6b697468;

/* A small deterministic generator: the same noise every run. */
static uint32_t
rng(void)
{

	rng_state = rng_state * 1664525u + 1013904223u;
	return (rng_state >> 8);
}

static uint8_t
clamp8(double v)
{

	if (v < 0)
		return (0);
	if (v > 255)
		return (255);
	return ((uint8_t)(v + 0.5));
}

/* Cosine and sine of the angles photos are turned by (no libm needed). */
#define COS_4DEG	0.99756405025982425
#define SIN_4DEG	0.06975647374412530
#define COS_M7DEG	0.99254615164132198
#define SIN_M7DEG	(-0.12186934340514748)

/*
 * ${src} as a phone photographs a screen: scaled by ${scale} with bilinear
 * sampling, turned by the angle whose cosine and sine are ${ca} and ${sa},
 * on a grey margin of ${margin} pixels, blurred, squeezed into a low
 * contrast, noisy and tinted.  Returns RGB pixels (the caller frees them),
 * *${w} by *${h}.
 */
static uint8_t *
photo(const struct gray *src, double scale, double ca, double sa,
    size_t margin, size_t *w, size_t *h)
{
	double cx, cy, scx, scy;
	size_t W, H, X, Y;
	uint8_t *lum, *blur, *rgb;

	W = (size_t)(src->w * scale + 0.999) + 2 * margin;
	H = (size_t)(src->h * scale + 0.999) + 2 * margin;
	lum = malloc(W * H);
	blur = malloc(W * H);
	rgb = malloc(W * H * 3);
	if (lum == NULL || blur == NULL || rgb == NULL) {
		free(lum);
		free(blur);
		free(rgb);
		return (NULL);
	}
	cx = W / 2.0;
	cy = H / 2.0;
	scx = src->w / 2.0;
	scy = src->h / 2.0;

	for (Y = 0; Y < H; Y++) {
		for (X = 0; X < W; X++) {
			double dx = X + 0.5 - cx, dy = Y + 0.5 - cy;
			double u = (ca * dx + sa * dy) / scale + scx - 0.5;
			double v = (-sa * dx + ca * dy) / scale + scy - 0.5;
			double val;

			if (u < 0 || v < 0 || u > src->w - 1.0 ||
			    v > src->h - 1.0) {
				/* A desk, grey, lighter to the right. */
				val = 120 + 40.0 * X / W;
			} else {
				size_t x0 = (size_t)u, y0 = (size_t)v;
				size_t x1 = x0 + 1 < src->w ? x0 + 1 : x0;
				size_t y1 = y0 + 1 < src->h ? y0 + 1 : y0;
				double fx = u - x0, fy = v - y0;
				const uint8_t *p = src->p;

				val = (1 - fy) * ((1 - fx) * p[y0 * src->w + x0]
				    + fx * p[y0 * src->w + x1]) +
				    fy * ((1 - fx) * p[y1 * src->w + x0] +
				    fx * p[y1 * src->w + x1]);
				/* A screen is never black nor white. */
				val = 40 + val * (205 - 40) / 255.0;
			}
			lum[Y * W + X] = clamp8(val);
		}
	}

	/* Out of focus: a 3x3 box blur. */
	for (Y = 0; Y < H; Y++) {
		for (X = 0; X < W; X++) {
			int sum = 0, n = 0, i, j;

			for (j = -1; j <= 1; j++)
				for (i = -1; i <= 1; i++) {
					long xx = (long)X + i, yy = (long)Y + j;

					if (xx < 0 || yy < 0 || xx >= (long)W ||
					    yy >= (long)H)
						continue;
					sum += lum[yy * (long)W + xx];
					n++;
				}
			blur[Y * W + X] = (uint8_t)(sum / n);
		}
	}

	/* Sensor noise and a warm tint. */
	for (Y = 0; Y < H * W; Y++) {
		double v = blur[Y] + (double)(rng() % 25) - 12;

		rgb[Y * 3] = clamp8(v + 8);
		rgb[Y * 3 + 1] = clamp8(v);
		rgb[Y * 3 + 2] = clamp8(v * 0.9 - 4);
	}
	free(lum);
	free(blur);
	*w = W;
	*h = H;
	return (rgb);
}

/* Scan ${path} and check that it holds exactly ${text}. */
static void
expect_scan(const char *path, const char *text, int line)
{
	char *out = NULL;
	size_t len = 0;
	int rc;

	rc = qr_scan_file(path, &out, &len);
	check_rc(rc, 0, path, line);
	if (rc == 0) {
		check(len == strlen(text) && memcmp(out, text, len) == 0 &&
		    out[len] == '\0', "scanned data equals the text", line);
		free(out);
	}
}

/* Scan ${path}, expecting failure ${want}. */
static void
expect_scan_rc(const char *path, int want, int line)
{
	char *out = NULL;
	size_t len = 0;
	int rc;

	rc = qr_scan_file(path, &out, &len);
	check_rc(rc, want, path, line);
	if (rc == 0)
		free(out);
}

/* A 180-character pairing code: "KITH-PAIR:" and 170 base32 characters. */
static void
make_pairing(char *buf, int lower)
{
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	size_t i;

	strcpy(buf, lower ? "kith-pair:" : "KITH-PAIR:");
	for (i = 10; i < 180; i++) {
		char c = b32[(i * 7 + i / 3) % 32];

		buf[i] = (lower && c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
	}
	buf[180] = '\0';
}

/* 1: round trips through qr_write_png and every kind of PNG. */
static void
test_png_roundtrip(const char *pairing)
{
	static const char *texts[] = {
		"hello",
		NULL,		/* The upper-case pairing code. */
		"kith-invite:v1:Mixed-Case_Token.with/Punctuation?and=digits"
		    "0123456789&more=AbCdEfGhIjKlMnOpQrStUvWxYz~!@#$%^*()[]{}",
		"Gr\xc3\xbc\xc3\x9f" "e, \xe4\xb8\x96\xe7\x95\x8c \xe2\x9c\x93",
		"raw \xff\xfe\x80 bytes \xc3 not UTF-8 \x01\x7f",
		"https://example.org/kith#K7QZ-2M4X",
	};
	struct gray g;
	struct stat st;
	char *big;
	size_t i, x, ok01;
	int k, v;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		const char *t = texts[i] ? texts[i] : pairing;

		CHECK_RC(qr_write_png(t, in_tmp("rt.png"), 0), 0);
		expect_scan(in_tmp("rt.png"), t, __LINE__);
	}

	/* The PNG itself: (width + 8) * 8 pixels a side, pure 0 and 255. */
	CHECK_RC(qr_write_png(pairing, in_tmp("pair.png"), 0), 0);
	CHECK_RC(qr_version(pairing, &v), 0);
	if (CHECK(read_png_gray(in_tmp("pair.png"), &g) == 0)) {
		CHECK(g.w == (size_t)(17 + 4 * v + 8) * 8 && g.h == g.w);
		for (x = 0, ok01 = 1; x < g.w * g.h; x++)
			if (g.p[x] != 0 && g.p[x] != 255)
				ok01 = 0;
		CHECK(ok01);
		/* Quiet zone: the first 4 * 8 rows are white. */
		for (x = 0, ok01 = 1; x < g.w * 32; x++)
			if (g.p[x] != 255)
				ok01 = 0;
		CHECK(ok01);
		/* The finder's corner module is black. */
		CHECK(g.p[32 * g.w + 32] == 0);

		/* The same code stored as every other kind of PNG. */
		for (k = 0; k < K_NKINDS; k++) {
			char name[64];

			snprintf(name, sizeof(name), "kind-%s.png",
			    kind_name[k]);
			if (CHECK(write_png_kind(in_tmp(name), &g,
			    (enum pngkind)k) == 0))
				expect_scan(in_tmp(name), pairing, __LINE__);
		}
		free(g.p);
	}
	CHECK(stat(in_tmp("pair.png"), &st) == 0 &&
	    (st.st_mode & 0777) == 0600);

	/* A small scale, a long text. */
	if ((big = malloc(1001)) != NULL) {
		for (i = 0; i < 1000; i++)
			big[i] = (char)(' ' + (rng() % 95));
		big[1000] = '\0';
		CHECK_RC(qr_write_png(big, in_tmp("big.png"), 4), 0);
		expect_scan(in_tmp("big.png"), big, __LINE__);
		free(big);
	}

	/* Writing over a file replaces it whole; no temporary is left. */
	CHECK_RC(qr_write_png("first", in_tmp("over.png"), 3), 0);
	CHECK_RC(qr_write_png("second", in_tmp("over.png"), 3), 0);
	expect_scan(in_tmp("over.png"), "second", __LINE__);
	CHECK(tmp_leftovers() == 0);

	/* Where no file can be made. */
	CHECK_RC(qr_write_png("x", in_tmp("no/such/dir.png"), 0), KITH_EIO);
	CHECK_RC(qr_write_png("x", in_tmp("neg.png"), -1), KITH_EINVAL);
	CHECK(tmp_leftovers() == 0);
}

/* 2: the code as a photo, as JPEG; files named for the wrong format. */
static void
test_jpeg(const char *pairing)
{
	struct gray g;
	uint8_t *rgb, *gpx;
	size_t w, h, n, i;
	uint8_t *bytes;

	CHECK_RC(qr_write_png(pairing, in_tmp("src.png"), 4), 0);
	if (!CHECK(read_png_gray(in_tmp("src.png"), &g) == 0))
		return;

	/* 1.7x, 4 degrees, grey margin, blur, noise, tint, quality 70. */
	rgb = photo(&g, 1.7, COS_4DEG, SIN_4DEG, 60, &w, &h);
	if (CHECK(rgb != NULL)) {
		CHECK(write_jpeg(in_tmp("photo.jpg"), rgb, w, h, 3, 70) == 0);
		expect_scan(in_tmp("photo.jpg"), pairing, __LINE__);
		free(rgb);
	}

	/* Turned the other way, 2.3x, quality 60. */
	rgb = photo(&g, 2.3, COS_M7DEG, SIN_M7DEG, 90, &w, &h);
	if (CHECK(rgb != NULL)) {
		CHECK(write_jpeg(in_tmp("photo2.jpg"), rgb, w, h, 3, 60) == 0);
		expect_scan(in_tmp("photo2.jpg"), pairing, __LINE__);

		/* A JPEG whose name says PNG is still a JPEG. */
		CHECK(write_jpeg(in_tmp("lies.png"), rgb, w, h, 3, 70) == 0);
		expect_scan(in_tmp("lies.png"), pairing, __LINE__);

		/* A JPEG cut short is refused, as a cut PNG is. */
		if (CHECK((bytes = read_bytes(in_tmp("lies.png"), &n)) !=
		    NULL)) {
			CHECK(write_bytes(in_tmp("cut.jpg"), bytes, n / 2) ==
			    0);
			expect_scan_rc(in_tmp("cut.jpg"), KITH_EIMAGE,
			    __LINE__);
			free(bytes);
		}

		/* The desk without the code. */
		for (i = 0; i < w * h * 3; i++)
			rgb[i] = (uint8_t)(128 + (int)(rng() % 20) - 10);
		CHECK(write_jpeg(in_tmp("desk.jpg"), rgb, w, h, 3, 70) == 0);
		expect_scan_rc(in_tmp("desk.jpg"), KITH_ENOQR, __LINE__);
		free(rgb);
	}

	/* A plain grey JPEG, and a PNG whose name says JPEG. */
	gpx = g.p;
	CHECK(write_jpeg(in_tmp("gray.jpg"), gpx, g.w, g.h, 1, 70) == 0);
	expect_scan(in_tmp("gray.jpg"), pairing, __LINE__);
	CHECK(write_png_kind(in_tmp("lies.jpg"), &g, K_GRAY8) == 0);
	expect_scan(in_tmp("lies.jpg"), pairing, __LINE__);
	free(g.p);
}

/* Decode one UTF-8 cell: 0 none, 1 upper, 2 lower, 3 both; -1 not ours. */
static int
cell(const char **s)
{
	const unsigned char *p = (const unsigned char *)*s;

	if (p[0] == ' ') {
		*s += 1;
		return (0);
	}
	if (p[0] != 0xe2 || p[1] != 0x96)
		return (-1);
	*s += 3;
	switch (p[2]) {
	case 0x80:
		return (1);
	case 0x84:
		return (2);
	case 0x88:
		return (3);
	default:
		return (-1);
	}
}

/* Paint a module matrix ${m} (1 = ink) at ${scale}, with a terminal margin. */
static int
paint(const uint8_t *m, size_t cols, size_t rows, int ink, int bg,
    const char *path)
{
	struct gray g;
	size_t scale = 6, margin = 5 * 6, x, y;
	int rc;

	g.w = cols * scale + 2 * margin;
	g.h = rows * scale + 2 * margin;
	if ((g.p = malloc(g.w * g.h)) == NULL)
		return (-1);
	memset(g.p, bg, g.w * g.h);
	for (y = 0; y < rows * scale; y++)
		for (x = 0; x < cols * scale; x++)
			if (m[(y / scale) * cols + x / scale])
				g.p[(y + margin) * g.w + x + margin] =
				    (uint8_t)ink;
	rc = write_png_kind(path, &g, K_GRAY8);
	free(g.p);
	return (rc);
}

/* 3: qr_render_utf8 read back equals libqrencode's matrix, and scans. */
static void
test_render(const char *text)
{
	QRcode *qr;
	char *s = NULL;
	const char *p;
	uint8_t *m;
	size_t side, lines, cols, rows, x, y, nl;
	int c, ok, good, ink;

	if (!CHECK_RC(qr_render_utf8(text, &s), 0))
		return;
	qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (!CHECK(qr != NULL)) {
		free(s);
		return;
	}
	side = (size_t)qr->width + 8;

	for (p = s, nl = 0; *p; p++)
		nl += *p == '\n';
	lines = nl;
	CHECK(lines == (side + 1) / 2);
	CHECK(strlen(s) > 0 && s[strlen(s) - 1] == '\n');

	rows = lines * 2;
	if ((m = calloc(rows * side, 1)) == NULL)
		goto done;

	/* Every line: exactly ${side} cells, each a half block or a space. */
	for (p = s, y = 0, good = 1; *p && y < lines; y++) {
		for (cols = 0; *p && *p != '\n'; cols++) {
			if ((c = cell(&p)) < 0 || cols >= side) {
				good = 0;
				break;
			}
			m[(2 * y) * side + cols] = (uint8_t)(c & 1);
			m[(2 * y + 1) * side + cols] = (uint8_t)(c >> 1);
		}
		if (cols != side || *p != '\n')
			good = 0;
		if (!good)
			break;
		p++;
	}
	CHECK(good);

	/*
	 * Ink marks the LIGHT modules (see qr.c): the quiet zone is all ink,
	 * each module of the code is ink exactly when libqrencode says light,
	 * and the half row past the end (the side is odd) has no ink.
	 */
	for (y = 0, ok = 1; good && y < rows; y++)
		for (x = 0; x < side; x++) {
			long mx = (long)x - 4, my = (long)y - 4;

			if (y >= side)
				ink = 0;
			else if (mx < 0 || my < 0 || mx >= qr->width ||
			    my >= qr->width)
				ink = 1;
			else
				ink = !(qr->data[my * qr->width + mx] & 1);
			if (m[y * side + x] != ink)
				ok = 0;
		}
	CHECK(good && ok);

	/* On a dark terminal: ink shows light on a dark background. */
	CHECK(paint(m, side, rows, 230, 20, in_tmp("term-dark.png")) == 0);
	expect_scan(in_tmp("term-dark.png"), text, __LINE__);

	/* On a light terminal: ink shows dark, the code comes out inverted. */
	CHECK(paint(m, side, rows, 25, 245, in_tmp("term-light.png")) == 0);
	expect_scan(in_tmp("term-light.png"), text, __LINE__);
	free(m);
done:
	QRcode_free(qr);
	free(s);
}

/* 4: versions and limits. */
static void
test_versions(const char *pairing, const char *lower)
{
	char *big;
	char *s = NULL;
	int v = 0, vl = 0;

	CHECK_RC(qr_version(pairing, &v), 0);
	CHECK(v >= 1 && v <= 10);
	CHECK_RC(qr_version(lower, &vl), 0);

	/* Upper case is packed as alphanumeric, lower case is not. */
	CHECK(vl > v);
	CHECK_RC(qr_version("1", &v), 0);
	CHECK(v == 1);

	if ((big = malloc(3001)) == NULL)
		return;
	memset(big, 'a', 3000);
	big[3000] = '\0';
	CHECK_RC(qr_version(big, &v), KITH_ETOOBIG);
	CHECK_RC(qr_render_utf8(big, &s), KITH_ETOOBIG);
	CHECK_RC(qr_write_png(big, in_tmp("toobig.png"), 0), KITH_ETOOBIG);
	CHECK(access(in_tmp("toobig.png"), F_OK) != 0);

	/* 1000 pixels a module would make a 29000-pixel square image. */
	CHECK_RC(qr_write_png("x", in_tmp("toobig.png"), 1000), KITH_ETOOBIG);
	CHECK(access(in_tmp("toobig.png"), F_OK) != 0);

	/* 2300 bytes is near the 2331 that version 40-M holds. */
	big[2300] = '\0';
	CHECK_RC(qr_version(big, &v), 0);
	CHECK(v == 40);
	free(big);

	/* No code carries nothing. */
	CHECK_RC(qr_version("", &v), KITH_EINVAL);
}

/* The CRC that closes a PNG chunk, bit by bit. */
static uint32_t
chunk_crc(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return (c ^ 0xffffffffu);
}

static void
put32(uint8_t *p, uint32_t v)
{

	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* 5: what is not an image, or not all of one, or has no code. */
static void
test_bad_input(void)
{
	static const char text[] = "this is a text file, not an image\n";
	uint8_t *b;
	size_t n, i;
	struct gray g;

	CHECK(write_bytes(in_tmp("note.txt"), text, sizeof(text) - 1) == 0);
	expect_scan_rc(in_tmp("note.txt"), KITH_EIMAGE, __LINE__);
	CHECK(write_bytes(in_tmp("empty.png"), "", 0) == 0);
	expect_scan_rc(in_tmp("empty.png"), KITH_EIMAGE, __LINE__);
	expect_scan_rc(in_tmp("missing.png"), KITH_EIMAGE, __LINE__);
	expect_scan_rc(tmpdir, KITH_EIMAGE, __LINE__);
	CHECK(write_bytes(in_tmp("magic.png"), "\x89PNG\r\n\x1a\n", 8) == 0);
	expect_scan_rc(in_tmp("magic.png"), KITH_EIMAGE, __LINE__);
	CHECK(write_bytes(in_tmp("magic.jpg"), "\xff\xd8\xff", 3) == 0);
	expect_scan_rc(in_tmp("magic.jpg"), KITH_EIMAGE, __LINE__);

	CHECK_RC(qr_write_png("KITH-PAIR:TRUNCATED", in_tmp("whole.png"), 0),
	    0);
	if (CHECK((b = read_bytes(in_tmp("whole.png"), &n)) != NULL)) {
		/* Cut in the middle of the image data. */
		CHECK(write_bytes(in_tmp("cut.png"), b, n / 2) == 0);
		expect_scan_rc(in_tmp("cut.png"), KITH_EIMAGE, __LINE__);

		/* A bit flipped in the image data: the CRC catches it. */
		b[n / 2] ^= 0x10;
		CHECK(write_bytes(in_tmp("flip.png"), b, n) == 0);
		expect_scan_rc(in_tmp("flip.png"), KITH_EIMAGE, __LINE__);
		b[n / 2] ^= 0x10;

		/* A header claiming 30000 x 30000 pixels, CRC and all. */
		put32(b + 16, 30000);
		put32(b + 20, 30000);
		put32(b + 29, chunk_crc(b + 12, 17));
		CHECK(write_bytes(in_tmp("huge.png"), b, n) == 0);
		expect_scan_rc(in_tmp("huge.png"), KITH_EIMAGE, __LINE__);
		free(b);
	}

	/* A JPEG whose frame header claims 65000 x 65000 pixels. */
	g.w = g.h = 64;
	if (CHECK((g.p = malloc(64 * 64)) != NULL)) {
		memset(g.p, 200, 64 * 64);
		CHECK(write_jpeg(in_tmp("small.jpg"), g.p, 64, 64, 1, 70) ==
		    0);
		expect_scan_rc(in_tmp("small.jpg"), KITH_ENOQR, __LINE__);
		if (CHECK((b = read_bytes(in_tmp("small.jpg"), &n)) !=
		    NULL)) {
			for (i = 2; i + 9 < n; i++)
				if (b[i] == 0xff && b[i + 1] == 0xc0)
					break;
			if (CHECK(i + 9 < n)) {
				b[i + 5] = b[i + 7] = 0xfd;
				b[i + 6] = b[i + 8] = 0xe8;
				CHECK(write_bytes(in_tmp("huge.jpg"), b, n) ==
				    0);
				expect_scan_rc(in_tmp("huge.jpg"), KITH_EIMAGE,
				    __LINE__);
			}
			free(b);
		}

		/* A valid PNG of nothing: decodes, but holds no code. */
		memset(g.p, 255, 64 * 64);
		CHECK(write_png_kind(in_tmp("blank.png"), &g, K_GRAY8) == 0);
		expect_scan_rc(in_tmp("blank.png"), KITH_ENOQR, __LINE__);
		free(g.p);
	}
}

/* 6: no camera here. */
static void
test_camera(void)
{
	char *out = NULL;
	size_t len = 0;

	CHECK_RC(qr_scan_camera("/dev/video-nonexistent", 100, &out, &len),
	    KITH_ENOCAMERA);
	CHECK(out == NULL);

	/* A device node that is there but no camera. */
	CHECK_RC(qr_scan_camera("/dev/null", 100, &out, &len),
	    KITH_ENOCAMERA);
	CHECK(out == NULL);
}

int
main(void)
{
	const char *base = getenv("TMPDIR");
	char pairing[181], lower[181];

	snprintf(tmpdir, sizeof(tmpdir), "%s/kith-test-qr.XXXXXX",
	    base != NULL && *base != '\0' ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		fprintf(stderr, "test_qr: mkdtemp: %s\n", strerror(errno));
		return (1);
	}
	make_pairing(pairing, 0);
	make_pairing(lower, 1);

	test_png_roundtrip(pairing);
	test_jpeg(pairing);
	test_render(pairing);
	test_render(lower);
	test_render("x");
	test_versions(pairing, lower);
	test_bad_input();
	test_camera();

	rm_tmpdir();
	printf("qr: %d checks passed, %d failed\n", npass, nfail);
	return (nfail == 0 ? 0 : 1);
}
