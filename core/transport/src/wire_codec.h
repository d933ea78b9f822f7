// Conversion between transport batches and their wire form (synod/wire.proto).
//
// Decoding treats its input as untrusted: it validates every field and reports a problem
// instead of failing. A bad header (unknown major version, missing node ids) refuses the
// whole batch; a bad envelope (unknown message or entry type, missing or inconsistent
// fields) is skipped alone and counted, so one bad message cannot silence its batch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "synod/transport/transport.h"
#include "synod/wire.pb.h"

namespace synod::transport::wire_codec {

// Major in the upper 16 bits, minor in the lower 16 (see wire.proto).
inline constexpr std::uint32_t kWireMajor = 1;
// 1.1: Signature, Frame and the SignedStream call of the shared-secret mode.
// 1.2: SnapshotChunk.
// 1.3: every snapshot streams from a file (never inline); Ack.refused.
inline constexpr std::uint32_t kWireMinor = 3;
inline constexpr std::uint32_t kWireVersion = kWireMajor << 16 | kWireMinor;

// More members than any real configuration has; a longer list is refused as absurd.
inline constexpr std::size_t kMaxConfStateNodes = 1 << 12;

// Snapshots are encoded by their metadata alone; an InstallSnapshot belongs in a first
// chunk (encode_chunk()), and a receiver skips one found among a batch's envelopes.
void encode(const Batch& batch, synod::wire::v1::Batch* out);

// An upper bound of encode(batch)'s serialized size, found without encoding, so that an
// oversized batch can be refused inside send() before it costs a copy.
std::size_t encoded_size_bound(const Batch& batch);

// One chunk of a streamed snapshot (SnapshotChunk in wire.proto), to encode.
struct ChunkRef {
  std::uint64_t transfer = 0;
  PartitionId partition = 0;
  std::uint64_t offset = 0;
  std::uint64_t total_bytes = 0;
  std::string_view data;
  // The first chunk's InstallSnapshot message; its snapshot's metadata is encoded, never
  // its data.
  const raft::Message* message = nullptr;
};

// Encodes a batch with `header`'s cluster, sender and destination (not its envelopes)
// that carries `chunk`.
void encode_chunk(const Batch& header, const ChunkRef& chunk, synod::wire::v1::Batch* out);

// A decoded SnapshotChunk.
struct Chunk {
  std::uint64_t transfer = 0;
  PartitionId partition = 0;
  std::uint64_t offset = 0;
  std::uint64_t total_bytes = 0;
  std::string data;
  // Set in a first chunk: the InstallSnapshot message, its snapshot data empty.
  std::optional<raft::Message> message;
  // A first chunk whose message could not be decoded, is not an InstallSnapshot, or
  // carries snapshot data inline; it cannot begin a transfer.
  bool malformed = false;
};

struct Decoded {
  Batch batch;
  // Envelopes that were skipped as malformed.
  std::size_t skipped = 0;
  // Set when the batch carries a snapshot chunk (and then no envelopes).
  std::optional<Chunk> chunk;
};

// Decodes `in`, moving its payloads out (it is left in a valid but unspecified state).
// Returns false, with the reason in *error, when the batch must be refused as a whole.
bool decode(synod::wire::v1::Batch& in, Decoded* out, std::string* error);

}  // namespace synod::transport::wire_codec
