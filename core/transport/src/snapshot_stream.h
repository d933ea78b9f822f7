// Streaming snapshots in chunks (SnapshotChunk in synod/wire.proto), shared by the
// network transports.
//
// A snapshot whose data is bigger than the chunk size leaves its batch and travels on its
// own: the sender's SnapshotCursor cuts it into chunk batches, which the transport sends
// in order on the link to the peer, interleaved with the peer's other batches so that a
// long transfer delays no partition's heartbeats. The receiver's SnapshotAssembler puts
// the chunks of one sender back together and yields the InstallSnapshot envelope whole.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "synod/transport/transport.h"
#include "synod/wire.pb.h"
#include "wire_codec.h"

namespace synod::transport::snapshot_stream {

// Room a chunk batch needs besides its data (header, chunk fields, length prefixes).
inline constexpr std::size_t kChunkOverhead = 256;
// The smallest max_message_bytes a network transport takes: a chunk must fit.
inline constexpr std::size_t kMinMessageBytes = 4096;

// The chunk size a transport uses: as configured, but small enough that a chunk batch
// fits in max_message_bytes (at least kMinMessageBytes).
inline std::size_t chunk_size(std::size_t configured, std::size_t max_message_bytes) {
  return configured < max_message_bytes - kChunkOverhead ? configured
                                                         : max_message_bytes - kChunkOverhead;
}

// Checks the snapshot options of a network transport; empty when they are fine.
std::string check_options(std::size_t chunk_bytes, std::uint64_t max_snapshot_bytes,
                          std::size_t max_message_bytes);

// What a network transport may send.
struct Limits {
  std::size_t chunk_bytes;  // from chunk_size()
  std::uint64_t max_snapshot_bytes;
  std::size_t max_message_bytes;
};

// Whether `envelope` carries a snapshot with more than `chunk_bytes` of data.
bool is_streamed(const Envelope& envelope, std::size_t chunk_bytes);

// Moves the envelopes of `batch` that stream out of it, each into a batch of its own with
// the same header, in their order.
std::vector<Batch> take_streamed(Batch& batch, std::size_t chunk_bytes);

// Bytes of snapshot data in a batch from take_streamed().
std::size_t snapshot_bytes(const Batch& transfer);

// Whether a batch from take_streamed() may be sent: its data within max_snapshot_bytes,
// its first chunk (the message without data) within max_message_bytes.
bool transfer_fits(const Batch& transfer, const Limits& limits);

// Splits an outgoing batch: calls enqueue(Batch&&, bool fits, bool streamed) for what
// stays of it (unless it held streamed snapshots only), then for each snapshot that
// streams, in order; `fits` tells whether the part is within `limits`.
template <typename Enqueue>
void split(Batch&& batch, const Limits& limits, Enqueue&& enqueue) {
  std::vector<Batch> snapshots = take_streamed(batch, limits.chunk_bytes);
  if (!batch.envelopes.empty() || snapshots.empty()) {
    const bool fits = wire_codec::encoded_size_bound(batch) <= limits.max_message_bytes;
    enqueue(std::move(batch), fits, false);
  }
  for (Batch& snapshot : snapshots) {
    const bool fits = transfer_fits(snapshot, limits);
    enqueue(std::move(snapshot), fits, true);
  }
}

// Cuts one streamed snapshot into chunk batches: the first carries the message, each of
// the others up to chunk_bytes of data.
class SnapshotCursor {
 public:
  // `transfer` holds one envelope, for which is_streamed() holds; `id` names the transfer
  // on the wire.
  SnapshotCursor(Batch transfer, std::uint64_t id, std::size_t chunk_bytes);

  bool done() const { return next_chunk_ == chunk_count_; }
  // The batch the transfer came in, to report it lost.
  Batch& transfer() { return transfer_; }
  // Encodes the next chunk; done() must be false. The last one makes done() true.
  void next(synod::wire::v1::Batch* out);
  // Chunks encoded so far.
  std::size_t chunks_encoded() const { return next_chunk_; }

 private:
  Batch transfer_;
  std::uint64_t id_;
  std::size_t chunk_bytes_;
  std::size_t next_chunk_ = 0;
  std::size_t chunk_count_;
};

// Reassembles the snapshots streamed by one sender, whose chunks it is given in the order
// they were sent. Holds one transfer at a time; not thread-safe.
class SnapshotAssembler {
 public:
  explicit SnapshotAssembler(std::uint64_t max_snapshot_bytes)
      : max_snapshot_bytes_(max_snapshot_bytes) {}

  struct Step {
    // The chunk completed its transfer: the InstallSnapshot envelope, data and all.
    std::optional<Envelope> complete;
    // The chunk cannot be used: malformed, bigger than allowed, or not continuing the
    // transfer in progress.
    bool refused = false;
    // An unfinished transfer was given up (the chunk was refused or began another).
    bool abandoned = false;
  };

  Step add(wire_codec::Chunk&& chunk);
  // Gives up the transfer in progress (its link ended); true if there was one.
  bool abandon();
  bool in_progress() const { return partial_.has_value(); }

 private:
  struct Partial {
    std::uint64_t transfer;
    Envelope envelope;
    std::uint64_t total_bytes;
    std::string data;
  };

  Step begin(wire_codec::Chunk&& chunk);

  std::uint64_t max_snapshot_bytes_;
  std::optional<Partial> partial_;
};

}  // namespace synod::transport::snapshot_stream
