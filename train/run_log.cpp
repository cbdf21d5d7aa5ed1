#include "train/run_log.hpp"

#include "nn/io/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace torus::train {

namespace {
std::string csv_row(const EpochMetrics& m) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%lld,%.6f,%.6f,%.6f,%.6f,%.8g,%.1f,%.2f,%.6f\n", static_cast<long long>(m.epoch), m.loss,
                m.supcon, m.koleo, m.precision_at_1, m.lr, m.images_per_s, m.seconds, m.circular_variance);
  return buf;
}

// The header before circular_variance was added; its rows have 8 columns.
constexpr const char* kHeaderWithoutCircvar = "epoch,loss,supcon,koleo,precision_at_1,lr,images_per_s,seconds\n";

EpochMetrics parse_row(const std::string& line, const std::string& where, size_t columns) {
  std::vector<double> v;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, ',')) {
    char* end = nullptr;
    const double x = std::strtod(cell.c_str(), &end);
    if (cell.empty() || *end != '\0') throw std::runtime_error(where + ": \"" + cell + "\" is not a number");
    v.push_back(x);
  }
  if (v.size() != columns)
    throw std::runtime_error(where + ": expected " + std::to_string(columns) + " columns, found " + std::to_string(v.size()));
  EpochMetrics m;
  m.epoch = int64_t(v[0]);
  m.loss = v[1], m.supcon = v[2], m.koleo = v[3], m.precision_at_1 = v[4], m.lr = v[5], m.images_per_s = v[6];
  m.seconds = v[7];
  m.circular_variance = columns > 8 ? v[8] : NAN;
  return m;
}
}  // namespace

const char* MetricsLog::header() {
  return "epoch,loss,supcon,koleo,precision_at_1,lr,images_per_s,seconds,circular_variance\n";
}

MetricsLog::MetricsLog(std::string path, int64_t keep_epochs) : path_(std::move(path)) {
  if (keep_epochs >= 0) {
    std::ifstream in(path_);
    if (!in) throw std::runtime_error(path_ + ": cannot read the run's metrics (" + std::strerror(errno) + ")");
    std::string line;
    int line_no = 1;
    const bool got_header = bool(std::getline(in, line));
    const bool old_header = got_header && line + "\n" == kHeaderWithoutCircvar;
    if (!got_header || (line + "\n" != header() && !old_header))
      throw std::runtime_error(path_ + ":1: expected the header " + std::string(header()));
    while (std::getline(in, line)) {
      ++line_no;
      if (line.empty()) continue;
      const EpochMetrics m = parse_row(line, path_ + ":" + std::to_string(line_no), old_header ? 8 : 9);
      if (m.epoch <= keep_epochs) rows_.push_back(m);
    }
  }
  std::string text = header();
  for (const auto& m : rows_) text += csv_row(m);
  nn::io::write_file_atomic(path_, text);
  do fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  while (fd_ < 0 && errno == EINTR);
  if (fd_ < 0) throw std::runtime_error(path_ + ": cannot append (" + std::strerror(errno) + ")");
}

MetricsLog::~MetricsLog() {
  if (fd_ >= 0) ::close(fd_);
}

void MetricsLog::append(const EpochMetrics& row) {
  rows_.push_back(row);
  const std::string text = csv_row(row);
  // On disk before the epoch's checkpoints are written (see save_epoch in trainer.cpp). A plain
  // descriptor, not a FILE*: nothing is left in a buffer to be written later by fclose.
  struct stat before {};
  const bool sized = ::fstat(fd_, &before) == 0;
  size_t done = 0;
  int err = 0;
  while (done < text.size() && err == 0) {
    const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
    if (n > 0) done += size_t(n);
    else if (n == 0) err = EIO;  // no progress and no reason: do not spin
    else if (errno != EINTR) err = errno;
  }
  if (err == 0 && ::fsync(fd_) != 0) err = errno;
  if (err != 0) {
    // A full disk can take part of the row: cut it off, so the file a resumed run reads ends
    // with whole rows. Best effort: the run stops with this error either way.
    if (sized) {
      [[maybe_unused]] const int cut = ::ftruncate(fd_, before.st_size);
    }
    throw std::runtime_error(path_ + ": write failed (" + std::strerror(err) + ")");
  }
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  const long s = std::lround(seconds);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

void ProgressLine::step(int64_t epoch, int64_t epochs, int64_t batch, int64_t batches, double loss,
                        double images_per_s, double seconds_left) {
  if (silent_) return;
  const auto now = std::chrono::steady_clock::now();
  if (terminal_) {
    if (batch < batches && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    constexpr int kWidth = 30;
    const int filled = int(kWidth * batch / std::max<int64_t>(batches, 1));
    std::string bar(size_t(filled), '#');
    bar.resize(kWidth, '.');
    std::fprintf(stderr, "\r\033[Kepoch %lld/%lld [%s] %lld/%lld  loss %.4f  %.0f img/s  %s left",
                 static_cast<long long>(epoch), static_cast<long long>(epochs), bar.c_str(),
                 static_cast<long long>(batch), static_cast<long long>(batches), loss, images_per_s,
                 format_duration(seconds_left).c_str());
    open_ = true;
  } else if (batch % plain_every_ == 0 || batch == batches) {
    std::fprintf(stderr, "epoch %lld/%lld step %lld/%lld loss %.4f %.0f img/s %s left\n", static_cast<long long>(epoch),
                 static_cast<long long>(epochs), static_cast<long long>(batch), static_cast<long long>(batches), loss,
                 images_per_s, format_duration(seconds_left).c_str());
  }
  std::fflush(stderr);
}

void ProgressLine::line(const std::string& text) {
  if (silent_) return;
  if (open_) std::fprintf(stderr, "\r\033[K");
  open_ = false;
  std::fprintf(stderr, "%s\n", text.c_str());
  std::fflush(stderr);
}

}  // namespace torus::train
