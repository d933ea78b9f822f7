// Runs every script in scripts/ as its own test case, named after the file. A script
// passes when every expectation in it holds and its transcript is the one stored beside
// it (scripts/x.txt: scripts/x.transcript), so that any change in what the nodes do shows
// up as a diff, expected or not. SYNOD_REWRITE_TRANSCRIPTS=1 rewrites the stored copies
// instead of comparing; see README.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "script_driver.h"
#include "text_diff.h"

namespace synod::raft::scenarios {
namespace {

constexpr const char* kScriptExtension = ".txt";
constexpr const char* kTranscriptExtension = ".transcript";

std::vector<std::filesystem::path> files_with(const std::string& extension) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(SYNOD_SCENARIO_SCRIPT_DIR)) {
    if (entry.is_regular_file() && entry.path().extension() == extension) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::filesystem::path transcript_path(std::filesystem::path script) {
  return script.replace_extension(kTranscriptExtension);
}

bool rewriting() {
  const char* flag = std::getenv("SYNOD_REWRITE_TRANSCRIPTS");
  return flag != nullptr && std::string(flag) == "1";
}

std::optional<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Test names allow only letters, digits and underscores.
std::string test_name(const ::testing::TestParamInfo<std::filesystem::path>& info) {
  std::string name = info.param.stem().string();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

class Scenario : public ::testing::TestWithParam<std::filesystem::path> {};

TEST_P(Scenario, Passes) {
  ScriptDriver driver;
  const auto failures = driver.run_file(GetParam());
  for (const auto& f : failures) {
    ADD_FAILURE_AT(f.source.c_str(), f.line) << "`" << f.step << "`: " << f.message;
  }
  const std::filesystem::path stored = transcript_path(GetParam());
  if (rewriting()) {
    // A transcript of failed expectations is no reference for later runs.
    if (failures.empty()) {
      std::ofstream(stored, std::ios::binary | std::ios::trunc) << driver.transcript();
      std::cout << "rewrote " << stored.string() << "\n";
    } else {
      ADD_FAILURE() << stored.string() << " not rewritten: the script's expectations fail";
    }
  } else if (const auto expected = read_file(stored); !expected) {
    ADD_FAILURE() << "no stored transcript " << stored.string()
                  << "; create it with SYNOD_REWRITE_TRANSCRIPTS=1 and review it";
  } else if (const std::string diff =
                 unified_diff(*expected, driver.transcript(), stored.string(), "actual");
             !diff.empty()) {
    ADD_FAILURE() << "the transcript differs from the stored one. If the change is intended, "
                     "rerun with SYNOD_REWRITE_TRANSCRIPTS=1 and review the diff of "
                  << stored.filename().string() << ".\n"
                  << diff;
  }
  // The transcript shows what led up to a failure; SYNOD_SCRIPT_TRACE=1 shows it always.
  if (!failures.empty() || std::getenv("SYNOD_SCRIPT_TRACE") != nullptr) {
    std::cout << "--- transcript of " << GetParam().filename().string() << "\n"
              << driver.transcript();
  }
}

INSTANTIATE_TEST_SUITE_P(Scripts, Scenario, ::testing::ValuesIn(files_with(kScriptExtension)),
                         test_name);

// A stored transcript whose script was renamed or removed would never be compared again.
TEST(ScenarioTranscripts, EachBelongsToAScript) {
  for (const auto& transcript : files_with(kTranscriptExtension)) {
    std::filesystem::path script = transcript;
    script.replace_extension(kScriptExtension);
    EXPECT_TRUE(std::filesystem::exists(script))
        << transcript.string() << " has no script " << script.filename().string();
  }
}

}  // namespace
}  // namespace synod::raft::scenarios
