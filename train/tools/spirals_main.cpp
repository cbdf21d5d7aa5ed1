// torus-spirals: the engine's demonstration (see spirals.hpp). Prints the loss curve and the
// final accuracy; exits 1 if the network did not fit the spirals (accuracy below 95%).
#include "autodiff/parallel.hpp"
#include "train/tools/spirals.hpp"

#include "train/command_line.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  torus::tools::SpiralsOptions opt;
  int threads = 1;
  CLI::App app{"Trains an MLP with two tanh hidden layers on the two-spirals set and prints its loss curve."};
  app.add_option("--seed", opt.seed, "random seed for data and weights")->capture_default_str();
  app.add_option("--threads", threads, "thread count")->check(CLI::Range(1, 1 << 24))->capture_default_str();
  app.add_option("--steps", opt.steps, "full-batch Adam steps")->check(CLI::Range(1, 1 << 24))->capture_default_str();
  app.add_option("--hidden", opt.hidden, "width of each hidden layer")->check(CLI::Range(1, 1 << 24))->capture_default_str();
  app.add_option("--points", opt.points_per_class, "points per spiral arm")->check(CLI::Range(2, 1000000))->capture_default_str();
  if (const int status = torus::train::parse_command_line(app, argc, argv); status >= 0) return status;

  torus::set_num_threads(threads);
  std::printf("two spirals: %d points per class, MLP 2-%d-%d-2 (tanh), Adam lr %.3g, %d full-batch steps, seed %llu\n",
              opt.points_per_class, opt.hidden, opt.hidden, opt.learning_rate, opt.steps,
              static_cast<unsigned long long>(opt.seed));
  std::printf("%6s  %10s  %8s\n", "step", "loss", "accuracy");
  const auto result = torus::tools::train_spirals(opt, [](int step, double loss, double acc) {
    std::printf("%6d  %10.6f  %7.2f%%\n", step, loss, 100 * acc);
    std::fflush(stdout);
  });
  std::printf("final accuracy %.2f%% in %.2f s\n", 100 * result.accuracy, result.seconds);
  return result.accuracy >= 0.95 ? 0 : 1;
}
