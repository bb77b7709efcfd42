#include "include/CVips.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>

/* libvips, loaded on first use with dlopen rather than linked: a responder that never handles an upload never maps
   libvips and its hundred dependencies (fonts, X11, cairo, HDF5…), which would otherwise add ~15 MB to every
   responder's RSS. The few declarations below mirror <vips/vips.h> (libvips 8.x ABI); libvips's operations are
   variadic (options end with NULL), which Swift cannot call, so these fixed-signature wrappers are the only entry
   points the Swift side uses. Output buffers are g_malloc'd: release them with hubchat_vips_free. */

typedef struct _VipsImage VipsImage;
typedef struct _VipsArea VipsArea;
typedef struct _VipsArrayDouble VipsArrayDouble;

enum { HUBCHAT_VIPS_ACCESS_SEQUENTIAL = 1, HUBCHAT_VIPS_FAIL_ON_ERROR = 2, HUBCHAT_VIPS_SIZE_DOWN = 2 };

struct hubchat_vips_api {
    int ok;
    int (*init)(const char *);
    void (*g_free)(void *);
    void (*g_object_unref)(void *);
    unsigned long (*g_strlcpy)(char *, const char *, unsigned long);
    const char *(*error_buffer)(void);
    void (*error_clear)(void);
    VipsImage *(*image_new_from_buffer)(const void *, size_t, const char *, ...);
    int (*image_get_width)(const VipsImage *);
    int (*image_get_height)(const VipsImage *);
    int (*image_hasalpha)(VipsImage *);
    int (*thumbnail_buffer)(void *, size_t, VipsImage **, int, ...);
    int (*autorot)(VipsImage *, VipsImage **, ...);
    int (*flatten)(VipsImage *, VipsImage **, ...);
    VipsArrayDouble *(*array_double_new)(const double *, int);
    void (*area_unref)(VipsArea *);
    int (*jpegsave_buffer)(VipsImage *, void **, size_t *, ...);
    int (*avg)(VipsImage *, double *, ...);
};

static struct hubchat_vips_api hubchat_vips;
static pthread_once_t hubchat_vips_once = PTHREAD_ONCE_INIT;

static void hubchat_vips_load(void) {
    void *h = dlopen("libvips.so.42", RTLD_NOW | RTLD_GLOBAL);
    if (h == NULL) return;
#define HUBCHAT_VIPS_SYM(field, name) *(void **)(&hubchat_vips.field) = dlsym(h, name); if (!hubchat_vips.field) return;
    HUBCHAT_VIPS_SYM(init, "vips_init")
    HUBCHAT_VIPS_SYM(g_free, "g_free")
    HUBCHAT_VIPS_SYM(g_object_unref, "g_object_unref")
    HUBCHAT_VIPS_SYM(g_strlcpy, "g_strlcpy")
    HUBCHAT_VIPS_SYM(error_buffer, "vips_error_buffer")
    HUBCHAT_VIPS_SYM(error_clear, "vips_error_clear")
    HUBCHAT_VIPS_SYM(image_new_from_buffer, "vips_image_new_from_buffer")
    HUBCHAT_VIPS_SYM(image_get_width, "vips_image_get_width")
    HUBCHAT_VIPS_SYM(image_get_height, "vips_image_get_height")
    HUBCHAT_VIPS_SYM(image_hasalpha, "vips_image_hasalpha")
    HUBCHAT_VIPS_SYM(thumbnail_buffer, "vips_thumbnail_buffer")
    HUBCHAT_VIPS_SYM(autorot, "vips_autorot")
    HUBCHAT_VIPS_SYM(flatten, "vips_flatten")
    HUBCHAT_VIPS_SYM(array_double_new, "vips_array_double_new")
    HUBCHAT_VIPS_SYM(area_unref, "vips_area_unref")
    HUBCHAT_VIPS_SYM(jpegsave_buffer, "vips_jpegsave_buffer")
    HUBCHAT_VIPS_SYM(avg, "vips_avg")
#undef HUBCHAT_VIPS_SYM
    hubchat_vips.ok = hubchat_vips.init("hubchat") == 0;
    /* One thread per image: the worker's image lanes (and each responder process) are the parallelism, and an
       image must not take every core from the inbox around it. Optional: an older libvips keeps its default. */
    void (*concurrency_set)(int) = (void (*)(int))dlsym(h, "vips_concurrency_set");
    if (hubchat_vips.ok && concurrency_set != NULL) concurrency_set(1);
}

/* Loads and starts libvips once per process; 0 on success. */
int hubchat_vips_start(void) {
    pthread_once(&hubchat_vips_once, hubchat_vips_load);
    return hubchat_vips.ok ? 0 : -1;
}

void hubchat_vips_free(void *p) { hubchat_vips.g_free(p); }

/* The last error message (copied into `out`, at most `cap` bytes), and clears it. */
void hubchat_vips_take_error(char *out, size_t cap) {
    if (cap == 0) return;
    if (!hubchat_vips.ok) { strncpy(out, "libvips is not available (libvips.so.42)", cap - 1); out[cap - 1] = 0; return; }
    hubchat_vips.g_strlcpy(out, hubchat_vips.error_buffer(), cap);
    hubchat_vips.error_clear();
}

/* Reads only the header: the pixel size, before anything is decoded (a small file can
   declare an enormous image). Returns 0 on success. */
int hubchat_vips_dimensions(const void *input, size_t length, int *width, int *height) {
    VipsImage *image = hubchat_vips.image_new_from_buffer(input, length, "", NULL);
    if (image == NULL) return -1;
    *width = hubchat_vips.image_get_width(image);
    *height = hubchat_vips.image_get_height(image);
    hubchat_vips.g_object_unref(image);
    return 0;
}

/* Decodes the whole image (sequentially, so memory stays small) and fails on a serious error or truncation:
   a file that only starts like an image is refused. Returns 0 when every pixel decodes. */
int hubchat_vips_verify(const void *input, size_t length) {
    VipsImage *image = hubchat_vips.image_new_from_buffer(input, length, "", "access", HUBCHAT_VIPS_ACCESS_SEQUENTIAL,
                                                          "fail_on", HUBCHAT_VIPS_FAIL_ON_ERROR, NULL);
    if (image == NULL) return -1;
    double average = 0;
    int rc = hubchat_vips.avg(image, &average, NULL);
    hubchat_vips.g_object_unref(image);
    return rc;
}

/* Decodes any supported image, applies its EXIF orientation, and writes a baseline JPEG,
   shrunk to fit `max_edge` (0 keeps the size). Returns 0 on success. */
int hubchat_vips_jpeg(const void *input, size_t length, int max_edge, int quality,
                                    void **output, size_t *output_length, int *width, int *height) {
    VipsImage *image = NULL;
    int rc;
    if (max_edge > 0) {
        rc = hubchat_vips.thumbnail_buffer((void *)input, length, &image, max_edge, "size", HUBCHAT_VIPS_SIZE_DOWN, NULL);
    } else {
        VipsImage *decoded = hubchat_vips.image_new_from_buffer(input, length, "", NULL);
        if (decoded == NULL) return -1;
        rc = hubchat_vips.autorot(decoded, &image, NULL);
        hubchat_vips.g_object_unref(decoded);
    }
    if (rc != 0 || image == NULL) return -1;
    if (hubchat_vips.image_hasalpha(image)) {
        VipsImage *flat = NULL;
        double white[3] = {255, 255, 255};
        VipsArrayDouble *background = hubchat_vips.array_double_new(white, 3);
        rc = hubchat_vips.flatten(image, &flat, "background", background, NULL);
        hubchat_vips.area_unref((VipsArea *)background);
        hubchat_vips.g_object_unref(image);
        if (rc != 0) return -1;
        image = flat;
    }
    *width = hubchat_vips.image_get_width(image);
    *height = hubchat_vips.image_get_height(image);
    rc = hubchat_vips.jpegsave_buffer(image, output, output_length, "Q", quality, "strip", 1, NULL);
    hubchat_vips.g_object_unref(image);
    return rc;
}
