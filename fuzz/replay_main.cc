// Replay driver: the main() of every fuzz target in the normal (non-libFuzzer) build.
// Runs LLVMFuzzerTestOneInput once on an empty input and once on every file named on the
// command line or found (recursively) in a directory named there. A target's check fails
// by aborting, so the test fails on the first bad input, named on stderr before it runs.
// Exits 1 when no input file was found (a replay test that replays nothing must not pass).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) __attribute__((weak));

namespace fs = std::filesystem;

namespace {

// |arg| as given, else relative to where `bazel run` was typed.
fs::path Resolve(const std::string& arg) {
  fs::path p(arg);
  if (p.is_relative() && !fs::exists(p)) {
    if (const char* dir = std::getenv("BUILD_WORKING_DIRECTORY")) return fs::path(dir) / p;
  }
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (!arg.empty() && arg[0] == '-') continue;  // libFuzzer flags are accepted and ignored
    fs::path p = Resolve(arg);
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      for (const auto& entry : fs::recursive_directory_iterator(p)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
    } else if (fs::is_regular_file(p, ec)) {
      files.push_back(p);
    } else {
      std::fprintf(stderr, "replay: %s: no such file or directory\n", p.c_str());
      return 1;
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::fprintf(stderr, "replay: no input files (usage: %s FILE_OR_DIR...)\n", argv[0]);
    return 1;
  }
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);

  LLVMFuzzerTestOneInput(nullptr, 0);
  size_t bytes = 0;
  for (const fs::path& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      std::fprintf(stderr, "replay: cannot read %s\n", file.c_str());
      return 1;
    }
    std::fprintf(stderr, "replay: %s (%zu bytes)\n", file.c_str(), data.size());
    // A copy of exactly |size| bytes, so ASan sees any read past the end.
    std::unique_ptr<uint8_t[]> copy(new uint8_t[data.size()]);
    std::copy(data.begin(), data.end(), copy.get());
    LLVMFuzzerTestOneInput(copy.get(), data.size());
    bytes += data.size();
  }
  std::printf("replay: %zu inputs (%zu bytes) ran without a failure\n", files.size(), bytes);
  return 0;
}
