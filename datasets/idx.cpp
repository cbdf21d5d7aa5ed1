// read_idx checks the header, then bounds the declared size by the bytes present before it
// allocates: a raw file must hold exactly that many bytes, and a gzip file cannot expand more
// than deflate's maximum ratio (1032:1). The values are then read in chunks, so memory grows
// only with data that actually decompresses.
#include "datasets/idx.hpp"

#include "datasets/binary_file.hpp"
#include "nn/io/atomic_file.hpp"

#include <zlib.h>

#include <algorithm>

#include <cstdio>
#include <memory>

namespace torus::datasets {

namespace {
std::string describe_dims(const std::vector<int64_t>& dims) {
  std::string s = "(";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + ")";
}

// Reads exactly n bytes; false at end of file. Throws on a decompression error.
bool read_exact(gzFile f, const std::string& path, void* dst, int64_t n) {
  auto* out = static_cast<unsigned char*>(dst);
  while (n > 0) {
    const unsigned chunk = unsigned(std::min<int64_t>(n, 1 << 30));
    const int got = gzread(f, out, chunk);
    if (got < 0) {
      int err = 0;
      throw DataError(path + ": decompression failed (" + std::string(gzerror(f, &err)) + ")");
    }
    if (got == 0) return false;
    out += got;
    n -= got;
  }
  return true;
}

uint32_t big_endian(const unsigned char* b) { return uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | b[3]; }

constexpr int64_t kDeflateMaxRatio = 1032;  // the most a deflate stream can expand
constexpr int64_t kReadChunk = int64_t(1) << 24;

// The size of `path` and whether it starts with gzip's magic; refuses anything but a regular file.
struct IdxFileInfo {
  int64_t bytes = 0;
  bool gzip = false;
};
IdxFileInfo inspect(const std::string& path) {
  return detail::as_data_error([&] {
    const nn::io::InputFile file(path, "IDX file");
    IdxFileInfo info{int64_t(file.size()), false};
    if (file.size() >= 2) {
      unsigned char m[2];
      file.read_at(0, 2, m);
      info.gzip = m[0] == 0x1f && m[1] == 0x8b;
    }
    return info;
  });
}
}  // namespace

IdxArray read_idx(const std::string& path, int expected_rank) {
  const IdxFileInfo info = inspect(path);
  std::unique_ptr<gzFile_s, int (*)(gzFile)> f(gzopen(path.c_str(), "rb"), gzclose);
  if (!f) throw DataError(path + ": cannot open IDX file");
  unsigned char magic[4];
  if (!read_exact(f.get(), path, magic, 4)) throw DataError(path + ": empty or truncated IDX header (expected 4 magic bytes)");
  if (magic[0] != 0 || magic[1] != 0) {
    char found[32];
    std::snprintf(found, sizeof found, "0x%02x 0x%02x", magic[0], magic[1]);
    throw DataError(path + ": not an IDX file (magic must start with 0x00 0x00, found " + found + ")");
  }
  if (magic[2] != 0x08) throw DataError(path + ": IDX type code " + std::to_string(magic[2]) + ", expected 8 (unsigned byte)");
  if (magic[3] != expected_rank) {
    throw DataError(path + ": IDX rank " + std::to_string(magic[3]) + ", expected " + std::to_string(expected_rank));
  }
  IdxArray a;
  int64_t total = 1;
  for (int d = 0; d < expected_rank; ++d) {
    unsigned char b[4];
    if (!read_exact(f.get(), path, b, 4)) throw DataError(path + ": truncated IDX header (dimension " + std::to_string(d) + ")");
    const int64_t n = big_endian(b);
    if (n == 0) throw DataError(path + ": dimension " + std::to_string(d) + " is 0");
    a.dims.push_back(n);
    total *= n;
    if (total > kMaxIdxBytes) {
      throw DataError(path + ": IDX dimensions " + describe_dims(a.dims) + " exceed the " + std::to_string(kMaxIdxBytes) +
                      "-byte limit");
    }
  }
  const int64_t header = 4 + 4 * int64_t(expected_rank);
  const int64_t room = info.gzip ? info.bytes * kDeflateMaxRatio : info.bytes - header;
  if (total > room) {
    throw DataError(path + ": truncated IDX data (dimensions " + describe_dims(a.dims) + " need " + std::to_string(total) +
                    " bytes; a " + std::to_string(info.bytes) + "-byte " + (info.gzip ? "gzip " : "") + "file cannot hold them)");
  }
  for (int64_t done = 0; done < total;) {
    const int64_t chunk = std::min(kReadChunk, total - done);
    a.values.resize(size_t(done + chunk));
    if (!read_exact(f.get(), path, a.values.data() + done, chunk)) {
      throw DataError(path + ": truncated IDX data (dimensions " + describe_dims(a.dims) + " need " + std::to_string(total) +
                      " bytes)");
    }
    done += chunk;
  }
  unsigned char extra;
  if (read_exact(f.get(), path, &extra, 1)) {
    throw DataError(path + ": trailing bytes after the " + std::to_string(total) + " data bytes of dimensions " +
                    describe_dims(a.dims));
  }
  return a;
}

ImageSet load_idx_images(const std::string& images_path, const std::string& labels_path, int classes) {
  IdxArray images = read_idx(images_path, 3);
  IdxArray labels = read_idx(labels_path, 1);
  if (labels.dims[0] != images.dims[0]) {
    throw DataError(labels_path + ": " + std::to_string(labels.dims[0]) + " labels for the " + std::to_string(images.dims[0]) +
                    " images of " + images_path);
  }
  ImageSet set;
  set.n = images.dims[0];
  set.height = images.dims[1];
  set.width = images.dims[2];
  set.classes = classes;
  set.pixels = std::move(images.values);
  set.labels.resize(set.n);
  for (int64_t i = 0; i < set.n; ++i) {
    if (labels.values[i] >= classes) {
      throw DataError(labels_path + ": label " + std::to_string(labels.values[i]) + " of item " + std::to_string(i) +
                      " is outside [0, " + std::to_string(classes) + ")");
    }
    set.labels[i] = labels.values[i];
  }
  return set;
}

ImageSet load_fashion_mnist(const std::string& split, const std::string& dir) {
  if (split != "train" && split != "test") throw std::invalid_argument("load_fashion_mnist: split must be train or test, got " + split);
  const std::string prefix = dir + "/" + (split == "train" ? "train" : "t10k");
  return load_idx_images(prefix + "-images-idx3-ubyte.gz", prefix + "-labels-idx1-ubyte.gz", 10);
}

void normalized_images(const ImageSet& set, const std::vector<int64_t>& indices, float mean, float std_dev,
                       std::vector<float>& out) {
  const int64_t size = set.image_size();
  out.resize(indices.size() * size);
  const float scale = 1.0f / (255.0f * std_dev), shift = mean / std_dev;
  for (size_t r = 0; r < indices.size(); ++r) {
    if (indices[r] < 0 || indices[r] >= set.n) {
      throw std::out_of_range("normalized_images: index " + std::to_string(indices[r]) + " outside [0, " + std::to_string(set.n) + ")");
    }
    const uint8_t* src = set.pixels.data() + indices[r] * size;
    for (int64_t i = 0; i < size; ++i) out[r * size + i] = float(src[i]) * scale - shift;
  }
}

}  // namespace torus::datasets
