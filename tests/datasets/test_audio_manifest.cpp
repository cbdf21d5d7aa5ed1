// CSV manifests of annotated recordings: rows, header, quoting, every malformed row refused with
// its line and field; segments cut from the decoded recording and cached apart from the whole file.
#include <catch2/catch.hpp>

#include "datasets/audio_folder.hpp"
#include "datasets/audio_manifest.hpp"
#include "datasets/synthetic_calls.hpp"

#include <filesystem>
#include <fstream>

using namespace torus::datasets;
namespace fs = std::filesystem;

TEST_CASE("a manifest: rows, header, quoting and segments", "[datasets][audio]") {
  const auto rows = parse_audio_manifest("m.csv",
                                         "\xEF\xBB\xBFpath,label,start,end\r\n"
                                         "a/x.wav,robin\r\n"
                                         "\n"
                                         "\"b, with comma.flac\",\"song \"\"thrush\"\"\",1.5,\n"
                                         "/abs/c.ogg, wren ,0.25,2\n");
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].path == "a/x.wav");
  CHECK(rows[0].label == "robin");
  CHECK(rows[0].start == 0);
  CHECK(rows[0].end == -1);
  CHECK(rows[0].line == 2);
  CHECK(rows[1].path == "b, with comma.flac");
  CHECK(rows[1].label == "song \"thrush\"");
  CHECK(rows[1].start == 1.5);
  CHECK(rows[1].end == -1);
  CHECK(rows[2].label == "wren");
  CHECK(rows[2].start == 0.25);
  CHECK(rows[2].end == 2);
  CHECK(rows[2].line == 5);
  // A quoted field may span lines: the next row's line number counts them.
  const auto multi = parse_audio_manifest("m.csv", "\"two\nlines.wav\",a\nz.wav,b\n");
  REQUIRE(multi.size() == 2);
  CHECK(multi[0].path == "two\nlines.wav");
  CHECK(multi[1].line == 3);
}

TEST_CASE("a malformed manifest names the line and the field", "[datasets][audio]") {
  const auto refused = [](const std::string& text, const std::string& what) {
    CHECK_THROWS_WITH(parse_audio_manifest("m.csv", text), Catch::Contains(what));
  };
  refused("", "lists no clips");
  refused("path,label\n", "lists no clips");
  refused("a.wav\n", "m.csv:1: 1 fields, expected path,label[,start,end]");
  refused("a.wav,b,1,2,3\n", "m.csv:1: 5 fields");
  refused("ok.wav,a\n,b\n", "m.csv:2: field 'path' is empty");
  refused("a.wav,\n", "field 'label' is empty");
  refused("a.wav,b,x\n", "m.csv:1: field 'start': expected seconds");
  refused("a.wav,b,-1\n", "field 'start'");
  refused("a.wav,b,nan\n", "field 'start'");
  refused("a.wav,b,1e400\n", "field 'start'");
  refused("a.wav,b,2,1\n", "field 'end': 1 s is not after start");
  refused("a.wav,b,2,2\n", "field 'end'");
  refused("\"a.wav,b\n", "m.csv:1: a quoted field is never closed");
  refused("a\"b.wav,c\n", "a quote inside an unquoted field");
  refused("\"a.wav\"x,c\n", "text after a closing quote");
  refused(std::string("a\0b.wav,c\n", 10), "NUL");
}

TEST_CASE("an audio manifest: segments of recordings, labels by name, a segment outside refused", "[datasets][audio]") {
  const fs::path dir = fs::temp_directory_path() / "torus_audio_manifest";
  fs::remove_all(dir);
  SyntheticCalls corpus;
  corpus.species = 2, corpus.clips_per_species = 1, corpus.clip_seconds = 2.0;
  write_synthetic_calls(corpus, (dir / "data").string(), {"wav"});
  const std::string a = "s00_chirp/clip000.wav", b = "s01_trill/clip000.wav";
  std::ofstream(dir / "data" / "m.csv") << "path,label,start,end\n"
                                        << a << ",chirp,0.5,1.5\n"
                                        << b << ",trill\n"
                                        << a << ",chirp\n";
  AudioFolderOptions o;
  o.cache_dir = (dir / "cache").string();
  const AudioFolder m = load_audio_manifest((dir / "data" / "m.csv").string(), o);
  CHECK(m.class_names == std::vector<std::string>{"chirp", "trill"});
  CHECK(m.labels == std::vector<int>{0, 1, 0});
  CHECK(m.files[1] == b);
  // The segment is the log-mel of exactly its samples: 1 s at 16 kHz.
  const std::vector<float> whole = read_audio((dir / "data" / a).string(), 16000).samples;
  const std::vector<float> segment(whole.begin() + 8000, whole.begin() + 24000);
  CHECK(m.spectrograms[0] == log_mel(o.mel, segment));
  CHECK(m.frames(0) == 51);
  CHECK(m.frames(2) == 101);
  // The same file whole and as a segment are two cache entries, both served on a second load.
  CHECK(m.cache_misses == 3);
  const AudioFolder again = load_audio_manifest((dir / "data" / "m.csv").string(), o);
  CHECK(again.cache_hits == 3);
  CHECK(again.spectrograms == m.spectrograms);
  // Labels follow a given class list; a label outside it is refused with its line.
  const std::vector<std::string> classes = {"trill", "chirp", "wren"};
  CHECK(load_audio_manifest((dir / "data" / "m.csv").string(), o, &classes).labels == std::vector<int>{1, 0, 1});
  const std::vector<std::string> only = {"chirp"};
  CHECK_THROWS_WITH(load_audio_manifest((dir / "data" / "m.csv").string(), o, &only),
                    Catch::Contains("m.csv:3: field 'label'") && Catch::Contains("trill"));
  // A segment beyond the recording is an error naming the file, not silence.
  std::ofstream(dir / "data" / "late.csv") << b << ",trill,1.0,3.5\n";
  CHECK_THROWS_WITH(load_audio_manifest((dir / "data" / "late.csv").string(), o),
                    Catch::Contains("clip000.wav") && Catch::Contains("after the recording's end"));
  std::ofstream(dir / "data" / "after.csv") << b << ",trill,5\n";
  CHECK_THROWS_WITH(load_audio_manifest((dir / "data" / "after.csv").string(), o), Catch::Contains("outside the recording"));
  CHECK_THROWS_WITH(load_audio_manifest((dir / "data" / "missing.csv").string(), o), Catch::Contains("missing.csv"));
  fs::remove_all(dir);
}
