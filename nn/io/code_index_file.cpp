// Saving streams header, quantiser, codes and ids through write_file_atomic with a running CRC.
// Opening maps the file, checks the 64-byte header, derives every section's place from it with
// overflow checks and compares the total with the file's size; only then are the quantiser bytes
// (small) copied and the codes and ids handed to the index in place.
#include "nn/io/code_index_file.hpp"

#include "nn/io/atomic_file.hpp"
#include "nn/io/crc32.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

namespace torus::nn::io {

static_assert(std::endian::native == std::endian::little, "code index I/O assumes a little-endian host");

namespace {
using geometry::CodeIndex;
using geometry::CodeKind;
using geometry::TorusHead;

constexpr std::uint64_t kHeaderBytes = 64, kCrcBytes = 4, kAlign = 64;
constexpr std::uint32_t kKinds = 6, kHeads = 2;
constexpr int kCentroids = 256, kSubquantizers = 2;  // pq8_2 and cpq8_2

struct Header {
  std::uint32_t version, kind, head, zero;
  std::uint64_t dim, count, file_size;
};

// Where each section starts (see the table in the header file).
struct Layout {
  std::uint64_t quantizer_bytes, codes, ids, crc, file_size;
};

std::string printable(const std::uint8_t* data, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    if (data[i] >= 0x20 && data[i] < 0x7f && data[i] != '\\') {
      s += static_cast<char>(data[i]);
    } else {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned>(data[i]));
      s += hex;
    }
  }
  return s;
}

std::string hex32(std::uint32_t value) {
  char text[11];
  std::snprintf(text, sizeof text, "0x%08x", static_cast<unsigned>(value));
  return text;
}

// out = a * b + c; false if that overflows 64 bits.
bool mul_add(std::uint64_t a, std::uint64_t b, std::uint64_t c, std::uint64_t& out) {
  std::uint64_t p;
  return !__builtin_mul_overflow(a, b, &p) && !__builtin_add_overflow(p, c, &out);
}
bool align_up(std::uint64_t x, std::uint64_t& out) { return mul_add((x + kAlign - 1) / kAlign, kAlign, 0, out) && x <= out; }

std::uint64_t quantizer_bytes(CodeKind kind, std::uint64_t dim, std::uint64_t circles) {
  if (kind == CodeKind::pq8_2 || kind == CodeKind::cpq8_2) return std::uint64_t(kCentroids) * circles * 4;
  if (kind == CodeKind::one_bit) return 16 * dim;
  return 0;
}

// The sections of an index of `count` vectors; throws FormatError naming `path` on overflow.
Layout layout_of(const std::string& path, CodeKind kind, TorusHead head, std::uint64_t dim, std::uint64_t count) {
  Layout l{};
  const auto row_bytes = static_cast<std::uint64_t>(CodeIndex::row_bytes_of(kind, head, static_cast<std::int64_t>(dim)));
  l.quantizer_bytes = quantizer_bytes(kind, dim, static_cast<std::uint64_t>(CodeIndex::circles(head, static_cast<std::int64_t>(dim))));
  std::uint64_t codes_end, ids_end;
  const bool ok = align_up(kHeaderBytes + l.quantizer_bytes, l.codes) && mul_add(count, row_bytes, l.codes, codes_end) &&
                  align_up(codes_end, l.ids) && mul_add(count, 8, l.ids, ids_end) && mul_add(1, ids_end, kCrcBytes, l.file_size);
  if (!ok) {
    throw FormatError(path + ": corrupt: count " + std::to_string(count) + " of " + std::to_string(row_bytes) +
                      "-byte codes overflows a 64-bit file size");
  }
  l.crc = ids_end;
  return l;
}

template <typename T>
T read_le(const std::uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// The file's bytes, mapped read-only; unmapped when the last index using them goes.
struct Mapping {
  std::shared_ptr<const void> keeper;
  const std::uint8_t* bytes = nullptr;
  std::uint64_t size = 0;
};

Mapping map_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw IoError(path + ": cannot open code index: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    throw IoError(path + ": cannot stat code index: " + std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw IoError(path + ": not a regular file, expected a code index");
  }
  Mapping m;
  m.size = static_cast<std::uint64_t>(st.st_size);
  if (m.size > 0) {
    void* addr = ::mmap(nullptr, m.size, PROT_READ, MAP_SHARED, fd, 0);
    const int e = errno;
    ::close(fd);
    if (addr == MAP_FAILED) throw IoError(path + ": cannot map code index: " + std::strerror(e));
    const std::size_t length = m.size;
    m.keeper = std::shared_ptr<const void>(addr, [length](const void* p) { ::munmap(const_cast<void*>(p), length); });
    m.bytes = static_cast<const std::uint8_t*>(addr);
  } else {
    ::close(fd);
  }
  return m;
}

// The header's checks, in the order a reader needs them: what the file is, then which version,
// then whether its fields and size agree.
std::pair<Header, Layout> check_header(const std::string& path, const Mapping& m) {
  const std::size_t magic_seen = static_cast<std::size_t>(std::min<std::uint64_t>(m.size, sizeof kCodeIndexMagic));
  if (magic_seen > 0 && std::memcmp(m.bytes, kCodeIndexMagic, magic_seen) != 0) {
    throw FormatError(path + ": not a torus code index: the file starts with \"" + printable(m.bytes, magic_seen) +
                      "\", expected the magic \"TORUSIDX\"");
  }
  if (m.size < kHeaderBytes + kCrcBytes) {
    throw FormatError(path + ": truncated: " + std::to_string(m.size) + " bytes, fewer than the " +
                      std::to_string(kHeaderBytes + kCrcBytes) + " of a code index header and CRC");
  }
  Header h{read_le<std::uint32_t>(m.bytes + 8),  read_le<std::uint32_t>(m.bytes + 12), read_le<std::uint32_t>(m.bytes + 16),
           read_le<std::uint32_t>(m.bytes + 20), read_le<std::uint64_t>(m.bytes + 24), read_le<std::uint64_t>(m.bytes + 32),
           read_le<std::uint64_t>(m.bytes + 40)};
  if (h.version != kCodeIndexVersion) {
    throw FormatError(path + ": code index format version " + std::to_string(h.version) + ", this build reads version " +
                      std::to_string(kCodeIndexVersion));
  }
  const auto field = [&](const char* name, std::uint64_t value, const std::string& expected) {
    throw FormatError(path + ": corrupt: header field \"" + name + "\" is " + std::to_string(value) + ", expected " + expected);
  };
  if (h.kind >= kKinds) field("kind", h.kind, "0..5 (u8, u8-dot, pq8_2, cpq8_2, 1bit, float)");
  if (h.head >= kHeads) field("head", h.head, "0 (torusN) or 1 (torusC)");
  if (h.zero != 0) field("reserved", h.zero, "0");
  if (h.dim < 1 || h.dim > std::uint64_t(kMaxCodeIndexDim)) field("dim", h.dim, "1.." + std::to_string(kMaxCodeIndexDim));
  const auto kind = static_cast<CodeKind>(h.kind);
  const auto head = static_cast<TorusHead>(h.head);
  if (head == TorusHead::torusN && h.dim % 2) field("dim", h.dim, "an even width for torusN (pairs)");
  const auto circles = static_cast<std::uint64_t>(CodeIndex::circles(head, static_cast<std::int64_t>(h.dim)));
  if ((kind == CodeKind::pq8_2 || kind == CodeKind::cpq8_2) && circles % kSubquantizers)
    field("dim", h.dim, "an even number of circles for 2 sub-quantisers");
  if (h.count < 1) field("count", h.count, "at least 1 vector");
  const Layout l = layout_of(path, kind, head, h.dim, h.count);
  if (h.file_size != l.file_size) {
    throw FormatError(path + ": corrupt: header field \"file_size\" is " + std::to_string(h.file_size) + ", but " +
                      std::to_string(h.count) + " " + geometry::code_kind_name(kind) + " vectors of D = " +
                      std::to_string(h.dim) + " take " + std::to_string(l.file_size) + " bytes");
  }
  if (m.size < l.file_size) {
    throw FormatError(path + ": truncated: " + std::to_string(m.size) + " bytes, the code index records " +
                      std::to_string(l.file_size));
  }
  if (m.size > l.file_size) {
    throw FormatError(path + ": corrupt: " + std::to_string(m.size) + " bytes, the code index records " +
                      std::to_string(l.file_size) + " (trailing bytes)");
  }
  return {h, l};
}

// Copies the quantiser section (2 KB per circle for PQ, 16 bytes per dimension for 1bit) out of the mapping and checks them as the constructors do.
geometry::CodeQuantizer read_quantizer(const std::string& path, const Mapping& m, const Header& h, const Layout& l) {
  geometry::CodeQuantizer q;
  const auto kind = static_cast<CodeKind>(h.kind);
  const std::uint8_t* p = m.bytes + kHeaderBytes;
  try {
    if (kind == CodeKind::pq8_2 || kind == CodeKind::cpq8_2) {
      const Eigen::Index sub_dim = static_cast<Eigen::Index>(l.quantizer_bytes / (4 * kCentroids * kSubquantizers));
      std::vector<geometry::RowMatrix<float>> books;
      for (int b = 0; b < kSubquantizers; ++b) {
        geometry::RowMatrix<float> book(kCentroids, sub_dim);
        std::memcpy(book.data(), p + std::size_t(b) * kCentroids * sub_dim * 4, std::size_t(book.size()) * 4);
        if (!book.allFinite())
          throw std::invalid_argument("codebook " + std::to_string(b) + " holds a non-finite centroid");
        books.push_back(std::move(book));
      }
      if (kind == CodeKind::pq8_2) q.pq.emplace(std::move(books), 8);
      else q.cpq.emplace(std::move(books), 8);
    } else if (kind == CodeKind::one_bit) {
      geometry::ArrayX<double> lo(static_cast<Eigen::Index>(h.dim)), hi(static_cast<Eigen::Index>(h.dim));
      std::memcpy(lo.data(), p, h.dim * 8);
      std::memcpy(hi.data(), p + h.dim * 8, h.dim * 8);
      q.grid.emplace(std::move(lo), std::move(hi), 1);
    }
  } catch (const std::invalid_argument& e) {
    throw FormatError(path + ": corrupt: quantiser section: " + e.what());
  }
  return q;
}
}  // namespace

void save_code_index(const CodeIndex& index, const std::string& path) {
  const auto dim = static_cast<std::uint64_t>(index.dim()), count = static_cast<std::uint64_t>(index.size());
  const Layout l = layout_of(path, index.kind(), index.head(), dim, count);
  write_file_atomic(path, [&](ByteSink& sink) {
    std::uint32_t crc = 0;
    std::uint64_t at = 0;
    const auto put = [&](const void* data, std::size_t n) {
      crc = detail::crc32_update(crc, data, n);
      sink.write(data, n);
      at += n;
    };
    const auto pad_to = [&](std::uint64_t offset) {
      static const std::uint8_t zeros[kAlign] = {};
      while (at < offset) put(zeros, static_cast<std::size_t>(std::min<std::uint64_t>(kAlign, offset - at)));
    };
    std::uint8_t header[kHeaderBytes] = {};
    const std::uint32_t words[] = {kCodeIndexVersion, static_cast<std::uint32_t>(index.kind()),
                                   static_cast<std::uint32_t>(index.head()), 0};
    std::memcpy(header, kCodeIndexMagic, 8);
    std::memcpy(header + 8, words, sizeof words);
    std::memcpy(header + 24, &dim, 8);
    std::memcpy(header + 32, &count, 8);
    std::memcpy(header + 40, &l.file_size, 8);
    put(header, sizeof header);
    const geometry::CodeQuantizer& q = index.quantizer();
    for (int m = 0; q.pq && m < q.pq->subquantizers(); ++m) put(q.pq->codebook(m).data(), std::size_t(q.pq->codebook(m).size()) * 4);
    for (int m = 0; q.cpq && m < q.cpq->subquantizers(); ++m) put(q.cpq->codebook(m).data(), std::size_t(q.cpq->codebook(m).size()) * 4);
    if (q.grid) {
      put(q.grid->minimum().data(), dim * 8);
      put(q.grid->maximum().data(), dim * 8);
    }
    pad_to(l.codes);
    put(index.codes(), count * static_cast<std::uint64_t>(index.row_bytes()));
    pad_to(l.ids);
    put(index.ids(), count * 8);
    const std::uint32_t stored = crc;
    sink.write(&stored, sizeof stored);
  });
}

CodeIndex load_code_index(const std::string& path) {
  Mapping m = map_file(path);
  const auto [h, l] = check_header(path, m);
  geometry::CodeQuantizer q = read_quantizer(path, m, h, l);
  geometry::BorrowedCodes borrowed{m.bytes + l.codes, reinterpret_cast<const std::int64_t*>(m.bytes + l.ids),
                                   static_cast<std::int64_t>(h.count), std::move(m.keeper)};
  try {
    return CodeIndex(static_cast<CodeKind>(h.kind), static_cast<TorusHead>(h.head), static_cast<std::int64_t>(h.dim),
                     std::move(q), std::move(borrowed));
  } catch (const std::invalid_argument& e) {  // check_header has ruled this out; kept as the last guard
    throw FormatError(path + ": corrupt: " + e.what());
  }
}

void verify_code_index_file(const std::string& path) {
  const Mapping m = map_file(path);
  const auto [h, l] = check_header(path, m);
  read_quantizer(path, m, h, l);
  const std::uint32_t computed = detail::crc32_update(0, m.bytes, l.crc);
  const auto stored = read_le<std::uint32_t>(m.bytes + l.crc);
  if (computed != stored) {
    throw FormatError(path + ": corrupt: CRC-32 of the first " + std::to_string(l.crc) + " bytes is " + hex32(computed) +
                      ", the file records " + hex32(stored));
  }
}

}  // namespace torus::nn::io
