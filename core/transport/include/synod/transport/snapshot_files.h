// SnapshotFiles: where a transport reads the snapshots it sends and writes the ones it
// receives, so that no snapshot is ever held whole in memory.
//
// An InstallSnapshot message names its snapshot by (partition, meta); its data field is
// empty. Sending one, the transport opens the snapshot's file and streams it in chunks
// (network transports) or copies it (in-memory transport) into a writer the receiving
// node's SnapshotFiles gives; once the writer commits (the file is whole and checked), the
// message is delivered. The runtime implements this over its snapshot store.
//
// A transport calls these from its own threads (network transports open() inside send()
// and read on the peer's link thread; receive() and the writer run on the thread that
// handles the sender's chunks; the in-memory transport does both on delivery). Readers
// and writers may be destroyed on another thread than the one that used them, but are
// never used by two at once; the transport destroys them all before stop() returns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "synod/raft/types.h"

namespace synod::transport {

// Reads one snapshot file from its beginning. One thread at a time.
class SnapshotFileReader {
 public:
  virtual ~SnapshotFileReader() = default;
  // Size of the whole file.
  virtual std::uint64_t size() const = 0;
  // Reads up to `size` bytes and sets `*got` (0 at the end); false with `*why` set when
  // the file cannot be read.
  virtual bool read(void* out, std::size_t size, std::size_t* got, std::string* why) = 0;
};

// Writes one received snapshot file. Destroying it without a successful commit() deletes
// what was written. One thread at a time.
class SnapshotFileWriter {
 public:
  virtual ~SnapshotFileWriter() = default;
  virtual bool write(const void* data, std::size_t size, std::string* why) = 0;
  // Checks the file (whole, checksum, names the partition and the metadata announced),
  // makes it durable and visible; false with `*why` set when it fails a check.
  virtual bool commit(std::string* why) = 0;
};

// Thread-safe.
class SnapshotFiles {
 public:
  virtual ~SnapshotFiles() = default;
  // The file of the snapshot this node sends for `partition` at `meta`; nullptr with
  // `*why` set when there is none (the transfer then fails and is reported).
  virtual std::unique_ptr<SnapshotFileReader> open(std::uint64_t partition,
                                                   const raft::SnapshotMeta& meta,
                                                   std::string* why) = 0;
  // A writer for a snapshot file of `file_bytes` bytes arriving for `partition` at
  // `meta` (the size the sender announced; the writer is given that many bytes before
  // commit(), unless the transfer fails first); nullptr with `*why` set to refuse it
  // (too large, no room).
  virtual std::unique_ptr<SnapshotFileWriter> receive(std::uint64_t partition,
                                                      const raft::SnapshotMeta& meta,
                                                      std::uint64_t file_bytes,
                                                      std::string* why) = 0;
};

}  // namespace synod::transport
