// libFuzzer target for the snapshot file checker (core/storage/src/snapshot_file_format.h):
// a receiver feeds it bytes from a stranger on the network, and a restart feeds it files
// that may be damaged, so it must refuse anything malformed with a status, never crash,
// read out of bounds or hold more than a header in memory. Input layout:
// snapshot_fuzz_input.h.
//
// Checked on every input:
//   - every status is Ok, Corruption or Unsupported, and once a checker fails it keeps
//     answering the same failure;
//   - the verdict (header, failure, and whether finish() accepts) does not depend on how
//     the file is cut into pieces: whole, one byte at a time, or in the input's piece size;
//   - an accepted file is exactly as long as its header says, and its header re-encodes
//     from the decoded fields to the same bytes (the format is canonical).
// A violation prints what broke and traps, so libFuzzer reports the input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "snapshot_file_format.h"
#include "snapshot_fuzz_input.h"

namespace synod::storage::fuzz {
namespace {

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "snapshot_file_fuzzer: %s\n", what.c_str());
  __builtin_trap();
}

void check_status(const StorageStatus& st) {
  if (!st.ok() && st.code() != StorageCode::Corruption && st.code() != StorageCode::Unsupported) {
    fail("unexpected status: " + st.to_string());
  }
}

struct Verdict {
  StorageStatus fed;       // the first failure while feeding, or Ok
  StorageStatus finished;  // finish()'s answer
  std::optional<SnapshotInfo> header;
};

Verdict check_in_pieces(std::string_view file, std::size_t piece) {
  snapshot_file::FileChecker checker;
  Verdict v;
  for (std::size_t at = 0; at < file.size(); at += piece) {
    const std::string_view part = file.substr(at, piece);
    const StorageStatus st = checker.feed(part.data(), part.size());
    check_status(st);
    if (!v.fed.ok() && (st.ok() || st.code() != v.fed.code())) {
      fail("a failed checker answered " + st.to_string() + " after " + v.fed.to_string());
    }
    if (v.fed.ok() && !st.ok()) v.fed = st;
  }
  if (v.fed.ok() && checker.fed() != file.size()) fail("fed() does not count every byte");
  v.finished = checker.finish();
  check_status(v.finished);
  if (!v.fed.ok() && v.finished.code() != v.fed.code()) {
    fail("finish() after a failure answered " + v.finished.to_string());
  }
  v.header = checker.header();
  return v;
}

bool same_info(const std::optional<SnapshotInfo>& a, const std::optional<SnapshotInfo>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->partition == b->partition && a->meta == b->meta &&
                a->data_bytes == b->data_bytes && a->file_bytes == b->file_bytes);
}

void check_same(const Verdict& a, const Verdict& b, const char* how) {
  if (a.finished.ok() != b.finished.ok() || a.finished.code() != b.finished.code() ||
      a.fed.ok() != b.fed.ok() || !same_info(a.header, b.header)) {
    fail(std::string("the verdict changes when the file is fed ") + how + ": " +
         a.finished.to_string() + " against " + b.finished.to_string());
  }
}

void check_accepted(std::string_view file, const Verdict& v) {
  if (!v.finished.ok()) return;
  if (!v.header) fail("a file was accepted without a header");
  const SnapshotInfo& info = *v.header;
  if (info.file_bytes != file.size()) fail("an accepted file is not as long as its header says");
  const std::string header = snapshot_file::encode_header(info.partition, info.meta, info.data_bytes);
  if (file.substr(0, header.size()) != header) fail("an accepted header does not re-encode to itself");
  if (header.size() + info.data_bytes + snapshot_file::kTrailerBytes != info.file_bytes) {
    fail("header, data and trailer do not add up to the file");
  }
}

}  // namespace
}  // namespace synod::storage::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace synod::storage::fuzz;
  if (size == 0) return 0;
  const std::uint8_t control = data[0];
  std::string file(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (control & kSnapshotSealBit) seal(file);
  const Verdict whole = check_in_pieces(file, file.size() ? file.size() : 1);
  check_same(whole, check_in_pieces(file, 1), "one byte at a time");
  check_same(whole, check_in_pieces(file, (control & kPieceMask) + 1u), "in pieces");
  check_accepted(file, whole);
  return 0;
}
