#include "cycle.h"

#include <map>
#include <optional>
#include <utility>

#include "system_runtime.h"

namespace synod::node {
namespace {

Status from_raft(raft::RaftStatus status) {
  switch (status) {
    case raft::RaftStatus::Ok:
      return Status::Ok;
    case raft::RaftStatus::NotLeader:
      return Status::NotLeader;
    case raft::RaftStatus::NoLeader:
      return Status::NoLeader;
    case raft::RaftStatus::TransferInProgress:
      return Status::TransferInProgress;
    case raft::RaftStatus::UncommittedLimit:
    case raft::RaftStatus::ReadLimit:
      return Status::QueueFull;
    case raft::RaftStatus::ConfChangePending:
      return Status::ConfChangePending;
    case raft::RaftStatus::InvalidConfChange:
    case raft::RaftStatus::InvalidArgument:
      return Status::InvalidArgument;
  }
  return Status::InvalidArgument;
}

bool changes_configuration(const std::vector<raft::Entry>& entries) {
  for (const auto& e : entries) {
    if (e.type == raft::EntryType::ConfChange) return true;
  }
  return false;
}

}  // namespace

bool is_work(const raft::Message& m) {
  // A refused heartbeat says the follower lost its log: the leader must replicate to it.
  if (m.type == raft::MessageType::HeartbeatResp) return m.reject;
  return m.type != raft::MessageType::Heartbeat;
}

CyclePipeline::CyclePipeline(EngineContext& context, RunQueue& run_queue, Liveness& liveness,
                             Hooks hooks)
    : ctx_(context),
      run_queue_(run_queue),
      liveness_(liveness),
      hooks_(std::move(hooks)),
      snapshots_(context, Snapshotter::Hooks{hooks_.halt, hooks_.storage_failed}) {}

void CyclePipeline::run(RunQueue::Claim claim) {
  const auto& config = ctx_.config;
  const env::TimePoint now = config.clock->now();
  auto cycle = std::make_shared<Cycle>(Cycle{std::move(claim), {}, {}, now});
  const auto& claimed = cycle->claim.partitions;
  // A Ready is large: growing the vector would move every one of them.
  cycle->work.reserve(claimed.size());
  cycle->refresh.assign(claimed.size(), false);
  const bool paused = ctx_.delivery_paused.load();
  storage::WriteBatch batch;
  // Entries held behind a snapshot install may be delivered while draining.
  std::optional<RequestLatencies> latencies;
  if (ctx_.metrics) latencies.emplace(*ctx_.metrics, now);
  for (std::size_t i = 0; i < claimed.size(); ++i) {
    Partition& p = *claimed[i];
    bool ticked = false;
    if (!drain(p, now, batch, ticked, latencies ? &*latencies : nullptr)) continue;
    p.raft->pause_applying(paused || p.snapshots.installing);
    if (!p.raft->has_ready()) {
      cycle->refresh[i] = ticked;
      continue;
    }
    raft::Ready rd = p.raft->ready();
    cycle->refresh[i] = ticked || rd.soft_state || rd.snapshot ||
                        changes_configuration(rd.entries) ||
                        changes_configuration(rd.committed_entries);
    cycle->work.push_back({&p, std::move(rd)});
  }
  latencies.reset();

  // 1. Messages that do not wait for the disk, one batch per destination. How a snapshot
  // transfer ends, the transport reports (Engine::on_snapshot_status).
  send(*cycle, &raft::Ready::messages);

  // 2. One storage batch, one sync, for every partition of this cycle.
  bool must_sync = false;
  std::size_t entries = 0;
  std::size_t bytes = 0;
  for (auto& w : cycle->work) {
    const raft::Ready& rd = w.ready;
    if (!rd.snapshot && rd.entries.empty() && !rd.hard_state) continue;
    auto& pw = batch.add(w.partition->id);
    pw.hard_state = rd.hard_state;
    pw.snapshot = rd.snapshot;
    pw.entries = rd.entries;
    must_sync |= rd.must_sync;
    if (ctx_.metrics) {
      entries += rd.entries.size();
      for (const raft::Entry& e : rd.entries) bytes += e.data.size();
    }
  }
  const bool sync = config.sync && must_sync;
  if (batch.empty()) return finish(cycle, {});
  if (ctx_.metrics) {
    ctx_.metrics->storage_batch_entries.observe(entries);
    ctx_.metrics->storage_batch_bytes.observe(bytes);
  }
  if (!sync || !config.sync_executor) return finish(cycle, write(batch, sync));
  // The write goes to the store in this cycle's order; the sync, which blocks for the
  // disk, runs on the sync executor and so does the rest of the cycle, while this worker
  // moves on. The claimed partitions stay claimed until then.
  if (auto st = config.store->write(batch, false); !st.ok()) return finish(cycle, st);
  hooks_.post_sync([this, cycle] { finish(cycle, write({}, true)); });
}

storage::StorageStatus CyclePipeline::write(const storage::WriteBatch& batch, bool sync) {
  if (!sync || !ctx_.metrics) return ctx_.config.store->write(batch, sync);
  const env::TimePoint begin = ctx_.config.clock->now();
  storage::StorageStatus st = ctx_.config.store->write(batch, true);
  ctx_.metrics->storage_sync.observe(ctx_.config.clock->now() - begin);
  return st;
}

bool CyclePipeline::drain(Partition& p, env::TimePoint now, storage::WriteBatch& batch,
                          bool& ticked, RequestLatencies* latencies) {
  if (p.retired) return false;
  InboxContents in = p.inbox.drain();
  if (in.retire) {
    retire(p, std::move(in.retire));
    return false;
  }
  if (in.activity) p.idle_ticks = 0;
  for (const auto& m : in.messages) {
    if (is_work(m)) p.idle_ticks = 0;
    p.raft->step(m);
  }
  for (NodeId peer : in.unreachable) p.raft->report_unreachable(peer);
  for (const auto& [peer, delivered] : in.snapshot_reports) p.raft->report_snapshot(peer, delivered);
  if (in.tick) {
    ticked = true;
    ++p.idle_ticks;
    p.raft->tick();
    p.pending.expire(now);
  }
  if (!in.proposals.empty()) {
    std::vector<raft::Proposal> proposals;
    proposals.reserve(in.proposals.size());
    for (const auto& q : in.proposals) proposals.push_back({q.type, q.payload});
    const raft::ProposeResult r = p.raft->propose(proposals);
    if (r.status == raft::RaftStatus::Ok) {
      p.pending.add_proposals(r.first_index, r.term, in.proposals);
    } else {
      const Status status = from_raft(r.status);
      if (status == Status::QueueFull && ctx_.metrics) {
        ctx_.metrics->proposals_queue_full.add(in.proposals.size());
      }
      for (auto& q : in.proposals) answer(q.done, status, 0, 0, r.leader_hint);
    }
  }
  for (auto& q : in.reads) {
    std::string context = std::to_string(ctx_.next_read_id.fetch_add(1));
    const raft::ProposeResult r = p.raft->read_index(context);
    if (r.status != raft::RaftStatus::Ok) {
      const Status status = from_raft(r.status);
      if (status == Status::QueueFull && ctx_.metrics) ctx_.metrics->reads_queue_full.add();
      answer(q.done, status, 0, r.leader_hint);
      continue;
    }
    p.pending.add_read(std::move(context), std::move(q));
  }
  // A refused transfer needs no answer: the target was checked when it was asked for, and
  // what changed since (leadership lost) the leader handler reports.
  for (NodeId target : in.transfers) p.raft->transfer_leadership(target);
  if (in.applied_report) batch.add(p.id).applied_floor = *in.applied_report;
  const auto deliver_held = [this, latencies](Partition& part,
                                              const std::vector<raft::Entry>& e) {
    deliver(part, e, latencies);
  };
  if (!snapshots_.drain(p, in, batch, deliver_held)) {
    return false;
  }
  snapshots_.maybe_save(p);
  return true;
}

void CyclePipeline::retire(Partition& p, RetireCallback done) {
  p.retired = true;
  p.pending.close(Status::UnknownPartition);
  storage::StorageStatus removed = ctx_.config.store->remove_partition(p.id);
  if (removed.ok() && ctx_.config.snapshot_store) {
    removed = ctx_.config.snapshot_store->remove_partition(p.id);
  }
  done(removed.ok() ? Status::Ok : Status::StorageFailure);
  if (!removed.ok()) hooks_.storage_failed(removed.to_string());
}

void CyclePipeline::send(Cycle& cycle, std::vector<raft::Message> raft::Ready::*which) {
  const auto& config = ctx_.config;
  NodeMetrics* const metrics = ctx_.metrics.get();
  std::map<NodeId, transport::Batch> out;
  std::uint64_t heartbeats = 0;
  for (auto& w : cycle.work) {
    for (auto& m : w.ready.*which) {
      if (metrics) {
        if (m.type == raft::MessageType::Heartbeat) {
          ++heartbeats;
        } else if (m.type == raft::MessageType::InstallSnapshot) {
          metrics->snapshot_sent(m.to, w.partition->id, config.clock->now());
        }
      }
      auto& b = out[m.to];
      b.envelopes.push_back({w.partition->id, std::move(m)});
    }
    (w.ready.*which).clear();
  }
  if (metrics && heartbeats > 0) metrics->heartbeats_sent.add(heartbeats);
  for (auto& [to, b] : out) {
    b.cluster = config.cluster_id;
    b.from = config.node_id;
    b.to = to;
    if (metrics) metrics->network_batch_messages.observe(b.envelopes.size());
    config.transport->send(std::move(b));
  }
}

void CyclePipeline::finish(const std::shared_ptr<Cycle>& cycle,
                           const storage::StorageStatus& written) {
  const auto& claimed = cycle->claim.partitions;
  if (!written.ok()) {
    hooks_.storage_failed(written.to_string());
    return;
  }

  // 3. Messages that vouch for what is now durable.
  send(*cycle, &raft::Ready::messages_after_persist);

  // 4. Apply, answer, advance. One clock reading serves every latency this cycle records.
  std::optional<RequestLatencies> latencies;
  if (ctx_.metrics) latencies.emplace(*ctx_.metrics, ctx_.config.clock->now());
  for (auto& w : cycle->work) {
    const raft::Ready& rd = w.ready;
    if (!rd.entries.empty() || !rd.committed_entries.empty() || rd.soft_state) {
      w.partition->idle_ticks = 0;
    }
    apply(*w.partition, w.ready, latencies ? &*latencies : nullptr);
    w.partition->raft->advance();
  }

  // 5. Publish and release.
  std::vector<bool> more(claimed.size());
  for (std::size_t i = 0; i < claimed.size(); ++i) {
    const PartitionPtr& p = claimed[i];
    if (p->retired) continue;
    publish(p, cycle->refresh[i]);
    more[i] = p->raft->has_ready();
  }
  if (ctx_.metrics) {
    latencies.reset();
    ctx_.metrics->cycle.observe(ctx_.config.clock->now() - cycle->began);
  }
  run_queue_.release(claimed, more);
}

void CyclePipeline::publish(const PartitionPtr& p, bool full) {
  // The full state (configuration vectors, every peer's progress) costs allocations: it
  // is built when it may have changed, on ticks, and when quiescence needs the peers.
  const bool check_quiescence = liveness_.may_quiesce(*p);
  raft::RaftState state = full || check_quiescence ? p->raft->state() : p->raft->summary();
  p->published_is_leader.store(state.soft_state.role == raft::Role::Leader);
  p->published_term.store(state.hard_state.term);
  p->waiting_proposals.store(p->pending.proposals());
  p->waiting_reads.store(p->pending.reads());
  if (p->published_leader.exchange(state.soft_state.leader) != state.soft_state.leader) {
    std::lock_guard lock(ctx_.leader_mu);
    ctx_.leader_known.notify_all();
  }
  if (check_quiescence) liveness_.maybe_quiesce(p, state);
  p->publish(std::move(state), full || check_quiescence);
}

void CyclePipeline::apply(Partition& p, raft::Ready& rd, RequestLatencies* latencies) {
  if (rd.snapshot) snapshots_.begin_install(p, rd.snapshot->meta);
  if (p.retired) return;
  // Before delivery, which answers (and forgets) the proposals it applies.
  if (rd.hard_state) {
    p.pending.on_commit_index(rd.hard_state->commit, p.raft->term(), latencies);
  }
  // Entries committed above a snapshot wait until the host has installed it.
  if (p.snapshots.installing) {
    snapshots_.hold(p, rd.committed_entries);
  } else {
    deliver(p, rd.committed_entries, latencies);
  }
  for (const auto& rs : rd.read_states) p.pending.on_read_state(rs);
  p.pending.complete_reads(p.applied, latencies);
  count_elections(p, rd);
  if (rd.soft_state && rd.soft_state->leader != p.leader) {
    p.leader = rd.soft_state->leader;
    if (p.leader != raft::kNoNode) {
      p.counters.leader_changes.fetch_add(1, std::memory_order_relaxed);
    }
    if (ctx_.leader_handler) ctx_.leader_handler(LeaderChange{p.id, p.leader, p.raft->term()});
  }
  snapshots_.maybe_save(p);
}

void CyclePipeline::count_elections(Partition& p, const raft::Ready& rd) {
  // The changes a Ready shows tell the elections apart: a new term this node voted itself
  // in is a campaign (however quickly it was won); becoming leader is a win; a
  // pre-candidate back to follower lost its pre-vote (or heard of a leader first).
  if (rd.hard_state && rd.hard_state->term > p.term_seen) {
    p.term_seen = rd.hard_state->term;
    if (rd.hard_state->vote == ctx_.config.node_id) {
      p.counters.elections_started.fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (!rd.soft_state || rd.soft_state->role == p.role_seen) return;
  const raft::Role was = std::exchange(p.role_seen, rd.soft_state->role);
  if (p.role_seen == raft::Role::Leader) {
    p.counters.elections_won.fetch_add(1, std::memory_order_relaxed);
  } else if (was == raft::Role::PreCandidate && p.role_seen == raft::Role::Follower) {
    p.counters.prevotes_lost.fetch_add(1, std::memory_order_relaxed);
  }
}

void CyclePipeline::deliver(Partition& p, const std::vector<raft::Entry>& entries,
                            RequestLatencies* latencies) {
  // Partition 0's entries are the engine's: applied to the system state, never handed to
  // the host.
  SystemRuntime* const system = p.id == kSystemPartition ? ctx_.system.get() : nullptr;
  for (const auto& e : entries) {
    p.delivered.store(e.index);
    if (system) {
      system->apply(e);
    } else if (p.id != kSystemPartition && e.type == raft::EntryType::Normal && e.tag != 0 &&
               ctx_.apply_handler) {
      ctx_.apply_handler(CommittedEntry{p.id, e.index, e.term, e.tag, e.data});
    }
    p.applied = e.index;
    p.pending.on_committed(e.index, e.term, latencies);
    snapshots_.count(p, e);
  }
  if (system && !entries.empty()) system->applied_through(p.applied);
  p.pending.complete_reads(p.applied, latencies);
}

}  // namespace synod::node
