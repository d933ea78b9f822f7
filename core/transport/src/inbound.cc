#include "inbound.h"

#include <string>
#include <utility>

#include "wire_codec.h"

namespace synod::transport {

Inbound::Inbound(const NetworkTransportOptions& options, BatchAuthenticator* authenticator,
                 EndpointState& state, Counters& counters, const LinkSet& links,
                 const std::atomic<SnapshotFiles*>& files)
    : options_(options),
      authenticator_(authenticator),
      state_(state),
      counters_(counters),
      links_(links),
      files_(files) {}

Inbound::Result Inbound::refuse(Counter reason) {
  if (!state_.running()) return {Verdict::NotRunning};
  counters_.add(reason);
  return {Verdict::Refused, reason};
}

void Inbound::count_abandoned() { counters_.add(&TransportStats::snapshot_transfers_abandoned); }

void Inbound::abandon_all() {
  std::lock_guard lock(senders_mu_);
  for (auto& [node, sender] : senders_) {
    std::lock_guard one_at_a_time(sender.order);
    if (sender.assembler.abandon()) count_abandoned();
  }
}

std::optional<Inbound::Result> Inbound::authenticate(std::string_view bytes, NodeId sender,
                                                     const Signature& signature) {
  switch (authenticator_->verify(bytes, sender, signature)) {
    case BatchAuthenticator::Verdict::Ok:
      return std::nullopt;
    case BatchAuthenticator::Verdict::BadSignature:
      return refuse(&TransportStats::refused_bad_signature);
    case BatchAuthenticator::Verdict::Stale:
      return refuse(&TransportStats::refused_stale);
    case BatchAuthenticator::Verdict::Replayed:
      return refuse(&TransportStats::refused_replayed);
    case BatchAuthenticator::Verdict::CacheFull:
      return refuse(&TransportStats::refused_replay_cache_full);
  }
  return refuse(&TransportStats::refused_bad_signature);
}

Inbound::Sender& Inbound::sender(NodeId node) {
  std::lock_guard lock(senders_mu_);
  return senders_.try_emplace(node, options_.max_snapshot_bytes).first->second;
}

Inbound::Result Inbound::receive(synod::wire::v1::Batch& wire, std::optional<NodeId> signed_by,
                                 snapshot_stream::SnapshotAssembler* assembler) {
  // The signer vouched for its own id; a batch claiming another is not what was signed.
  if (signed_by && wire.from() != *signed_by) return refuse(&TransportStats::refused_malformed);
  // Before decoding, which moves the payloads out of `wire`.
  const std::size_t bytes = wire.ByteSizeLong();
  wire_codec::Decoded decoded;
  std::string error;
  if (!wire_codec::decode(wire, &decoded, &error))
    return refuse(&TransportStats::refused_malformed);
  const Batch& batch = decoded.batch;
  if (batch.cluster != options_.cluster) return refuse(&TransportStats::refused_foreign_cluster);
  if (!links_.knows(batch.from)) return refuse(&TransportStats::refused_unknown_sender);
  if (batch.to != options_.self) return refuse(&TransportStats::refused_wrong_destination);

  Sender& from = sender(batch.from);
  std::lock_guard one_at_a_time(from.order);
  if (decoded.chunk) {
    if (!state_.running()) return {Verdict::NotRunning};
    const auto step =
        (assembler ? *assembler : from.assembler).add(std::move(*decoded.chunk), files_.load());
    counters_.update([&](TransportStats& s) {
      ++s.snapshot_chunks_received;
      s.snapshot_bytes_received += step.written;
      s.bytes_received += step.refused || step.failed ? 0 : bytes;
      s.messages_malformed += step.refused ? 1 : 0;
      s.snapshot_transfers_refused += step.failed ? 1 : 0;
      s.snapshot_transfers_abandoned += step.abandoned ? 1 : 0;
    });
    if (step.refused) return {Verdict::BadChunk};
    if (step.failed) return {Verdict::SnapshotRefused};
    if (!step.complete) return {Verdict::Held};
    decoded.batch.envelopes.push_back(std::move(*step.complete));
  }
  const std::size_t messages = decoded.batch.envelopes.size();
  const bool delivered = state_.deliver(std::move(decoded.batch), [&] {
    counters_.update([&](TransportStats& s) {
      ++s.batches_received;
      s.messages_received += messages;
      // A completed snapshot's bytes were counted with its chunk.
      s.bytes_received += decoded.chunk ? 0 : bytes;
      s.messages_malformed += decoded.skipped;
    });
  });
  return {delivered ? Verdict::Delivered : Verdict::NotRunning};
}

}  // namespace synod::transport
