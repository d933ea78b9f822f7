#include "node_metrics.h"

#include <string>

#include "liveness.h"
#include "partition_table.h"

namespace synod::node {
namespace {

using metrics::CounterSink;
using metrics::exponential_bounds;
using metrics::GaugeSink;
using metrics::Registry;

// A request latency: 100 µs to about 13 s (the default request timeout is 5 s).
metrics::DurationHistogram& request_latency(Registry& r, std::string_view name,
                                            std::string_view help) {
  return r.duration_histogram(name, help, exponential_bounds(0.0001, 2, 18)).get();
}

}  // namespace

NodeMetrics::NodeMetrics(Registry& r)
    : propose_to_commit(request_latency(r, "synod_proposal_commit_latency_seconds",
                                        "From a proposal's arrival to its entry being "
                                        "committed, on the leader that took it.")),
      propose_to_apply(request_latency(r, "synod_proposal_apply_latency_seconds",
                                       "From a proposal's arrival to its entry being "
                                       "applied and the proposal answered Ok.")),
      read_index(request_latency(r, "synod_read_index_latency_seconds",
                                 "From a read_index request's arrival to its answer Ok.")),
      storage_sync(r.duration_histogram("synod_storage_sync_duration_seconds",
                                        "One cycle's storage write with its sync.",
                                        exponential_bounds(0.00005, 2, 16))
                       .get()),
      cycle(r.duration_histogram("synod_cycle_duration_seconds",
                                 "One worker cycle, from claiming its partitions to "
                                 "releasing them (its storage sync included).",
                                 exponential_bounds(0.00001, 2, 20))
                .get()),
      storage_batch_entries(r.histogram("synod_storage_batch_entries",
                                        "Log entries in one cycle's storage batch.",
                                        exponential_bounds(1, 2, 13))
                                .get()),
      storage_batch_bytes(r.histogram("synod_storage_batch_bytes",
                                      "Entry payload bytes in one cycle's storage batch.",
                                      exponential_bounds(64, 4, 11))
                              .get()),
      network_batch_messages(r.histogram("synod_network_batch_messages",
                                         "Raft messages in one batch handed to the transport "
                                         "(one per destination node per cycle).",
                                         exponential_bounds(1, 2, 11))
                                 .get()),
      proposals_queue_full(r.counter("synod_requests_queue_full_total",
                                     "Requests refused with QueueFull.", {"request"})
                               .with({"proposal"})),
      reads_queue_full(r.counter("synod_requests_queue_full_total",
                                 "Requests refused with QueueFull.", {"request"})
                           .with({"read"})),
      proposals_timed_out(
          r.counter("synod_requests_timed_out_total", "Requests answered Timeout.", {"request"})
              .with({"proposal"})),
      reads_timed_out(
          r.counter("synod_requests_timed_out_total", "Requests answered Timeout.", {"request"})
              .with({"read"})),
      proposals_dropped(r.counter("synod_proposals_dropped_total",
                                  "Proposals answered Dropped: a new leader replaced their "
                                  "entry.")
                            .get()),
      stale_completions(r.counter("synod_stale_completions_total",
                                  "Entries committed after their proposal had been answered "
                                  "Timeout.")
                            .get()),
      heartbeats_sent(r.counter("synod_heartbeats_sent_total",
                                "Raft heartbeats and per-node liveness heartbeats sent.")
                          .get()),
      storage_errors(r.counter("synod_storage_errors_total",
                               "Storage operations that failed (the node then stops).")
                         .get()),
      snapshots_delivered(r.counter("synod_snapshots_sent_total",
                                    "Snapshots sent to followers, by outcome.", {"result"})
                              .with({"delivered"})),
      snapshots_failed(r.counter("synod_snapshots_sent_total",
                                 "Snapshots sent to followers, by outcome.", {"result"})
                           .with({"failed"})),
      snapshots_received(
          r.counter("synod_snapshots_received_total", "Snapshots received from leaders.").get()),
      snapshot_send_(r.duration_histogram("synod_snapshot_send_duration_seconds",
                                          "From handing a snapshot to the transport to its "
                                          "report (delivered or not).",
                                          exponential_bounds(0.001, 2, 18))
                         .get()) {}

void NodeMetrics::snapshot_sent(NodeId peer, PartitionId partition, env::TimePoint now) {
  std::lock_guard lock(snapshots_mu_);
  snapshots_begun_.insert_or_assign({peer, partition}, now);
}

void NodeMetrics::snapshot_reported(NodeId peer, PartitionId partition, bool delivered,
                                    env::TimePoint now) {
  (delivered ? snapshots_delivered : snapshots_failed).add();
  std::lock_guard lock(snapshots_mu_);
  auto it = snapshots_begun_.find({peer, partition});
  if (it == snapshots_begun_.end()) return;
  snapshot_send_.observe(now - it->second);
  snapshots_begun_.erase(it);
}

void register_collectors(Registry& r, const NodeHostConfig& config, const PartitionTable& table,
                         const Liveness& liveness) {
  // --- Partitions: their published state and counters.
  const auto each = [&table](auto&& visit) {
    for (const auto& [id, p] : *table.snapshot()) visit(std::to_string(id), *p);
  };
  const auto partition_counter = [&r, each](std::string_view name, std::string_view help,
                                            std::atomic<std::uint64_t> PartitionCounters::*field) {
    r.counter_collector(name, help, {"partition"}, [each, field](CounterSink& out) {
      each([&](const std::string& id, const Partition& p) {
        out.add({id}, (p.counters.*field).load(std::memory_order_relaxed));
      });
    });
  };
  partition_counter("synod_elections_started_total",
                    "Elections this node started (it campaigned in a new term).",
                    &PartitionCounters::elections_started);
  partition_counter("synod_elections_won_total", "Elections this node won (it became leader).",
                    &PartitionCounters::elections_won);
  partition_counter("synod_prevotes_lost_total",
                    "Pre-votes that did not lead to an election (back to follower).",
                    &PartitionCounters::prevotes_lost);
  partition_counter("synod_leader_changes_total", "Times this node learned of a new leader.",
                    &PartitionCounters::leader_changes);

  r.gauge_collector("synod_partition_term", "The partition's current term.", {"partition"},
                    [each](GaugeSink& out) {
                      each([&](const std::string& id, const Partition& p) {
                        out.add({id}, static_cast<double>(p.published_term.load()));
                      });
                    });
  r.gauge_collector("synod_partition_leader",
                    "The node this node believes leads the partition (0: none known).",
                    {"partition"}, [each](GaugeSink& out) {
                      each([&](const std::string& id, const Partition& p) {
                        out.add({id}, static_cast<double>(p.published_leader.load()));
                      });
                    });
  r.gauge_collector(
      "synod_proposal_queue_depth", "Proposals queued or waiting for their entry to commit.",
      {"partition"}, [each](GaugeSink& out) {
        each([&](const std::string& id, const Partition& p) {
          out.add({id},
                  static_cast<double>(p.inbox.queued_proposals() + p.waiting_proposals.load()));
        });
      });
  r.gauge_collector(
      "synod_read_queue_depth", "Reads queued or waiting for their read index.", {"partition"},
      [each](GaugeSink& out) {
        each([&](const std::string& id, const Partition& p) {
          out.add({id}, static_cast<double>(p.inbox.queued_reads() + p.waiting_reads.load()));
        });
      });
  r.gauge_collector(
      "synod_follower_match_lag",
      "On the leader: entries a follower's log lacks (last index minus its match index), as "
      "of the partition's last tick.",
      {"partition", "peer"}, [each](GaugeSink& out) {
        each([&](const std::string& id, const Partition& p) {
          const raft::RaftState state = p.published();
          if (state.soft_state.role != raft::Role::Leader) return;
          for (const raft::PeerStatus& peer : state.peers) {
            if (peer.id == state.id) continue;
            const Index lag = state.last_index > peer.match ? state.last_index - peer.match : 0;
            out.add({id, std::to_string(peer.id)}, static_cast<double>(lag));
          }
        });
      });
  r.gauge_collector("synod_partitions",
                    "Partitions on this node: active (ticking), quiescent (idle), or damaged "
                    "(not run: their stored state is damaged).",
                    {"state"}, [&table, &liveness](GaugeSink& out) {
                      double active = 0, quiescent = 0;
                      for (const auto& [id, p] : *table.snapshot()) {
                        (liveness.quiescent(*p) ? quiescent : active) += 1;
                      }
                      out.add({"active"}, active);
                      out.add({"quiescent"}, quiescent);
                      out.add({"damaged"}, static_cast<double>(table.damaged().size()));
                    });

  // --- The store's counters.
  storage::LogStore* store = config.store;
  const auto store_counter = [&r, store](std::string_view name, std::string_view help,
                                         std::uint64_t (storage::LogStore::*read)() const) {
    r.counter_collector(name, help, {},
                        [store, read](CounterSink& out) { out.add({}, (store->*read)()); });
  };
  store_counter("synod_storage_batches_total", "Storage batches written.",
                &storage::LogStore::batches);
  store_counter("synod_storage_entries_total", "Log entries written.",
                &storage::LogStore::entries_written);
  store_counter("synod_storage_written_bytes_total", "Payload bytes of the log entries written.",
                &storage::LogStore::entry_bytes_written);
  store_counter("synod_storage_syncs_total", "Storage syncs.", &storage::LogStore::syncs);

  // --- The transport's counters.
  transport::Transport* net = config.transport;
  using Stats = transport::TransportStats;
  const auto net_counter = [&r, net](std::string_view name, std::string_view help,
                                     std::uint64_t Stats::*field) {
    r.counter_collector(name, help, {},
                        [net, field](CounterSink& out) { out.add({}, net->stats().*field); });
  };
  net_counter("synod_transport_batches_sent_total", "Batches the transport accepted to send.",
              &Stats::batches_sent);
  net_counter("synod_transport_messages_sent_total", "Raft messages in the batches sent.",
              &Stats::messages_sent);
  net_counter("synod_transport_batches_received_total", "Batches received and handed over.",
              &Stats::batches_received);
  net_counter("synod_transport_messages_received_total", "Raft messages received.",
              &Stats::messages_received);
  net_counter("synod_transport_sent_bytes_total",
              "Wire bytes of batches and snapshot chunks sent (network transports).",
              &Stats::bytes_sent);
  net_counter("synod_transport_received_bytes_total",
              "Wire bytes of batches and snapshot chunks received (network transports).",
              &Stats::bytes_received);
  net_counter("synod_transport_reconnects_total",
              "Dials of a peer after its link broke or a dial failed (network transports).",
              &Stats::reconnects);
  net_counter("synod_transport_messages_dropped_total",
              "Raft messages in the batches dropped on the way out.", &Stats::messages_dropped);
  net_counter("synod_transport_messages_malformed_total",
              "Messages skipped on arrival because they could not be decoded.",
              &Stats::messages_malformed);
  net_counter("synod_transport_snapshot_sent_bytes_total", "Snapshot file bytes sent.",
              &Stats::snapshot_bytes_sent);
  net_counter("synod_transport_snapshot_received_bytes_total", "Snapshot file bytes received.",
              &Stats::snapshot_bytes_received);
  const auto by_reason =
      [&r, net](std::string_view name, std::string_view help,
                std::vector<std::pair<std::string_view, std::uint64_t Stats::*>> reasons) {
        r.counter_collector(name, help, {"reason"}, [net, reasons](CounterSink& out) {
          const Stats stats = net->stats();
          for (const auto& [reason, field] : reasons) out.add({reason}, stats.*field);
        });
      };
  by_reason("synod_transport_batches_dropped_total",
            "Batches dropped on the way out (lost to the peer), by reason.",
            {{"peer_unknown", &Stats::dropped_peer_unknown},
             {"peer_down", &Stats::dropped_peer_down},
             {"queue_full", &Stats::dropped_queue_full},
             {"link_cut", &Stats::dropped_link_cut},
             {"fault", &Stats::dropped_fault},
             {"stopped", &Stats::dropped_stopped},
             {"too_large", &Stats::dropped_too_large},
             {"snapshot_unavailable", &Stats::dropped_snapshot_unavailable}});
  by_reason("synod_transport_batches_refused_total", "Batches refused on arrival, by reason.",
            {{"foreign_cluster", &Stats::refused_foreign_cluster},
             {"unknown_sender", &Stats::refused_unknown_sender},
             {"wrong_destination", &Stats::refused_wrong_destination},
             {"malformed", &Stats::refused_malformed},
             {"unauthenticated", &Stats::refused_unauthenticated},
             {"bad_signature", &Stats::refused_bad_signature},
             {"stale", &Stats::refused_stale},
             {"replayed", &Stats::refused_replayed},
             {"replay_cache_full", &Stats::refused_replay_cache_full}});
  by_reason("synod_transport_snapshot_transfer_errors_total",
            "Streamed snapshot transfers that failed, by reason: failed (sender), refused "
            "or abandoned (receiver).",
            {{"failed", &Stats::snapshot_transfers_failed},
             {"refused", &Stats::snapshot_transfers_refused},
             {"abandoned", &Stats::snapshot_transfers_abandoned}});
}

}  // namespace synod::node
