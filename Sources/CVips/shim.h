#ifndef HUBCHAT_CVIPS_SHIM_H
#define HUBCHAT_CVIPS_SHIM_H
#include <vips/vips.h>

/* libvips's operations are variadic (options end with NULL), which Swift cannot call; these
   fixed-signature wrappers are the only entry points the Swift side uses. Output buffers are
   g_malloc'd: release them with hubchat_vips_free. */

static inline int hubchat_vips_start(void) { return vips_init("hubchat"); }

static inline void hubchat_vips_free(void *p) { g_free(p); }

/* The last error message (copied into `out`, at most `cap` bytes), and clears it. */
static inline void hubchat_vips_take_error(char *out, size_t cap) {
    if (cap == 0) return;
    g_strlcpy(out, vips_error_buffer(), cap);
    vips_error_clear();
}

/* Reads only the header: the pixel size, before anything is decoded (a small file can
   declare an enormous image). Returns 0 on success. */
static inline int hubchat_vips_dimensions(const void *input, size_t length, int *width, int *height) {
    VipsImage *image = vips_image_new_from_buffer(input, length, "", NULL);
    if (image == NULL) return -1;
    *width = vips_image_get_width(image);
    *height = vips_image_get_height(image);
    g_object_unref(image);
    return 0;
}

/* Decodes any supported image, applies its EXIF orientation, and writes a baseline JPEG,
   shrunk to fit `max_edge` (0 keeps the size). Returns 0 on success. */
static inline int hubchat_vips_jpeg(const void *input, size_t length, int max_edge, int quality,
                                    void **output, size_t *output_length, int *width, int *height) {
    VipsImage *image = NULL;
    int rc;
    if (max_edge > 0) {
        rc = vips_thumbnail_buffer((void *)input, length, &image, max_edge, "size", VIPS_SIZE_DOWN, NULL);
    } else {
        VipsImage *decoded = vips_image_new_from_buffer(input, length, "", NULL);
        if (decoded == NULL) return -1;
        rc = vips_autorot(decoded, &image, NULL);
        g_object_unref(decoded);
    }
    if (rc != 0 || image == NULL) return -1;
    VipsImage *flat = NULL;
    if (vips_image_hasalpha(image)) {
        double white[3] = {255, 255, 255};
        VipsArrayDouble *background = vips_array_double_new(white, 3);
        rc = vips_flatten(image, &flat, "background", background, NULL);
        vips_area_unref(VIPS_AREA(background));
        g_object_unref(image);
        if (rc != 0) return -1;
        image = flat;
    }
    *width = vips_image_get_width(image);
    *height = vips_image_get_height(image);
    rc = vips_jpegsave_buffer(image, output, output_length, "Q", quality, "strip", TRUE, NULL);
    g_object_unref(image);
    return rc;
}
/* Decodes the whole image (sequentially, so memory stays small) and fails on a serious error or truncation:
   a file that only starts like an image is refused. Returns 0 when every pixel decodes. */
static inline int hubchat_vips_verify(const void *input, size_t length) {
    VipsImage *image = vips_image_new_from_buffer(input, length, "", "access", VIPS_ACCESS_SEQUENTIAL,
                                                  "fail_on", VIPS_FAIL_ON_ERROR, NULL);
    if (image == NULL) return -1;
    double average = 0;
    int rc = vips_avg(image, &average, NULL);
    g_object_unref(image);
    return rc;
}
#endif
