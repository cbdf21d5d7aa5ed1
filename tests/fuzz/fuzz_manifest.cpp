// CSV manifests of annotated recordings (datasets/audio_manifest): RFC 4180 quoting, the field
// count, seconds; DataError is the documented refusal. The parser runs on the bytes directly,
// without the file system, so the fuzzer spends its time in it.
#include "datasets/audio_manifest.hpp"
#include "datasets/image_file.hpp"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto rows = torus::datasets::parse_audio_manifest("input.csv", std::string(reinterpret_cast<const char*>(data), size));
    for (const auto& r : rows)
      if (r.path.empty() || r.label.empty() || r.start < 0 || (r.end >= 0 && r.end <= r.start)) __builtin_trap();
  } catch (const torus::datasets::DataError&) {
  }
  return 0;
}
