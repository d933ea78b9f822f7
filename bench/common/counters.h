// The store and transport counters of one node, or summed over several, and how the
// benchmarks print them.
#pragma once

#include <cstdint>
#include <cstdio>

#include "synod/storage/durable_log_store.h"
#include "synod/storage/log_store.h"
#include "synod/transport/transport.h"

namespace synod::bench {

struct Counters {
  std::uint64_t store_batches = 0;
  std::uint64_t entries = 0;
  std::uint64_t syncs = 0;
  std::uint64_t net_batches = 0;
  std::uint64_t messages = 0;
  std::uint64_t net_dropped = 0;     // batches lost on the way, for any reason
  std::uint64_t net_queue_full = 0;  // of which: the link's queue was full
  std::uint64_t elections = 0;       // partitions that got a new leader

  Counters operator-(const Counters& o) const {
    return {store_batches - o.store_batches,   entries - o.entries,    syncs - o.syncs,
            net_batches - o.net_batches,       messages - o.messages,  net_dropped - o.net_dropped,
            net_queue_full - o.net_queue_full, elections - o.elections};
  }
  Counters& operator+=(const Counters& o) {
    store_batches += o.store_batches;
    entries += o.entries;
    syncs += o.syncs;
    net_batches += o.net_batches;
    messages += o.messages;
    net_dropped += o.net_dropped;
    net_queue_full += o.net_queue_full;
    elections += o.elections;
    return *this;
  }
};

// One node's counters. The caller counts elections.
inline Counters counters_of(const storage::LogStore& store, const transport::TransportStats& t) {
  Counters c;
  c.store_batches = store.batches();
  c.entries = store.entries_written();
  // A durable store counts the syncs that reached the disk (concurrent writers share).
  const auto* durable = dynamic_cast<const storage::DurableLogStore*>(&store);
  c.syncs = (durable ? durable->engine_syncs() : store.syncs());
  c.net_batches = t.batches_sent;
  c.messages = t.messages_sent;
  c.net_dropped = t.dropped_peer_unknown + t.dropped_peer_down + t.dropped_queue_full +
                  t.dropped_link_cut + t.dropped_fault + t.dropped_stopped + t.dropped_too_large +
                  t.dropped_snapshot_unavailable;
  c.net_queue_full = t.dropped_queue_full;
  return c;
}

// The storage and network lines for counters gathered over `elapsed` seconds, each line
// starting with `indent`.
inline void print_counters(const Counters& c, double elapsed, const char* indent) {
  auto ratio = [](std::uint64_t a, std::uint64_t b) {
    return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b);
  };
  std::printf("%sstorage:    %.1f entries per batch (%llu batches, %.0f/s; %.0f syncs/s)\n", indent,
              ratio(c.entries, c.store_batches), static_cast<unsigned long long>(c.store_batches),
              static_cast<double>(c.store_batches) / elapsed,
              static_cast<double>(c.syncs) / elapsed);
  std::printf(
      "%snetwork:    %.1f messages per batch (%llu batches, %.0f/s; %.0f messages/s; "
      "%llu batches dropped, %llu on a full link queue)\n",
      indent, ratio(c.messages, c.net_batches), static_cast<unsigned long long>(c.net_batches),
      static_cast<double>(c.net_batches) / elapsed, static_cast<double>(c.messages) / elapsed,
      static_cast<unsigned long long>(c.net_dropped),
      static_cast<unsigned long long>(c.net_queue_full));
}

}  // namespace synod::bench
