// Writes the seed corpus of batch_decode_fuzzer into a directory, from the real encoder:
// a batch of every Raft message type (with entries, a snapshot's metadata, a context where
// the type carries one), one batch holding all of them, the chunks of a streamed snapshot, and each
// of those again as a Frame signed with the fuzzer's secret and clock. Run by the build (tests/fuzz/CMakeLists.txt).
// Usage: synod_batch_seed_corpus <directory>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "batch_fuzz_input.h"
#include "snapshot_stream.h"
#include "synod/wire.pb.h"
#include "wire_codec.h"

namespace synod::transport::fuzz {
namespace {

namespace pb = synod::wire::v1;
using raft::MessageType;

constexpr ClusterId kCluster = 7;
constexpr NodeId kFrom = 1;
constexpr NodeId kTo = 2;

raft::Message message(MessageType type) {
  raft::Message m;
  m.type = type;
  m.from = kFrom;
  m.to = kTo;
  m.term = 5;
  m.index = 41;
  m.log_term = 4;
  m.commit = 40;
  switch (type) {
    case MessageType::Append:
      for (raft::Index i = 42; i <= 44; ++i) {
        m.entries.push_back({i, 5, i == 43 ? raft::EntryType::ConfChange : raft::EntryType::Normal,
                             static_cast<std::uint32_t>(i), raft::Bytes("entry " + std::to_string(i))});
      }
      break;
    case MessageType::AppendResp:
      m.reject = true;
      m.reject_hint = 30;
      break;
    case MessageType::Vote:
    case MessageType::PreVote:
      m.context = "transfer";
      break;
    case MessageType::InstallSnapshot: {
      auto snapshot = std::make_shared<raft::Snapshot>();
      snapshot->meta.index = 40;
      snapshot->meta.term = 4;
      snapshot->meta.conf_state.voters = {1, 2, 3};
      snapshot->meta.conf_state.voters_outgoing = {1, 2, 4};
      snapshot->meta.conf_state.learners = {5};
      snapshot->meta.conf_state.learners_next = {4};
      snapshot->meta.conf_state.auto_leave = true;
      m.snapshot = std::move(snapshot);
      break;
    }
    case MessageType::Heartbeat:
    case MessageType::ReadIndex:
    case MessageType::ReadIndexResp:
      m.context = std::string("request\x01\x02", 9);
      break;
    default:
      break;
  }
  return m;
}

// Named here: raft::to_string lives in synod_raft, which the fuzz build does not compile.
constexpr std::pair<MessageType, const char*> kTypes[] = {
    {MessageType::PreVote, "pre-vote"},
    {MessageType::PreVoteResp, "pre-vote-resp"},
    {MessageType::Vote, "vote"},
    {MessageType::VoteResp, "vote-resp"},
    {MessageType::Append, "append"},
    {MessageType::AppendResp, "append-resp"},
    {MessageType::Heartbeat, "heartbeat"},
    {MessageType::HeartbeatResp, "heartbeat-resp"},
    {MessageType::InstallSnapshot, "install-snapshot"},
    {MessageType::ReadIndex, "read-index"},
    {MessageType::ReadIndexResp, "read-index-resp"},
    {MessageType::TimeoutNow, "timeout-now"},
};

class SeedWriter {
 public:
  explicit SeedWriter(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // The batch, and the batch inside a signed frame.
  void batch(const std::string& name, const Batch& batch) {
    pb::Batch encoded;
    wire_codec::encode(batch, &encoded);
    wire(name, encoded);
  }

  void wire(const std::string& name, const pb::Batch& wire) {
    const std::string bytes = wire.SerializeAsString();
    write(name, bytes);
    const auto signature = make_authenticator().sign(bytes, wire.from());
    if (!signature) {
      std::fprintf(stderr, "synod_batch_seed_corpus: cannot sign\n");
      ok_ = false;
      return;
    }
    pb::Frame frame;
    frame.set_sender(wire.from());
    frame.set_batch(bytes);
    frame.mutable_signature()->set_timestamp_ms(signature->timestamp_ms);
    frame.mutable_signature()->set_nonce(signature->nonce);
    frame.mutable_signature()->set_mac(signature->mac);
    write(name + "-frame", frame.SerializeAsString());
  }

  bool ok() const { return ok_; }
  int count() const { return count_; }

 private:
  void write(const std::string& name, const std::string& bytes) {
    char prefix[8];
    std::snprintf(prefix, sizeof prefix, "%03d-", count_++);
    const std::filesystem::path path = dir_ / (prefix + name);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      std::fprintf(stderr, "synod_batch_seed_corpus: cannot write %s\n", path.c_str());
      ok_ = false;
    }
  }

  std::filesystem::path dir_;
  int count_ = 0;
  bool ok_ = true;
};

void write_seeds(SeedWriter& w) {
  Batch all{kCluster, kFrom, kTo, {}};
  PartitionId partition = 0;
  for (const auto& [type, name] : kTypes) {
    Batch one{kCluster, kFrom, kTo, {{partition, message(type)}}};
    w.batch(std::string("batch-") + name, one);
    all.envelopes.push_back({partition++, message(type)});
  }
  w.batch("batch-all", all);
  w.batch("batch-empty", Batch{kCluster, kFrom, kTo, {}});
  // The chunks of a streamed snapshot: the first (with the message) and the data.
  MemoryFiles files;
  files.file.assign(2500, 's');
  const raft::Message snapshot = message(MessageType::InstallSnapshot);
  std::string why;
  snapshot_stream::SnapshotCursor cursor(
      {Batch{kCluster, kFrom, kTo, {{3, snapshot}}}, files.open(3, snapshot.snapshot->meta, &why)},
      9, 1000);
  while (!cursor.done()) {
    pb::Batch chunk;
    cursor.next(&chunk, &why);
    w.wire("snapshot-chunk-" + std::to_string(cursor.chunks_encoded()), chunk);
  }
}

}  // namespace
}  // namespace synod::transport::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <directory>\n", argv[0]);
    return 2;
  }
  std::error_code ec;
  std::filesystem::create_directories(argv[1], ec);
  if (ec) {
    std::fprintf(stderr, "synod_batch_seed_corpus: cannot create %s: %s\n", argv[1],
                 ec.message().c_str());
    return 1;
  }
  synod::transport::fuzz::SeedWriter writer(argv[1]);
  synod::transport::fuzz::write_seeds(writer);
  if (!writer.ok()) return 1;
  std::printf("synod_batch_seed_corpus: %d seeds in %s\n", writer.count(), argv[1]);
  return 0;
}
