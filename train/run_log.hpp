// What a run shows and keeps as it goes: metrics.csv in the run folder (one row per epoch, flushed
// as written, so a killed run keeps every finished epoch) and the progress line on the terminal.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace torus::train {

struct EpochMetrics {
  int64_t epoch = 0;  // 1-based: the number of epochs done after this one
  double loss = 0, supcon = 0, koleo = 0;  // means over the epoch's steps
  double precision_at_1 = 0;               // held-out queries against training references
  // Of the held-out queries' embeddings in the evaluated space (what torus-eval reports): near 0
  // when they collapse to one direction. NaN in rows from a run folder older than the column.
  double circular_variance = 0;
  double lr = 0, images_per_s = 0, seconds = 0;
};

class MetricsLog {
 public:
  // keep_epochs < 0: a new file with its header. Otherwise the existing file's rows up to epoch
  // keep_epochs are kept (rewritten atomically) and later ones dropped, as a resumed run redoes
  // them; a missing or malformed file is an error naming the line. A file written before the
  // circular_variance column is read too (the column NaN) and rewritten with it.
  MetricsLog(std::string path, int64_t keep_epochs);
  ~MetricsLog();
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;
  void append(const EpochMetrics& row);
  const std::vector<EpochMetrics>& rows() const { return rows_; }
  static const char* header();

 private:
  std::string path_;
  int fd_ = -1;  // metrics.csv, opened for appending
  std::vector<EpochMetrics> rows_;
};

// A progress bar redrawn in place on a terminal; elsewhere (a log file, CI) a plain line every
// `plain_every` steps, so logs stay readable.
class ProgressLine {
 public:
  explicit ProgressLine(bool terminal, int64_t plain_every = 50) : terminal_(terminal), plain_every_(plain_every) {}
  // Prints nothing: the ranks other than 0 of a data-parallel run, which would repeat rank 0's lines.
  static ProgressLine silent() {
    ProgressLine p(false);
    p.silent_ = true;
    return p;
  }
  void step(int64_t epoch, int64_t epochs, int64_t batch, int64_t batches, double loss, double images_per_s,
            double seconds_left);
  // Ends the bar's line (if any) and prints `text` on its own line.
  void line(const std::string& text);

 private:
  bool terminal_;
  int64_t plain_every_;
  bool silent_ = false;
  bool open_ = false;
  std::chrono::steady_clock::time_point last_draw_{};
};

std::string format_duration(double seconds);

}  // namespace torus::train
