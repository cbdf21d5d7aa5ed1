// JPEG through libjpeg-turbo's libjpeg API, from memory. Errors arrive by longjmp, so the two
// phases that can fail (header, scanlines) are functions with trivial locals only; pixels are
// allocated between them, once the declared size is accepted. Stricter than a viewer on purpose:
// a corrupt-data warning (truncated file, bad Huffman code) is an error, since a training set
// should not silently hold half-grey images; a progressive file may have at most 500 scans (the
// limit libjpeg-turbo's own fuzzers use against scan bombs); the decoder's memory is capped.
#include "datasets/image_decode.hpp"

#include <cstdio>
#include <jpeglib.h>
#include <jerror.h>

#include <csetjmp>
#include <vector>

namespace torus::datasets::detail {

namespace {

constexpr int kMaxScans = 500;
constexpr long kMaxDecoderBytes = 1L << 30;

struct JpegErrors {
  jpeg_error_mgr std;  // first member: libjpeg casts cinfo->err back to this struct
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX + 64];
};

void on_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegErrors*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Level -1 is a corrupt-data warning; higher levels are trace messages. Stray bytes between
// segments are the one warning let through: many cameras write them and the pixels are intact.
void on_message(j_common_ptr cinfo, int level) {
  if (level < 0 && cinfo->err->msg_code != JWRN_EXTRANEOUS_DATA) on_error(cinfo);
}

void on_progress(j_common_ptr cinfo) {
  if (!cinfo->is_decompressor) return;
  const auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (d->input_scan_number > kMaxScans) {
    auto* err = reinterpret_cast<JpegErrors*>(cinfo->err);
    std::snprintf(err->message, sizeof err->message, "more than %d progressive scans", kMaxScans);
    std::longjmp(err->jump, 1);
  }
}

bool read_header(jpeg_decompress_struct* cinfo, JpegErrors* err, const std::string* bytes) {
  if (setjmp(err->jump)) return false;
  jpeg_create_decompress(cinfo);
  cinfo->mem->max_memory_to_use = kMaxDecoderBytes;
  jpeg_mem_src(cinfo, reinterpret_cast<const unsigned char*>(bytes->data()), static_cast<unsigned long>(bytes->size()));
  jpeg_read_header(cinfo, TRUE);
  // Grey stays grey; CMYK and YCCK come out as (inverted, Adobe-style) CMYK and are converted to
  // RGB by the caller; everything else is asked for as RGB.
  const J_COLOR_SPACE in = cinfo->jpeg_color_space;
  cinfo->out_color_space = in == JCS_GRAYSCALE ? JCS_GRAYSCALE : (in == JCS_CMYK || in == JCS_YCCK) ? JCS_CMYK : JCS_RGB;
  jpeg_calc_output_dimensions(cinfo);
  return true;
}

bool read_scanlines(jpeg_decompress_struct* cinfo, JpegErrors* err, unsigned char* out, size_t row_bytes) {
  if (setjmp(err->jump)) return false;
  jpeg_start_decompress(cinfo);
  while (cinfo->output_scanline < cinfo->output_height) {
    JSAMPROW row = out + size_t(cinfo->output_scanline) * row_bytes;
    jpeg_read_scanlines(cinfo, &row, 1);
  }
  jpeg_finish_decompress(cinfo);
  return true;
}

// x * y / 255, rounded: how stb_image (and Adobe's convention) apply K to C, M and Y.
unsigned char times_k(unsigned x, unsigned k) {
  const unsigned t = x * k + 128;
  return static_cast<unsigned char>((t + (t >> 8)) >> 8);
}

}  // namespace

Image decode_jpeg(const std::string& path, const std::string& bytes, const ImageLimits& limits) {
  jpeg_decompress_struct cinfo{};
  JpegErrors err{};
  cinfo.err = jpeg_std_error(&err.std);
  err.std.error_exit = on_error;
  err.std.emit_message = on_message;
  jpeg_progress_mgr progress{};
  progress.progress_monitor = on_progress;
  struct Destroy {
    jpeg_decompress_struct* cinfo;
    ~Destroy() { jpeg_destroy_decompress(cinfo); }
  } destroy{&cinfo};

  if (!read_header(&cinfo, &err, &bytes)) throw DataError(path + ": not a readable JPEG image (" + err.message + ")");
  cinfo.progress = &progress;
  check_image_size(path, cinfo.output_width, cinfo.output_height, limits);
  const int stored = cinfo.output_components;  // 1, 3 or 4 (CMYK)
  if (stored != 1 && stored != 3 && stored != 4)
    throw DataError(path + ": unsupported JPEG layout (" + std::to_string(stored) + " components)");

  const size_t w = cinfo.output_width, h = cinfo.output_height;
  std::vector<unsigned char> decoded(w * h * size_t(stored));
  if (!read_scanlines(&cinfo, &err, decoded.data(), w * size_t(stored)))
    throw DataError(path + ": corrupt JPEG image data (" + err.message + ")");

  Image img;
  img.width = int(w);
  img.height = int(h);
  img.channels = stored == 1 ? 1 : 3;
  if (stored != 4) {
    img.pixels = std::move(decoded);
    return img;
  }
  img.pixels.resize(w * h * 3);
  for (size_t i = 0; i < w * h; ++i) {
    const unsigned char* cmyk = &decoded[4 * i];
    for (int c = 0; c < 3; ++c) img.pixels[3 * i + size_t(c)] = times_k(cmyk[c], cmyk[3]);
  }
  return img;
}

}  // namespace torus::datasets::detail
