#include "snapshot_stream.h"

#include <algorithm>
#include <memory>
#include <utility>

namespace synod::transport::snapshot_stream {
namespace {

// What a transfer reserves up front: a declared size is only a claim until the data
// comes, so a bigger snapshot grows its buffer as chunks arrive.
constexpr std::size_t kMaxReserve = 64 << 20;

}  // namespace

std::string check_options(std::size_t chunk_bytes, std::uint64_t max_snapshot_bytes,
                          std::size_t max_message_bytes) {
  if (max_message_bytes < kMinMessageBytes) {
    return "max_message_bytes must be at least " + std::to_string(kMinMessageBytes);
  }
  if (chunk_bytes == 0) return "snapshot_chunk_bytes is 0";
  if (max_snapshot_bytes == 0) return "max_snapshot_bytes is 0";
  return {};
}


bool is_streamed(const Envelope& envelope, std::size_t chunk_bytes) {
  const raft::Message& m = envelope.message;
  return m.type == raft::MessageType::InstallSnapshot && m.snapshot &&
         m.snapshot->data.size() > chunk_bytes;
}

std::vector<Batch> take_streamed(Batch& batch, std::size_t chunk_bytes) {
  std::vector<Batch> streamed;
  auto kept = batch.envelopes.begin();
  for (auto it = batch.envelopes.begin(); it != batch.envelopes.end(); ++it) {
    if (is_streamed(*it, chunk_bytes)) {
      streamed.push_back(Batch{batch.cluster, batch.from, batch.to, {}});
      streamed.back().envelopes.push_back(std::move(*it));
    } else {
      if (kept != it) *kept = std::move(*it);
      ++kept;
    }
  }
  batch.envelopes.erase(kept, batch.envelopes.end());
  return streamed;
}

std::size_t snapshot_bytes(const Batch& transfer) {
  return transfer.envelopes.at(0).message.snapshot->data.size();
}

bool transfer_fits(const Batch& transfer, const Limits& limits) {
  const std::size_t data = snapshot_bytes(transfer);
  return data <= limits.max_snapshot_bytes &&
         wire_codec::encoded_size_bound(transfer) - data + kChunkOverhead <=
             limits.max_message_bytes;
}

SnapshotCursor::SnapshotCursor(Batch transfer, std::uint64_t id, std::size_t chunk_bytes)
    : transfer_(std::move(transfer)),
      id_(id),
      chunk_bytes_(chunk_bytes),
      chunk_count_(1 + (snapshot_bytes(transfer_) + chunk_bytes - 1) / chunk_bytes) {}

void SnapshotCursor::next(synod::wire::v1::Batch* out) {
  const Envelope& envelope = transfer_.envelopes.front();
  const std::string_view data = envelope.message.snapshot->data.view();
  wire_codec::ChunkRef chunk;
  chunk.transfer = id_;
  chunk.partition = envelope.partition;
  chunk.total_bytes = data.size();
  if (next_chunk_ == 0) {
    chunk.message = &envelope.message;
  } else {
    chunk.offset = (next_chunk_ - 1) * chunk_bytes_;
    chunk.data = data.substr(chunk.offset, chunk_bytes_);
  }
  wire_codec::encode_chunk(transfer_, chunk, out);
  ++next_chunk_;
}

SnapshotAssembler::Step SnapshotAssembler::add(wire_codec::Chunk&& chunk) {
  if (chunk.message || chunk.malformed) return begin(std::move(chunk));
  Step step;
  const bool continues = partial_ && chunk.transfer == partial_->transfer &&
                         chunk.offset == partial_->data.size() && !chunk.data.empty() &&
                         chunk.data.size() <= partial_->total_bytes - partial_->data.size();
  if (!continues) {
    step.refused = true;
    step.abandoned = abandon();
    return step;
  }
  partial_->data.append(chunk.data);
  if (partial_->data.size() < partial_->total_bytes) return step;
  Partial done = std::move(*partial_);
  partial_.reset();
  auto snapshot = std::make_shared<raft::Snapshot>(*done.envelope.message.snapshot);
  snapshot->data = raft::Bytes(std::move(done.data));
  done.envelope.message.snapshot = std::move(snapshot);
  step.complete = std::move(done.envelope);
  return step;
}

SnapshotAssembler::Step SnapshotAssembler::begin(wire_codec::Chunk&& chunk) {
  Step step;
  step.abandoned = abandon();
  // A first chunk carries no data; a snapshot without data would not have been streamed.
  if (chunk.malformed || chunk.offset != 0 || !chunk.data.empty() || chunk.total_bytes == 0 ||
      chunk.total_bytes > max_snapshot_bytes_) {
    step.refused = true;
    return step;
  }
  Partial partial{chunk.transfer, Envelope{chunk.partition, std::move(*chunk.message)},
                  chunk.total_bytes, {}};
  partial.data.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(chunk.total_bytes, kMaxReserve)));
  partial_ = std::move(partial);
  return step;
}

bool SnapshotAssembler::abandon() {
  const bool had = partial_.has_value();
  partial_.reset();
  return had;
}

}  // namespace synod::transport::snapshot_stream
