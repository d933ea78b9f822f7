#include "snapshot_stream.h"

#include <algorithm>
#include <utility>

namespace synod::transport::snapshot_stream {

std::string check_options(std::size_t chunk_bytes, std::uint64_t max_snapshot_bytes,
                          std::size_t max_message_bytes) {
  if (max_message_bytes < kMinMessageBytes) {
    return "max_message_bytes must be at least " + std::to_string(kMinMessageBytes);
  }
  if (chunk_bytes == 0) return "snapshot_chunk_bytes is 0";
  if (max_snapshot_bytes == 0) return "max_snapshot_bytes is 0";
  return {};
}

std::vector<Batch> take_snapshots(Batch& batch) {
  std::vector<Batch> snapshots;
  auto kept = batch.envelopes.begin();
  for (auto it = batch.envelopes.begin(); it != batch.envelopes.end(); ++it) {
    if (it->message.type == raft::MessageType::InstallSnapshot) {
      snapshots.push_back(Batch{batch.cluster, batch.from, batch.to, {}});
      snapshots.back().envelopes.push_back(std::move(*it));
    } else {
      if (kept != it) *kept = std::move(*it);
      ++kept;
    }
  }
  batch.envelopes.erase(kept, batch.envelopes.end());
  return snapshots;
}

bool first_chunk_fits(const Batch& transfer, const Limits& limits) {
  return wire_codec::encoded_size_bound(transfer) + kChunkOverhead <= limits.max_message_bytes;
}

std::unique_ptr<SnapshotFileReader> open(const Batch& transfer, SnapshotFiles* files,
                                         const Limits& limits, Counter* failure) {
  *failure = &TransportStats::dropped_snapshot_unavailable;
  const Envelope& envelope = transfer.envelopes.at(0);
  if (!files || !envelope.message.snapshot) return nullptr;
  std::string why;
  auto reader = files->open(envelope.partition, envelope.message.snapshot->meta, &why);
  if (!reader) return nullptr;
  if (reader->size() > limits.max_snapshot_bytes) {
    *failure = &TransportStats::dropped_too_large;
    return nullptr;
  }
  return reader;
}

SnapshotCursor::SnapshotCursor(Transfer transfer, std::uint64_t id, std::size_t chunk_bytes)
    : transfer_(std::move(transfer)),
      id_(id),
      chunk_bytes_(chunk_bytes),
      size_(transfer_.reader->size()) {}

bool SnapshotCursor::next(synod::wire::v1::Batch* out, std::string* why) {
  const Envelope& envelope = transfer_.batch.envelopes.front();
  wire_codec::ChunkRef chunk;
  chunk.transfer = id_;
  chunk.partition = envelope.partition;
  chunk.total_bytes = size_;
  chunk.offset = offset_;
  if (!sent_first_) chunk.message = &envelope.message;
  wire_codec::encode_chunk(transfer_.batch, chunk, out);
  if (sent_first_) {
    // Read straight into the chunk, so that the data is copied once.
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_bytes_, size_ - offset_));
    std::string& data = *out->mutable_snapshot_chunk()->mutable_data();
    data.resize(want);
    std::size_t have = 0;
    while (have < want) {
      std::size_t got = 0;
      if (!transfer_.reader->read(data.data() + have, want - have, &got, why)) return false;
      if (got == 0) {
        *why = "the snapshot file ends before its " + std::to_string(size_) + " bytes";
        return false;
      }
      have += got;
    }
    offset_ += want;
  }
  sent_first_ = true;
  ++chunks_;
  return true;
}

SnapshotAssembler::Step SnapshotAssembler::add(wire_codec::Chunk&& chunk, SnapshotFiles* files) {
  if (chunk.message || chunk.malformed) return begin(std::move(chunk), files);
  Step step;
  const bool continues = partial_ && chunk.transfer == partial_->transfer &&
                         chunk.offset == partial_->written && !chunk.data.empty() &&
                         chunk.data.size() <= partial_->total_bytes - partial_->written;
  if (!continues) {
    step.refused = true;
    step.abandoned = abandon();
    return step;
  }
  if (!partial_->writer->write(chunk.data.data(), chunk.data.size(), &step.why)) {
    step.failed = true;
    partial_.reset();
    return step;
  }
  step.written = chunk.data.size();
  partial_->written += chunk.data.size();
  finish_if_whole(step);
  return step;
}

SnapshotAssembler::Step SnapshotAssembler::begin(wire_codec::Chunk&& chunk, SnapshotFiles* files) {
  Step step;
  step.abandoned = abandon();
  // A first chunk carries no data.
  if (chunk.malformed || chunk.offset != 0 || !chunk.data.empty() ||
      chunk.total_bytes > max_snapshot_bytes_) {
    step.refused = true;
    return step;
  }
  if (!files) {
    step.failed = true;
    step.why = "no snapshot files";
    return step;
  }
  auto writer = files->receive(chunk.partition, chunk.message->snapshot->meta, chunk.total_bytes,
                               &step.why);
  if (!writer) {
    step.failed = true;
    return step;
  }
  partial_ = Partial{chunk.transfer, Envelope{chunk.partition, std::move(*chunk.message)},
                     chunk.total_bytes, 0, std::move(writer)};
  // An empty file is whole at once.
  finish_if_whole(step);
  return step;
}

void SnapshotAssembler::finish_if_whole(Step& step) {
  if (partial_->written < partial_->total_bytes) return;
  Partial done = std::move(*partial_);
  partial_.reset();
  if (!done.writer->commit(&step.why)) {
    step.failed = true;
    return;
  }
  step.complete = std::move(done.envelope);
}

bool SnapshotAssembler::abandon() {
  const bool had = partial_.has_value();
  partial_.reset();
  return had;
}

}  // namespace synod::transport::snapshot_stream
