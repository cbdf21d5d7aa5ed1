// write_file_atomic and the checked readers: the target is replaced whole or not at all, no
// temporary file survives, and every failure names the path and the system's reason.
#include "io_test_util.hpp"

#include "nn/io/atomic_file.hpp"

#include <stdexcept>

#include <sys/stat.h>
#include <unistd.h>

using namespace torus;
using namespace torus::nn::io;
using torus::testing::ScratchDir;

TEST_CASE("write_file_atomic creates and replaces a file and leaves no temporary behind", "[nn][io]") {
  ScratchDir dir("atomic_replace");
  const std::string path = dir.file("weights.bin");
  write_file_atomic(path, std::string_view("first version"));
  CHECK(torus::testing::file_bytes(path) == "first version");
  write_file_atomic(path, std::string_view("second"));
  CHECK(torus::testing::file_bytes(path) == "second");
  write_file_atomic(path, std::string_view(""));
  CHECK(torus::testing::file_bytes(path).empty());
  CHECK(dir.listing() == std::vector<std::string>{"weights.bin"});
}

TEST_CASE("write_file_atomic keeps every byte of large and small writes in order", "[nn][io]") {
  ScratchDir dir("atomic_large");
  const std::string path = dir.file("big.bin");
  // Small pieces go through the buffer, a 3 MiB piece past it; the order must survive both paths.
  std::string big(3 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 % 251);
  std::string expected;
  write_file_atomic(path, [&](ByteSink& sink) {
    for (int i = 0; i < 1000; ++i) sink.write(std::to_string(i));
    sink.write(big);
    sink.write(std::string_view("tail"));
  });
  for (int i = 0; i < 1000; ++i) expected += std::to_string(i);
  expected += big + "tail";
  CHECK(torus::testing::file_bytes(path) == expected);
  CHECK(read_file(path) == expected);
}

TEST_CASE("a failing serialisation callback leaves the old file intact", "[nn][io]") {
  ScratchDir dir("atomic_callback_fails");
  const std::string path = dir.file("model.safetensors");
  write_file_atomic(path, std::string_view("old contents"));
  // The callback's own exception comes back unchanged, after some bytes were already written.
  CHECK_THROWS_WITH(write_file_atomic(path,
                                      [](ByteSink& sink) {
                                        sink.write(std::string_view("half of the new "));
                                        throw std::runtime_error("serialisation failed");
                                      }),
                    "serialisation failed");
  CHECK(torus::testing::file_bytes(path) == "old contents");
  CHECK(dir.listing() == std::vector<std::string>{"model.safetensors"});
}

TEST_CASE("a failing callback on a new path creates nothing", "[nn][io]") {
  ScratchDir dir("atomic_callback_fails_new");
  CHECK_THROWS_AS(write_file_atomic(dir.file("never.bin"), [](ByteSink&) { throw std::logic_error("no"); }),
                  std::logic_error);
  CHECK(dir.listing().empty());
}

TEST_CASE("writing into a folder that does not exist names the path and the reason", "[nn][io]") {
  ScratchDir dir("atomic_missing_folder");
  const std::string path = dir.file("missing/sub/model.bin");
  torus::testing::require_throws_with<IoError>([&] { write_file_atomic(path, std::string_view("x")); },
                                               {path, "No such file or directory"});
  CHECK(dir.listing().empty());
}

TEST_CASE("write_file_atomic refuses a folder as target and removes its temporary", "[nn][io]") {
  ScratchDir dir("atomic_folder_target");
  torus::testing::require_throws_with<IoError>([&] { write_file_atomic(dir.file("sub/"), std::string_view("x")); },
                                               {"names a folder"});
  // An existing folder under the target's name: the rename fails, the folder stays as it was.
  std::filesystem::create_directory(dir.file("taken"));
  std::filesystem::create_directory(dir.file("taken/inner"));
  torus::testing::require_throws_with<IoError>([&] { write_file_atomic(dir.file("taken"), std::string_view("x")); },
                                               {dir.file("taken"), "rename"});
  CHECK(dir.listing() == std::vector<std::string>{"taken"});
  CHECK(std::filesystem::is_directory(dir.file("taken/inner")));
}

TEST_CASE("a new file gets the permissions the umask allows, like fopen", "[nn][io]") {
  ScratchDir dir("atomic_mode");
  const mode_t old_mask = ::umask(022);
  write_file_atomic(dir.file("f"), std::string_view("x"));
  ::umask(old_mask);
  struct stat st {};
  REQUIRE(::stat(dir.file("f").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);
}

TEST_CASE("read_file and InputFile check every read", "[nn][io]") {
  ScratchDir dir("read_checked");
  const std::string missing = dir.file("absent.bin");
  torus::testing::require_throws_with<IoError>([&] { read_file(missing); }, {missing, "No such file or directory"});
  torus::testing::require_throws_with<IoError>([&] { read_file(dir.path().string()); }, {"not a regular file"});

  const std::string path = dir.file("data.bin");
  torus::testing::write_bytes(path, "0123456789");
  const InputFile file(path);
  CHECK(file.size() == 10);
  char buf[4] = {};
  file.read_at(6, 4, buf);
  CHECK(std::string(buf, 4) == "6789");
  torus::testing::require_throws_with<IoError>([&] { file.read_at(8, 4, buf); }, {path, "past the end"});
  torus::testing::require_throws_with<IoError>([&] { file.read_at(~std::uint64_t(0), 1, buf); },
                                               {path, "past the end"});
  CHECK(read_file(dir.file("data.bin")) == "0123456789");
}

TEST_CASE("InputFile refuses a FIFO at once instead of waiting for a writer", "[nn][io]") {
  ScratchDir dir("read_fifo");
  const std::string fifo = dir.file("x.png");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // A blocking open would hang here until the test's timeout.
  torus::testing::require_throws_with<IoError>([&] { InputFile f(fifo, "image"); }, {fifo, "image is not a regular file"});
  torus::testing::require_throws_with<IoError>([&] { read_file(fifo); }, {fifo, "not a regular file"});
}


TEST_CASE("temporaries of killed writers are removed, a live writer's are kept", "[nn][io]") {
  ScratchDir dir("abandoned");
  torus::testing::write_bytes(dir.file(".last.ckpt.tmp-999999999-3"), "dead");  // beyond any pid_max
  const std::string live = ".best.ckpt.tmp-" + std::to_string(::getpid()) + "-0";
  torus::testing::write_bytes(dir.file(live), "live");
  torus::testing::write_bytes(dir.file("notes.tmp-999999999-0"), "not ours: no leading dot");
  torus::testing::write_bytes(dir.file(".hidden"), "not a temporary");
  CHECK(remove_abandoned_temporaries(dir.path().string()) == 1);
  CHECK(dir.listing() == std::vector<std::string>{".best.ckpt.tmp-" + std::to_string(::getpid()) + "-0", ".hidden",
                                                  "notes.tmp-999999999-0"});
  CHECK(remove_abandoned_temporaries(dir.file("missing")) == 0);
}
