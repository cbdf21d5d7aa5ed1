// The C++ side of few_shot_numpy.py: runs few_shot_accuracy on an .npy matrix and its labels and
// writes every episode it drew (support and query rows per way, accuracy) as JSON. CENTRE "codes"
// reads X as angles in turns and runs few_shot_accuracy_codes on their uint8 codes.
//   few_shot_tool X.npy LABELS.npy WAYS SHOTS QUERIES EPISODES SEED CENTRE(0|1|codes) OUT.json
#include "datasets/npy.hpp"
#include "geometry/uint8_codes.hpp"
#include "train/eval/few_shot.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

using namespace torus;

int main(int argc, char** argv) {
  if (argc != 10) {
    std::fprintf(stderr, "usage: %s X.npy LABELS.npy WAYS SHOTS QUERIES EPISODES SEED CENTRE OUT.json\n", argv[0]);
    return 2;
  }
  try {
    const datasets::FloatMatrix m = datasets::read_npy_matrix(argv[1]);
    const std::vector<int64_t> l = datasets::read_npy_integers(argv[2]);
    const eval::RowMatrix x = Eigen::Map<const eval::RowMatrix>(m.values.data(), m.rows, m.cols);
    eval::FewShotOptions o;
    o.ways = std::atoi(argv[3]), o.shots = std::atoi(argv[4]), o.queries_per_class = std::atoi(argv[5]);
    const bool codes = std::string(argv[8]) == "codes";
    o.episodes = std::atoi(argv[6]), o.seed = std::strtoull(argv[7], nullptr, 10), o.centre_on_support = !codes && std::atoi(argv[8]);
    std::vector<eval::FewShotEpisode> trace;
    const std::vector<int> labels(l.begin(), l.end());
    const eval::FewShotResult r = codes ? eval::few_shot_accuracy_codes(geometry::encode_angles<float>(x), labels, o, &trace)
                                        : eval::few_shot_accuracy(x, labels, o, &trace);
    nlohmann::json out = {{"mean", r.mean}, {"std", r.std_dev}, {"episodes", nlohmann::json::array()}};
    for (const auto& e : trace) out["episodes"].push_back({{"support", e.support}, {"queries", e.queries}, {"accuracy", e.accuracy}});
    std::ofstream(argv[9]) << out.dump();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
