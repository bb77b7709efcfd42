#ifndef HUBCHAT_CVIPS_H
#define HUBCHAT_CVIPS_H
#include <stddef.h>

/* libvips, loaded on first use with dlopen rather than linked (see shim.c): a responder that never handles an
   upload never maps libvips and its hundred dependencies. libvips's operations are variadic, which Swift cannot
   call; these fixed-signature wrappers are the only entry points the Swift side uses. Output buffers are
   g_malloc'd: release them with hubchat_vips_free. */

/* Loads and starts libvips once per process; 0 on success. */
int hubchat_vips_start(void);
void hubchat_vips_free(void *p);
/* The last error message (copied into `out`, at most `cap` bytes), and clears it. */
void hubchat_vips_take_error(char *out, size_t cap);
/* Reads only the header: the pixel size, before anything is decoded. Returns 0 on success. */
int hubchat_vips_dimensions(const void *input, size_t length, int *width, int *height);
/* Decodes every pixel, failing on a serious error or truncation. Returns 0 when the whole image decodes. */
int hubchat_vips_verify(const void *input, size_t length);
/* Decodes, applies EXIF orientation, writes a baseline JPEG shrunk to fit `max_edge` (0 keeps the size). */
int hubchat_vips_jpeg(const void *input, size_t length, int max_edge, int quality,
                      void **output, size_t *output_length, int *width, int *height);
#endif
