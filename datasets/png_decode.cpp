// PNG through libpng's progressive-free classic API, from memory. libpng reports errors by longjmp,
// so the two phases that can fail (header, rows) are functions whose locals are all trivial: no
// C++ destructor is ever skipped. Pixels are allocated between them, once the size is accepted.
// Transforms match what stb_image did, so images decode to the same bytes as before: palette and
// low-bit grey expanded to 8 bits, 16-bit samples cut to their high byte, gamma chunks ignored.
#include "datasets/image_decode.hpp"

#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <vector>

namespace torus::datasets::detail {

namespace {

struct PngSource {
  const unsigned char* data;
  size_t size;
  size_t at;
  char message[256];
};

void on_error(png_structp png, png_const_charp msg) {
  auto* src = static_cast<PngSource*>(png_get_error_ptr(png));
  std::snprintf(src->message, sizeof src->message, "%s", msg);
  png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}  // benign (profiles, text chunks): not an error

void read_bytes(png_structp png, png_bytep out, png_size_t n) {
  auto* src = static_cast<PngSource*>(png_get_io_ptr(png));
  if (n > src->size - src->at) png_error(png, "file ends early (truncated)");
  std::memcpy(out, src->data + src->at, n);
  src->at += n;
}

// Reads the header and sets up the transforms; false on error (message in src).
bool read_header(png_structp png, png_infop info, const ImageLimits& limits, png_uint_32* width, png_uint_32* height,
                 int* channels) {
  if (setjmp(png_jmpbuf(png))) return false;
  // libpng's own limits too, so no ancillary chunk can make it allocate more than 8 MB either.
  png_set_user_limits(png, png_uint_32(limits.max_side), png_uint_32(limits.max_side));
  png_set_chunk_malloc_max(png, 8u << 20);
  png_read_info(png, info);
  const int color = png_get_color_type(png, info);
  const int depth = png_get_bit_depth(png, info);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (depth == 16) png_set_strip_16(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  *width = png_get_image_width(png, info);
  *height = png_get_image_height(png, info);
  *channels = png_get_channels(png, info);
  return true;
}

bool read_rows(png_structp png, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  // Not png_read_end: the pixels are complete here, and chunks after the image data (text, a
  // missing IEND) cannot change them.
  png_read_image(png, rows);
  return true;
}

}  // namespace

Image decode_png(const std::string& path, const std::string& bytes, const ImageLimits& limits) {
  PngSource src{reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), 0, {}};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, on_error, on_warning);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!info) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    throw DataError(path + ": cannot start the PNG decoder (out of memory)");
  }
  png_set_read_fn(png, &src, read_bytes);
  struct Destroy {
    png_structp* png;
    png_infop* info;
    ~Destroy() { png_destroy_read_struct(png, info, nullptr); }
  } destroy{&png, &info};

  png_uint_32 width = 0, height = 0;
  int channels = 0;
  if (!read_header(png, info, limits, &width, &height, &channels))
    throw DataError(path + ": not a readable PNG image (" + src.message + ")");
  check_image_size(path, width, height, limits);
  if (channels < 1 || channels > 4 || png_get_rowbytes(png, info) != size_t(width) * size_t(channels))
    throw DataError(path + ": unsupported PNG layout (" + std::to_string(channels) + " channels)");

  Image img;
  img.width = int(width);
  img.height = int(height);
  img.channels = channels;
  img.pixels.resize(size_t(width) * height * size_t(channels));
  std::vector<png_bytep> rows(height);
  for (png_uint_32 y = 0; y < height; ++y) rows[y] = img.pixels.data() + size_t(y) * width * size_t(channels);
  if (!read_rows(png, rows.data())) throw DataError(path + ": corrupt PNG image data (" + src.message + ")");
  return img;
}

}  // namespace torus::datasets::detail
