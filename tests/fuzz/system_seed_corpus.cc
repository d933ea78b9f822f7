// Writes the seed corpus of system_decode_fuzzer into a directory, from the real encoders:
// the sample commands and states of tests/system/samples.h. Run by the build
// (tests/fuzz/CMakeLists.txt). Usage: synod_system_seed_corpus <directory>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "samples.h"
#include "synod/system/codec.h"

namespace synod::system::fuzz {
namespace {

bool write(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) std::fprintf(stderr, "synod_system_seed_corpus: cannot write %s\n", path.c_str());
  return static_cast<bool>(out);
}

}  // namespace
}  // namespace synod::system::fuzz

int main(int argc, char** argv) {
  using namespace synod::system;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <directory>\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    std::fprintf(stderr, "synod_system_seed_corpus: cannot create %s: %s\n", argv[1],
                 ec.message().c_str());
    return 1;
  }
  bool ok = true;
  int count = 0;
  for (const Command& c : samples::commands()) {
    ok &= fuzz::write(dir / ("command-" + std::to_string(count++)), encode_command(c));
  }
  for (const SystemState& s : samples::states()) {
    ok &= fuzz::write(dir / ("state-" + std::to_string(count++)), encode_state(s));
  }
  if (!ok) return 1;
  std::printf("synod_system_seed_corpus: %d seeds in %s\n", count, argv[1]);
  return 0;
}
