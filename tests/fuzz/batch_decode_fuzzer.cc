// libFuzzer target for the wire decoders of core/transport: protobuf parsing of a Batch
// and a Frame from untrusted bytes, the frame's signature check (BatchAuthenticator) and
// wire_codec::decode. Nothing may crash, read out of bounds or leak. Input layout: see
// batch_fuzz_input.h.
//
// Checked on every input that decodes:
//   - every envelope is either decoded or counted as skipped;
//   - the decoded batch re-encodes within encoded_size_bound() (send() relies on it to
//     refuse oversized batches), and its bytes parse and decode again, with nothing
//     skipped, to an equal batch, field by field;
//   - a snapshot chunk comes alone; it re-encodes and decodes to the same chunk; fed to an
//     assembler, it begins a transfer, completes one, fails or is refused, exactly one of
//     them; and when it can begin one, the file the real sender streams under its
//     message is written and committed byte for byte, with the message unchanged;
//   - a frame whose signature verifies is refused as a replay the second time.
// A violation prints what broke and traps, so libFuzzer reports the input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <string_view>

#include "batch_authenticator.h"
#include "batch_fuzz_input.h"
#include "snapshot_stream.h"
#include "synod/wire.pb.h"
#include "wire_codec.h"

namespace synod::transport::fuzz {
namespace {

namespace pb = synod::wire::v1;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "batch_decode_fuzzer: %s\n", what.c_str());
  __builtin_trap();
}

void check(bool ok, const std::string& what) {
  if (!ok) fail(what);
}

void check_same(const raft::Message& a, const raft::Message& b, const std::string& where) {
  check(a.type == b.type, where + ": type differs");
  check(a.from == b.from && a.to == b.to, where + ": from or to differs");
  check(a.term == b.term, where + ": term differs");
  check(a.index == b.index, where + ": index differs");
  check(a.log_term == b.log_term, where + ": log_term differs");
  check(a.commit == b.commit, where + ": commit differs");
  check(a.reject == b.reject, where + ": reject differs");
  check(a.reject_hint == b.reject_hint, where + ": reject_hint differs");
  check(a.context == b.context, where + ": context differs");
  check(a.entries == b.entries, where + ": entries differ");
  check((a.snapshot == nullptr) == (b.snapshot == nullptr), where + ": snapshot presence differs");
  if (a.snapshot) check(*a.snapshot == *b.snapshot, where + ": snapshot differs");
}

void check_same(const Batch& a, const Batch& b) {
  check(a.cluster == b.cluster, "cluster differs after a round trip");
  check(a.from == b.from && a.to == b.to, "header node ids differ after a round trip");
  check(a.envelopes.size() == b.envelopes.size(), "envelope count differs after a round trip");
  for (std::size_t i = 0; i < a.envelopes.size(); ++i) {
    const std::string where = "envelope " + std::to_string(i) + " after a round trip";
    check(a.envelopes[i].partition == b.envelopes[i].partition, where + ": partition differs");
    check_same(a.envelopes[i].message, b.envelopes[i].message, where);
  }
}

void check_same(const wire_codec::Chunk& a, const wire_codec::Chunk& b) {
  check(a.transfer == b.transfer && a.partition == b.partition && a.offset == b.offset &&
            a.total_bytes == b.total_bytes && a.data == b.data,
        "chunk fields differ after a round trip");
  check(a.malformed == b.malformed, "chunk validity differs after a round trip");
  check(a.message.has_value() == b.message.has_value(), "chunk message presence differs");
  if (a.message) check_same(*a.message, *b.message, "chunk message after a round trip");
}

wire_codec::Chunk decode_chunk(const pb::Batch& wire) {
  pb::Batch copy = wire;
  wire_codec::Decoded decoded;
  std::string error;
  check(wire_codec::decode(copy, &decoded, &error), "a chunk the sender made is refused: " + error);
  check(decoded.chunk.has_value(), "a chunk the sender made decodes as no chunk");
  return std::move(*decoded.chunk);
}

void fuzz_chunk(const wire_codec::Chunk& chunk, const Batch& header) {
  if (!chunk.malformed) {
    pb::Batch again;
    wire_codec::encode_chunk(header,
                             {chunk.transfer, chunk.partition, chunk.offset, chunk.total_bytes,
                              chunk.data, chunk.message ? &*chunk.message : nullptr},
                             &again);
    check_same(chunk, decode_chunk(again));
  }

  // Alone: exactly one outcome.
  constexpr std::uint64_t kMaxSnapshot = 1 << 16;
  {
    MemoryFiles files;
    snapshot_stream::SnapshotAssembler assembler(kMaxSnapshot);
    const auto step = assembler.add(wire_codec::Chunk(chunk), &files);
    const int outcomes = int{step.refused} + int{step.failed} + int{step.complete.has_value()} +
                         int{assembler.in_progress()};
    check(outcomes == 1, "a chunk is not exactly one of refused, failed, complete or kept");
    check(!step.abandoned, "a first chunk abandoned a transfer that was not there");
  }
  if (!chunk.message || chunk.malformed || chunk.total_bytes > kMaxSnapshot ||
      !chunk.data.empty() || chunk.offset != 0) {
    return;
  }
  // A real transfer of a file of this first chunk's size under its message: the file
  // written must equal it, and the message come out unchanged.
  MemoryFiles sender;
  sender.file.resize(chunk.total_bytes);
  for (std::size_t i = 0; i < sender.file.size(); ++i) sender.file[i] = static_cast<char>(i * 7 + 1);
  const Envelope envelope{chunk.partition, *chunk.message};
  std::string why;
  snapshot_stream::SnapshotCursor cursor(
      {Batch{header.cluster, header.from, header.to, {envelope}},
       sender.open(envelope.partition, envelope.message.snapshot->meta, &why)},
      chunk.transfer, 1000);
  MemoryFiles receiver;
  snapshot_stream::SnapshotAssembler assembler(kMaxSnapshot);
  std::optional<Envelope> complete;
  while (!cursor.done()) {
    pb::Batch wire;
    check(cursor.next(&wire, &why), "a file in memory cannot be read: " + why);
    auto step = assembler.add(decode_chunk(wire), &receiver);
    check(!step.refused && !step.failed && !step.abandoned,
          "a chunk of a real transfer is refused");
    check(step.complete.has_value() == cursor.done(), "a transfer completes early or not at all");
    if (step.complete) complete = std::move(step.complete);
  }
  check(complete && complete->partition == envelope.partition, "a transfer lost its partition");
  check_same(complete->message, envelope.message, "a transferred snapshot's message");
  check(receiver.committed && receiver.received == sender.file, "a transferred file differs");
}

void fuzz_batch(std::string_view bytes) {
  pb::Batch wire;
  if (!wire.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return;
  const auto envelopes = static_cast<std::size_t>(wire.envelopes_size());
  wire_codec::Decoded first;
  std::string error;
  if (!wire_codec::decode(wire, &first, &error)) {
    check(!error.empty(), "refusal without a reason");
    return;
  }
  check(first.batch.envelopes.size() + first.skipped == envelopes,
        "envelopes neither decoded nor skipped");
  if (first.chunk) {
    check(envelopes == 0, "a batch with envelopes and a chunk was decoded");
    fuzz_chunk(*first.chunk, first.batch);
    return;
  }

  pb::Batch again;
  wire_codec::encode(first.batch, &again);
  const std::string encoded = again.SerializeAsString();
  check(encoded.size() <= wire_codec::encoded_size_bound(first.batch),
        "encoded size " + std::to_string(encoded.size()) + " beyond encoded_size_bound " +
            std::to_string(wire_codec::encoded_size_bound(first.batch)));
  pb::Batch reparsed;
  check(reparsed.ParseFromString(encoded), "an encoded batch does not parse");
  wire_codec::Decoded second;
  check(wire_codec::decode(reparsed, &second, &error), "a re-encoded batch is refused: " + error);
  check(second.skipped == 0, "a re-encoded envelope is skipped");
  check_same(first.batch, second.batch);
}

void fuzz_frame(std::string_view bytes) {
  pb::Frame frame;
  if (!frame.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return;
  if (frame.has_signature()) {
    const pb::Signature& wire = frame.signature();
    const Signature signature{wire.timestamp_ms(), wire.nonce(), wire.mac()};
    BatchAuthenticator authenticator = make_authenticator();
    const auto verdict = authenticator.verify(frame.batch(), frame.sender(), signature);
    if (verdict == BatchAuthenticator::Verdict::Ok) {
      check(authenticator.verify(frame.batch(), frame.sender(), signature) ==
                BatchAuthenticator::Verdict::Replayed,
            "a verified frame is accepted twice");
    }
  }
  fuzz_batch(frame.batch());
}

}  // namespace
}  // namespace synod::transport::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace synod::transport::fuzz;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  fuzz_batch(bytes);
  fuzz_frame(bytes);
  return 0;
}
