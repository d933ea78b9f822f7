// synod-lincheck: the simulator's Wing & Gong linearizability checker (tests/sim/
// linearizability.h) as a program, so that the fault harness (harness.py), which records
// histories of real processes, checks them with the same code as the simulator.
//
//   synod-lincheck [--max-steps N] < history
//
// One operation a line, nine tab-separated fields:
//   client kind key expected argument read swapped invoked answered
// kind is put, get, cas or delete; key, expected, argument and read are hex-encoded bytes,
// with "-" for none (expected: the key must be absent; read: the key was absent);
// swapped is 0 or 1; invoked and answered are times on one clock, answered "-" for an
// operation whose outcome the client never learned (it may have taken effect or not).
//
// Prints the verdict on the first line — "linearizable", "not-linearizable" or "unknown"
// (the search ran out of budget on some key: never read as a pass) — then, for a
// violation, the key and the operations that no order explains. Exits 0, 1 and 3
// respectively, and 2 for a malformed history.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "linearizability.h"

namespace {

using synod::sim::Operation;
using synod::sim::OpKind;

std::optional<std::string> unhex(const std::string& text, bool& ok) {
  if (text == "-") return std::nullopt;
  if (text.size() % 2 != 0) ok = false;
  std::string out;
  for (std::size_t i = 0; ok && i + 1 < text.size(); i += 2) {
    char* end = nullptr;
    const std::string pair = text.substr(i, 2);
    const long byte = std::strtol(pair.c_str(), &end, 16);
    if (end != pair.c_str() + 2) ok = false;
    out += static_cast<char>(byte);
  }
  return out;
}

bool parse_line(const std::string& line, Operation& op) {
  std::vector<std::string> fields;
  std::stringstream in(line);
  std::string field;
  while (std::getline(in, field, '\t')) fields.push_back(field);
  if (fields.size() != 9) return false;
  bool ok = true;
  op.client = std::strtoull(fields[0].c_str(), nullptr, 10);
  const std::string& kind = fields[1];
  if (kind == "put") {
    op.kind = OpKind::Put;
  } else if (kind == "get") {
    op.kind = OpKind::Get;
  } else if (kind == "cas") {
    op.kind = OpKind::CompareAndSwap;
  } else if (kind == "delete") {
    op.kind = OpKind::Delete;
  } else {
    return false;
  }
  const auto key = unhex(fields[2], ok);
  if (!key) return false;
  op.key = *key;
  op.expected = unhex(fields[3], ok);
  op.argument = unhex(fields[4], ok).value_or("");
  op.read = unhex(fields[5], ok);
  op.swapped = fields[6] == "1";
  op.invoked_at = std::strtoull(fields[7].c_str(), nullptr, 10);
  if (fields[8] != "-") op.answered_at = std::strtoull(fields[8].c_str(), nullptr, 10);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t max_steps = 2'000'000;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--max-steps" && i + 1 < argc) {
      max_steps = std::strtoull(argv[++i], nullptr, 10);
    } else {
      std::fputs("usage: synod-lincheck [--max-steps N] < history\n", stderr);
      return 2;
    }
  }
  std::vector<Operation> history;
  std::string line;
  for (std::size_t number = 1; std::getline(std::cin, line); ++number) {
    if (line.empty()) continue;
    Operation op;
    if (!parse_line(line, op)) {
      std::fprintf(stderr, "synod-lincheck: line %zu is not an operation: %s\n", number, line.c_str());
      return 2;
    }
    history.push_back(std::move(op));
  }
  const auto result = synod::sim::check_history(history, max_steps);
  switch (result.verdict) {
    case synod::sim::Verdict::Linearizable:
      std::printf("linearizable\n%zu operations\n", history.size());
      return 0;
    case synod::sim::Verdict::NotLinearizable:
      std::printf("not-linearizable\nkey %s: %s\n", result.key.c_str(), result.explanation.c_str());
      return 1;
    case synod::sim::Verdict::GaveUp:
      std::printf("unknown\nkey %s: %s\n", result.key.c_str(), result.explanation.c_str());
      return 3;
  }
  return 2;
}
