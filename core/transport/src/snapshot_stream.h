// Streaming snapshots in chunks (SnapshotChunk in synod/wire.proto), shared by the
// network transports.
//
// Every InstallSnapshot leaves its batch and travels on its own: send() opens the
// snapshot's file (SnapshotFiles::open()), the sender's SnapshotCursor reads it one chunk
// at a time into chunk batches, which the link sends in order, interleaved with the
// peer's other batches so that a long transfer delays no partition's heartbeats. The
// receiver's SnapshotAssembler writes the chunks of one sender into a file
// (SnapshotFiles::receive()), commits it, and only then yields the InstallSnapshot
// envelope. Neither end holds more of a snapshot than a chunk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "counters.h"
#include "synod/transport/snapshot_files.h"
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

// Moves the InstallSnapshot envelopes of `batch` out, each into a batch of its own with
// the same header, in their order.
std::vector<Batch> take_snapshots(Batch& batch);

// Whether the first chunk of a batch from take_snapshots() (its message, without data)
// fits in max_message_bytes.
bool first_chunk_fits(const Batch& transfer, const Limits& limits);

// A snapshot on its way out: its batch from take_snapshots() and its file, open.
struct Transfer {
  Batch batch;
  std::unique_ptr<SnapshotFileReader> reader;
};

// Opens the file of the snapshot in `transfer` from `files` (which may be null). Without
// a reader, `*failure` tells the drop counter: no files or no file
// (dropped_snapshot_unavailable), or a file above max_snapshot_bytes (dropped_too_large).
std::unique_ptr<SnapshotFileReader> open(const Batch& transfer, SnapshotFiles* files,
                                         const Limits& limits, Counter* failure);

// Reads one snapshot's file into chunk batches: the first carries the message and the
// file's size, each of the others up to chunk_bytes of the file, read as it is encoded.
class SnapshotCursor {
 public:
  // `id` names the transfer on the wire.
  SnapshotCursor(Transfer transfer, std::uint64_t id, std::size_t chunk_bytes);

  bool done() const { return sent_first_ && offset_ == size_; }
  std::uint64_t id() const { return id_; }
  // The batch the transfer came in, to report it.
  Batch& transfer() { return transfer_.batch; }
  // Encodes the next chunk, reading its data; done() must be false. The last one makes
  // done() true. False, with `*why`, when the file cannot be read or ends early.
  bool next(synod::wire::v1::Batch* out, std::string* why);
  // Chunks encoded so far.
  std::size_t chunks_encoded() const { return chunks_; }
  // Bytes of the file encoded so far.
  std::uint64_t offset() const { return offset_; }

 private:
  Transfer transfer_;
  std::uint64_t id_;
  std::size_t chunk_bytes_;
  std::uint64_t size_;
  std::uint64_t offset_ = 0;
  bool sent_first_ = false;
  std::size_t chunks_ = 0;
};

// Writes the snapshots streamed by one sender into files, whose chunks it is given in
// the order they were sent. Holds one transfer at a time; not thread-safe.
class SnapshotAssembler {
 public:
  explicit SnapshotAssembler(std::uint64_t max_snapshot_bytes)
      : max_snapshot_bytes_(max_snapshot_bytes) {}

  struct Step {
    // The chunk completed its transfer and the file is committed: the InstallSnapshot
    // envelope (its snapshot without data).
    std::optional<Envelope> complete;
    // The chunk cannot be used: malformed, bigger than allowed, or not continuing the
    // transfer in progress.
    bool refused = false;
    // The snapshot cannot be stored: no files, SnapshotFiles::receive() refused, or a write
    // or the commit failed (`why` tells). The transfer is over, its writer destroyed.
    bool failed = false;
    std::string why;
    // An unfinished transfer was given up (the chunk was refused or began another).
    bool abandoned = false;
    // Bytes of the chunk written into the file.
    std::size_t written = 0;
  };

  // `files`: where a first chunk's snapshot goes (may be null: the transfer then fails).
  Step add(wire_codec::Chunk&& chunk, SnapshotFiles* files);
  // Gives up the transfer in progress (its link ended), destroying its writer; true if
  // there was one.
  bool abandon();
  bool in_progress() const { return partial_.has_value(); }

 private:
  struct Partial {
    std::uint64_t transfer;
    Envelope envelope;
    std::uint64_t total_bytes;
    std::uint64_t written;
    std::unique_ptr<SnapshotFileWriter> writer;
  };

  Step begin(wire_codec::Chunk&& chunk, SnapshotFiles* files);
  // Commits the transfer once all of its bytes are written.
  void finish_if_whole(Step& step);

  std::uint64_t max_snapshot_bytes_;
  std::optional<Partial> partial_;
};

}  // namespace synod::transport::snapshot_stream
