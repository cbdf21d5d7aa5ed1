// The C++ side of the Python interop test (safetensors_interop.py).
//   safetensors_tool write PATH      writes the fixed tensors below; Python checks them with numpy
//   safetensors_tool checksum PATH   loads PATH and prints, per tensor in file order,
//                                    "tensor NAME SHAPE N SUM WEIGHTED" (SUM = sum x_i,
//                                    WEIGHTED = sum (i+1) x_i, in double), then "meta KEY VALUE" lines
// Errors go to stderr with exit status 1.
#include "nn/io/safetensors.hpp"

#include <cstdio>
#include <exception>
#include <limits>
#include <string>

using namespace torus;

namespace {

// Dyadic values with few bits, so Python can predict them exactly.
Tensor<float> ramp(const Shape& shape, float start, float step) {
  Tensor<float> t(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = start + step * static_cast<float>(i);
  return t;
}

void write(const std::string& path) {
  const Tensor<float> weight = ramp({3, 4}, -2.0f, 0.375f);
  const Tensor<float> bias = ramp({4}, 1.0f, -0.5f);
  const Tensor<float> scalar(Shape{}, {3.25f});
  const Tensor<float> empty(Shape{0, 3});
  const Tensor<float> special(Shape{4},
                              {-0.0f, std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                               std::numeric_limits<float>::denorm_min()});
  nn::io::save_safetensors(
      path, {{"fc.weight", &weight}, {"fc.bias", &bias}, {"scalar", &scalar}, {"empty", &empty}, {"special", &special}},
      {{"format", "pt"}, {"written_by", "torus"}});
}

void checksum(const std::string& path) {
  const nn::io::SafetensorsFile file = nn::io::load_safetensors(path);
  for (const auto& [name, t] : file.tensors) {
    double sum = 0, weighted = 0;
    for (int64_t i = 0; i < t.numel(); ++i) {
      sum += t[i];
      weighted += static_cast<double>(i + 1) * t[i];
    }
    std::string shape = t.shape().str();
    for (char& c : shape)
      if (c == ' ') c = '_';  // one field per value
    std::printf("tensor %s %s %lld %.17g %.17g\n", name.c_str(), shape.c_str(), static_cast<long long>(t.numel()), sum,
                weighted);
  }
  for (const auto& [key, value] : file.metadata) std::printf("meta %s %s\n", key.c_str(), value.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (std::string(argv[1]) != "write" && std::string(argv[1]) != "checksum")) {
    std::fprintf(stderr, "usage: %s write|checksum PATH\n", argv[0]);
    return 2;
  }
  try {
    if (std::string(argv[1]) == "write")
      write(argv[2]);
    else
      checksum(argv[2]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
