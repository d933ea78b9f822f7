// Runs every script in scripts/ as its own test case, named after the file.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "script_driver.h"

namespace synod::raft::scenarios {
namespace {

std::vector<std::filesystem::path> script_files() {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(SYNOD_SCENARIO_SCRIPT_DIR)) {
    if (entry.is_regular_file() && entry.path().extension() == ".txt") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
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
  // The transcript shows what led up to a failure; SYNOD_SCRIPT_TRACE=1 shows it always.
  if (!failures.empty() || std::getenv("SYNOD_SCRIPT_TRACE") != nullptr) {
    std::cout << "--- transcript of " << GetParam().filename().string() << "\n"
              << driver.transcript();
  }
}

INSTANTIATE_TEST_SUITE_P(Scripts, Scenario, ::testing::ValuesIn(script_files()), test_name);

}  // namespace
}  // namespace synod::raft::scenarios
