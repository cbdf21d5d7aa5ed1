// Audio folders: labels by class folder, features equal to the direct computation, a cache that
// is reused only for the same file and settings, and bad files stopping the load or skipped.
#include <catch2/catch.hpp>

#include "datasets/audio_folder.hpp"
#include "datasets/synthetic_calls.hpp"

#include <filesystem>
#include <fstream>

using namespace torus::datasets;
namespace fs = std::filesystem;

TEST_CASE("an audio folder: labels, features, the cache and bad files", "[datasets][audio]") {
  const fs::path dir = fs::temp_directory_path() / "torus_audio_folder";
  fs::remove_all(dir);
  SyntheticCalls corpus;
  corpus.species = 3, corpus.clips_per_species = 3, corpus.clip_seconds = 1.0;
  write_synthetic_calls(corpus, (dir / "data").string());
  AudioFolderOptions o;
  o.cache_dir = (dir / "cache").string();
  o.threads = 2;

  const AudioFolder a = load_audio_folder((dir / "data").string(), o);
  CHECK(a.class_names == std::vector<std::string>{"s00_chirp", "s01_trill", "s02_stack"});
  CHECK(a.labels == std::vector<int>{0, 0, 0, 1, 1, 1, 2, 2, 2});
  CHECK(a.files[4] == "s01_trill/clip001.flac");
  CHECK(a.frames(0) == 51);  // 1 s at 16 kHz, hop 320
  CHECK(a.cache_misses == 9);
  CHECK(a.cache_hits == 0);
  // The features are the direct computation's, bit for bit.
  CHECK(a.spectrograms[4] == log_mel(o.mel, read_audio((dir / "data" / a.files[4]).string(), 16000).samples));

  // A second load reads every clip from the cache, the same bits.
  const AudioFolder b = load_audio_folder((dir / "data").string(), o);
  CHECK(b.cache_hits == 9);
  CHECK(b.cache_misses == 0);
  CHECK(b.spectrograms == a.spectrograms);
  // A changed file (a new modification time) and a changed setting are never served stale.
  fs::last_write_time(dir / "data" / a.files[4], fs::last_write_time(dir / "data" / a.files[4]) + std::chrono::seconds(5));
  CHECK(load_audio_folder((dir / "data").string(), o).cache_misses == 1);
  AudioFolderOptions fewer = o;
  fewer.mel.n_mels = 64;
  const AudioFolder c = load_audio_folder((dir / "data").string(), fewer);
  CHECK(c.cache_misses == 9);
  CHECK(c.spectrograms[0].size() == size_t(64 * 51));
  CHECK(feature_settings_text(fewer) != feature_settings_text(o));

  // A bad file stops the load, naming it; with skip_bad it is reported and left out.
  std::ofstream(dir / "data" / "s01_trill" / "broken.wav") << "RIFF but nothing a decoder could use";
  CHECK_THROWS_WITH(load_audio_folder((dir / "data").string(), o),
                    Catch::Contains("broken.wav") && Catch::Contains("skip_bad"));
  AudioFolderOptions lenient = o;
  lenient.skip_bad = true;
  const AudioFolder d = load_audio_folder((dir / "data").string(), lenient);
  CHECK(d.spectrograms.size() == 9);
  REQUIRE(d.skipped.size() == 1);
  CHECK(d.skipped[0].find("broken.wav") != std::string::npos);

  // A split read against the training classes refuses a class they do not have.
  const std::vector<std::string> two = {"s00_chirp", "s01_trill"};
  CHECK_THROWS_WITH(load_audio_folder((dir / "data").string(), lenient, &two), Catch::Contains("s02_stack"));
  fs::remove_all(dir);
}
