// torus-spirals: the engine's demonstration (see spirals.hpp). Prints the loss curve and the
// final accuracy; exits 1 if the network did not fit the spirals (accuracy below 95%).
#include "autodiff/parallel.hpp"
#include "train/spirals.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {
void usage() {
  std::fprintf(stderr,
               "usage: torus-spirals [--seed N] [--threads N] [--steps N] [--hidden N] [--points N]\n"
               "  Trains a 2-64-64-2 tanh MLP on the two-spirals set and prints its loss curve.\n");
}

bool parse_int(const char* flag, const char* text, long min, long& out) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (!text[0] || *end || v < min) {
    std::fprintf(stderr, "torus-spirals: %s expects an integer >= %ld, got '%s'\n", flag, min, text);
    return false;
  }
  out = v;
  return true;
}
}  // namespace

int main(int argc, char** argv) {
  torus::demo::SpiralsOptions opt;
  long threads = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      usage();
      return 0;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "torus-spirals: unknown or incomplete option '%s'\n", a.c_str());
      usage();
      return 2;
    }
    long v = 0;
    const char* val = argv[++i];
    if (a == "--seed" && parse_int("--seed", val, 0, v)) opt.seed = uint64_t(v);
    else if (a == "--threads" && parse_int("--threads", val, 1, v)) threads = v;
    else if (a == "--steps" && parse_int("--steps", val, 1, v)) opt.steps = int(v);
    else if (a == "--hidden" && parse_int("--hidden", val, 1, v)) opt.hidden = int(v);
    else if (a == "--points" && parse_int("--points", val, 2, v)) opt.points_per_class = int(v);
    else {
      if (a != "--seed" && a != "--threads" && a != "--steps" && a != "--hidden" && a != "--points") {
        std::fprintf(stderr, "torus-spirals: unknown option '%s'\n", a.c_str());
        usage();
      }
      return 2;
    }
  }
  torus::set_num_threads(int(threads));
  std::printf("two spirals: %d points per class, MLP 2-%d-%d-2 (tanh), Adam lr %.3g, %d full-batch steps, seed %llu\n",
              opt.points_per_class, opt.hidden, opt.hidden, opt.learning_rate, opt.steps,
              static_cast<unsigned long long>(opt.seed));
  std::printf("%6s  %10s  %8s\n", "step", "loss", "accuracy");
  const auto result = torus::demo::train_spirals(opt, [](int step, double loss, double acc) {
    std::printf("%6d  %10.6f  %7.2f%%\n", step, loss, 100 * acc);
    std::fflush(stdout);
  });
  std::printf("final accuracy %.2f%% in %.2f s\n", 100 * result.accuracy, result.seconds);
  return result.accuracy >= 0.95 ? 0 : 1;
}
