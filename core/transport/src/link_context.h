// What the peer links of one network endpoint share: the transport's wire, the limits
// and back-off from the options, the snapshot files, the counters and the notifier, and
// how a batch that will not arrive is accounted for.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "counters.h"
#include "link_session.h"
#include "notifier.h"
#include "snapshot_stream.h"

namespace synod::transport {

struct LinkContext {
  Wire* wire = nullptr;  // set before the links start
  Counters& counters;
  Notifier& notifier;
  snapshot_stream::Limits limits;
  std::size_t max_queued_batches;
  std::chrono::milliseconds reconnect_min;
  std::chrono::milliseconds reconnect_max;
  // Names streamed snapshots on the wire.
  std::atomic<std::uint64_t> transfers_begun{0};
  // Set by set_snapshot_files(), read by senders and the inbound side.
  std::atomic<SnapshotFiles*> files{nullptr};

  // Counts a batch that will not arrive, and reports it (notifier.h).
  void lose(Counter reason, Batch&& batch, bool unreachable) {
    counters.update([&](TransportStats& s) {
      ++(s.*reason);
      s.messages_dropped += batch.envelopes.size();
    });
    notifier.lost(std::move(batch), unreachable);
  }
  void count_sent(const Batch& batch) {
    counters.update([&](TransportStats& s) {
      ++s.batches_sent;
      s.messages_sent += batch.envelopes.size();
    });
  }
};

}  // namespace synod::transport
