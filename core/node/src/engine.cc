#include "engine.h"

#include <algorithm>
#include <exception>
#include <set>

#include "bootstrap.h"
#include "synod/system/codec.h"

namespace synod::node {
namespace {

int quiesce_threshold(const NodeHostConfig& c) {
  if (!c.quiesce) return 0;
  return c.quiesce_after_ticks > 0 ? c.quiesce_after_ticks : 10 * c.election_ticks;
}

bool contains(const std::vector<NodeId>& ids, NodeId id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

Engine::Engine(const NodeHostConfig& config)
    : ctx_(config),
      liveness_(quiesce_threshold(config), config.tick_interval * config.election_ticks),
      run_queue_(config.partitions_per_cycle, config.max_parallel_cycles,
                 [this] { post(*ctx_.config.executor, [this] { run_cycle(); }); }),
      pipeline_(ctx_, run_queue_, liveness_,
                CyclePipeline::Hooks{
                    [this](std::function<void()> rest) {
                      post(*ctx_.config.sync_executor, std::move(rest));
                    },
                    [this](const std::string& why) {
                      if (ctx_.metrics) ctx_.metrics->storage_errors.add();
                      fail(Status::StorageFailure,
                           "its log store failed: " + (why.empty() ? "unknown error" : why));
                    },
                    [this](PartitionId id, Term term, const std::string& why) {
                      post(*ctx_.config.executor, [this, id, term, why] { halt(id, term, why); });
                    }}) {
  register_collectors(ctx_.registry, ctx_.config, table_, liveness_);
  ctx_.system = std::make_shared<SystemRuntime>(
      config.node_id, config.user_partitions,
      SystemRuntime::Hooks{[this](PartitionId id, const std::vector<NodeId>& voters) {
                             create_from_map(id, voters);
                           },
                           [this](PartitionId id) { remove_from_map(id); },
                           [this](PartitionId id) { return hosted(id); }});
  ctx_.system_snapshot_handler = system_snapshot_handler(ctx_.system);
}

bool Engine::open(std::string& error) {
  const NodeHostConfig& c = ctx_.config;
  if (error = check_config(c); !error.empty()) return false;
  const std::vector<PartitionId> ids = found_or_list(c, error);
  if (!error.empty()) return false;
  for (PartitionId id : ids) {
    if (auto damage = c.store->partition_error(id); !damage.ok()) {
      table_.add_damaged(id, damage.to_string());
      continue;
    }
    PartitionPtr p = open_partition(c, id, error);
    if (!p) return false;
    // Partition 0's log is replayed into the system state first; creations wait until the
    // whole log held at open is applied (system_runtime.h).
    if (id == kSystemPartition) ctx_.system->set_replay_until(p->raft->state().last_index);
    run_partition(p);
  }
  refresh_peers();
  return true;
}

void Engine::run_partition(const PartitionPtr& p) {
  p->pending.observe(ctx_.metrics.get(), ctx_.config.request_timeout);
  liveness_.add(p);
  table_.add(p);
}

void Engine::count_queue_full(Status status, bool proposal, std::size_t count) {
  if (status != Status::QueueFull || !ctx_.metrics) return;
  (proposal ? ctx_.metrics->proposals_queue_full : ctx_.metrics->reads_queue_full).add(count);
}

void Engine::post(env::Executor& executor, std::function<void()> task) {
  executor.post([weak = weak_from_this(), task = std::move(task)] {
    if (auto self = weak.lock()) self->guarded(task);
  });
}

void Engine::guarded(const std::function<void()>& task) {
  try {
    task();
  } catch (const std::exception& e) {
    fail(Status::ShuttingDown, std::string("an engine task failed: ") + e.what());
  } catch (...) {
    fail(Status::ShuttingDown, "an engine task failed with an unknown exception");
  }
}

void Engine::start() {
  std::weak_ptr<Engine> weak = weak_from_this();
  auto* transport = ctx_.config.transport;
  transport->set_receiver([weak](transport::Batch&& batch) {
    if (auto self = weak.lock()) self->guarded([&] { self->on_batch(std::move(batch)); });
  });
  transport->set_unreachable_handler([weak](NodeId peer, std::vector<transport::Envelope>&& lost) {
    if (auto self = weak.lock()) {
      self->guarded([&] { self->on_unreachable(peer, std::move(lost)); });
    }
  });
  if (ctx_.config.snapshot_store) {
    snapshot_files_ = std::make_unique<StoreSnapshotFiles>(*ctx_.config.snapshot_store);
    transport->set_snapshot_files(snapshot_files_.get());
  }
  ctx_.wake = [weak](const PartitionPtr& p) {
    if (auto self = weak.lock()) self->guarded([&] { self->submit(p); });
  };
  transport->set_snapshot_status_handler(
      [weak](NodeId peer, std::uint64_t partition, bool delivered) {
        if (auto self = weak.lock()) {
          self->guarded([&] { self->on_snapshot_status(peer, partition, delivered); });
        }
      });
  {
    std::lock_guard lock(life_mu_);
    if (stopped_ || !run_queue_.start()) return;
  }
  transport->start();
  arm_tick();
}

void Engine::arm_tick() {
  tick_timer_ = ctx_.config.scheduler->after(ctx_.config.tick_interval, [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->guarded([&] { self->on_tick(); });
  });
}

void Engine::on_tick() {
  // A task like a cycle, so that stop() waits for it: it uses the transport.
  const auto task = run_queue_.enter();
  if (!task) return;
  const std::vector<PartitionPtr> ticking = liveness_.ticking();
  for (const auto& p : ticking) p->inbox.mark_tick();
  run_queue_.schedule(ticking);
  if (ctx_.config.quiesce) exchange_liveness(ctx_.config.clock->now());
  arm_tick();
}

void Engine::exchange_liveness(env::TimePoint now) {
  const auto& c = ctx_.config;
  const std::vector<NodeId> peers = liveness_.peers();
  if (++ticks_ % static_cast<std::uint64_t>(c.heartbeat_ticks) == 0) {
    // One empty batch per peer stands in for the heartbeats of every quiescent partition.
    for (NodeId peer : peers) c.transport->send(transport::Batch{c.cluster_id, c.node_id, peer, {}});
    if (ctx_.metrics) ctx_.metrics->heartbeats_sent.add(peers.size());
  }
  const std::vector<NodeId> silent = liveness_.newly_silent(now);
  // Partitions whose leader has just gone silent must elect another. So must, found by a
  // sweep once per election timeout, any quiescent partition that a message has left with
  // no leader or one whose node is silent (Liveness::needs_election).
  const bool sweep = ticks_ % static_cast<std::uint64_t>(c.election_ticks) == 0;
  if (silent.empty() && !sweep) return;
  std::vector<PartitionPtr> woken;
  for (const auto& [id, p] : *table_.snapshot()) {
    const NodeId leader = p->published_leader.load();
    // Partitions this node leads must notice (check-quorum) if it is the one cut off.
    const bool wake = (leader == c.node_id && !silent.empty()) || liveness_.needs_election(leader);
    if (wake && liveness_.wake(p)) woken.push_back(p);
  }
  run_queue_.schedule(woken);
}

void Engine::run_cycle() {
  if (auto claim = run_queue_.claim()) pipeline_.run(std::move(*claim));
}

void Engine::fail(Status status, std::string why) {
  {
    std::lock_guard lock(life_mu_);
    if (failure_.empty()) {
      stop_status_ = status;
      failure_ = "node " + std::to_string(ctx_.config.node_id) + " stopped: " + why;
    }
  }
  run_queue_.halt();
  post(*ctx_.config.executor, [this] { stop(); });
}

void Engine::stop() {
  {
    std::unique_lock lock(life_mu_);
    if (stopped_) {
      // A second caller (the host, while a failure stops the node on a worker) returns
      // only once the store and transport are no longer used, so that it may free them.
      // The stopping thread itself, re-entering from a completion, does not wait.
      if (stopping_thread_ != std::this_thread::get_id()) {
        stop_finished_cv_.wait(lock, [this] { return stop_finished_; });
      }
      return;
    }
    stopped_ = true;
    stopping_thread_ = std::this_thread::get_id();
  }
  run_queue_.stop_and_wait();
  const auto& c = ctx_.config;
  c.scheduler->cancel(tick_timer_);
  c.transport->stop();
  Status status;
  std::string failure;
  {
    std::lock_guard lock(life_mu_);
    status = stop_status_;
    failure = failure_;
  }
  std::vector<PartitionPtr> closing;
  for (const auto& [id, p] : *table_.snapshot()) closing.push_back(p);
  {
    std::lock_guard lock(retiring_mu_);
    for (const auto& [id, p] : retiring_) closing.push_back(p);
  }
  for (const auto& p : closing) close(*p, status);
  // Floors reported since the last cycle are kept by a clean stop, so a restart does not
  // deliver those entries again. A failed store is not written to again.
  storage::WriteBatch floors;
  for (const auto& p : closing) {
    if (const auto floor = p->inbox.take_applied_report(); floor && !p->retired) {
      floors.add(p->id).applied_floor = *floor;
    }
  }
  if (!floors.empty() && status != Status::StorageFailure) {
    if (auto st = c.store->write(floors, c.sync); !st.ok()) {
      const std::string why = "node " + std::to_string(c.node_id) +
                              " could not record the applied floors while stopping: " +
                              st.to_string();
      failure = failure.empty() ? why : failure + "; " + why;
    }
  }
  // Before any other stop() caller returns, so the host may still use what the handler
  // touches.
  if (!failure.empty() && ctx_.failure_handler) ctx_.failure_handler(failure);
  {
    std::lock_guard lock(life_mu_);
    stop_finished_ = true;
  }
  stop_finished_cv_.notify_all();
}

void Engine::close(Partition& p, Status status) {
  // Requests that come later are refused with ShuttingDown; those already here get the
  // reason the node stopped.
  ClosedInbox closed = p.inbox.close(Status::ShuttingDown);
  answer_all(closed, status);
  if (closed.retire) closed.retire(Status::ShuttingDown);
  p.pending.close(status);
}

void Engine::submit(const PartitionPtr& p) {
  liveness_.wake(p);
  run_queue_.schedule(p);
}

void Engine::replicate(PartitionId partition, std::uint32_t type, raft::Bytes payload,
                       NodeHost::ReplicationCallback done) {
  if (partition == kSystemPartition) return answer(done, Status::SystemPartition);
  const PartitionPtr p = table_.find(partition);
  if (!p) return answer(done, table_.missing(partition));
  if (type == 0) return answer(done, Status::InvalidArgument);
  if (payload.size() > ctx_.config.max_payload_bytes) {
    return answer(done, Status::PayloadTooLarge);
  }
  QueuedProposal q{type, std::move(payload), std::move(done),
                   ctx_.config.clock->now() + ctx_.config.request_timeout};
  if (const Status s = p->inbox.push(q); s != Status::Ok) {
    count_queue_full(s, true, 1);
    return answer(q.done, s);
  }
  submit(p);
}

void Engine::replicate_batch(PartitionId partition, std::vector<NodeHost::BatchEntry> entries,
                             NodeHost::BatchCallback done) {
  struct Gather {
    std::mutex mu;
    std::vector<ReplicationResult> results;
    std::size_t left;
    NodeHost::BatchCallback done;
  };
  auto fail_all = [&](Status status) {
    if (done) done(std::vector<ReplicationResult>(entries.size(), ReplicationResult{status}));
  };
  if (partition == kSystemPartition) return fail_all(Status::SystemPartition);
  const PartitionPtr p = table_.find(partition);
  if (!p) return fail_all(table_.missing(partition));
  if (entries.empty()) return fail_all(Status::InvalidArgument);
  for (const auto& e : entries) {
    if (e.type == 0) return fail_all(Status::InvalidArgument);
    if (e.payload.size() > ctx_.config.max_payload_bytes) return fail_all(Status::PayloadTooLarge);
  }
  auto gather = std::make_shared<Gather>();
  gather->results.resize(entries.size());
  gather->left = entries.size();
  const env::TimePoint deadline = ctx_.config.clock->now() + ctx_.config.request_timeout;
  std::vector<QueuedProposal> queued;
  queued.reserve(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    queued.push_back({entries[i].type, std::move(entries[i].payload),
                      [gather, i](const ReplicationResult& r) {
                        NodeHost::BatchCallback finished;
                        {
                          std::lock_guard guard(gather->mu);
                          gather->results[i] = r;
                          if (--gather->left == 0) finished = std::move(gather->done);
                        }
                        if (finished) finished(gather->results);
                      },
                      deadline});
  }
  gather->done = std::move(done);
  if (const Status s = p->inbox.push(queued); s != Status::Ok) {
    count_queue_full(s, true, queued.size());
    if (gather->done) gather->done(std::vector<ReplicationResult>(queued.size(), ReplicationResult{s}));
    return;
  }
  submit(p);
}

void Engine::read_index(PartitionId partition, NodeHost::ReadCallback done) {
  const PartitionPtr p = table_.find(partition);
  if (!p) return answer(done, table_.missing(partition));
  QueuedRead q{std::move(done), ctx_.config.clock->now() + ctx_.config.request_timeout};
  if (const Status s = p->inbox.push(q); s != Status::Ok) {
    count_queue_full(s, false, 1);
    return answer(q.done, s);
  }
  submit(p);
}

Status Engine::transfer_leadership(PartitionId partition, NodeId target) {
  const PartitionPtr p = table_.find(partition);
  if (!p) return table_.missing(partition);
  if (target == raft::kNoNode) return Status::InvalidArgument;
  if (!p->published_is_leader.load()) {
    return p->published_leader.load() == raft::kNoNode ? Status::NoLeader : Status::NotLeader;
  }
  if (target == ctx_.config.node_id) return Status::Ok;  // it leads already
  if (!p->published_voter(target)) return Status::InvalidArgument;
  if (const Status s = p->inbox.push_transfer(target); s != Status::Ok) return s;
  submit(p);
  return Status::Ok;
}

Status Engine::report_applied(PartitionId partition, Index index) {
  // Partition 0's state is the engine's: it is replayed from its snapshot on restart.
  if (partition == kSystemPartition) return Status::SystemPartition;
  const PartitionPtr p = table_.find(partition);
  if (!p) return table_.missing(partition);
  if (const Status s = p->inbox.report_applied(index, p->delivered.load()); s != Status::Ok) {
    return s;
  }
  run_queue_.schedule(p);
  return Status::Ok;
}

Status Engine::add_partition(PartitionId partition, const std::vector<NodeId>& voters) {
  const auto& c = ctx_.config;
  if (!contains(voters, c.node_id) || contains(voters, raft::kNoNode)) {
    return Status::InvalidArgument;
  }
  std::lock_guard reshape(reshape_mu_);
  {
    std::lock_guard lock(life_mu_);
    if (stopped_) return Status::ShuttingDown;
  }
  {
    std::lock_guard lock(retiring_mu_);
    if (retiring_.count(partition)) return Status::InvalidArgument;
  }
  if (table_.find(partition) || table_.missing(partition) == Status::StorageFailure) {
    return Status::InvalidArgument;
  }
  if (auto st = found_partition(c, partition, voters); !st.ok()) {
    return st.code() == storage::StorageCode::InvalidArgument ? Status::InvalidArgument
                                                              : Status::StorageFailure;
  }
  std::string error;
  PartitionPtr p = open_partition(c, partition, error);
  if (!p) return Status::StorageFailure;
  run_partition(p);
  refresh_peers();
  run_queue_.schedule(p);
  return Status::Ok;
}

void Engine::remove_partition(PartitionId partition, std::function<void(Status)> done) {
  auto finish = [&done](Status s) {
    if (done) done(s);
  };
  std::unique_lock reshape(reshape_mu_);
  {
    std::lock_guard lock(life_mu_);
    if (stopped_) return finish(Status::ShuttingDown);
  }
  PartitionPtr p = table_.remove(partition);
  if (!p) {
    // A damaged partition never runs: its storage is deleted here and now.
    if (!table_.remove_damaged(partition)) return finish(Status::UnknownPartition);
    auto st = ctx_.config.store->remove_partition(partition);
    if (st.ok() && ctx_.config.snapshot_store) {
      st = ctx_.config.snapshot_store->remove_partition(partition);
    }
    return finish(st.ok() ? Status::Ok : Status::StorageFailure);
  }
  liveness_.remove(p);
  refresh_peers();
  {
    std::lock_guard lock(retiring_mu_);
    retiring_.emplace(partition, p);
  }
  std::weak_ptr<Engine> weak = weak_from_this();
  ClosedInbox closed = p->inbox.retire([weak, partition, done](Status s) {
    if (auto self = weak.lock()) {
      std::lock_guard lock(self->retiring_mu_);
      self->retiring_.erase(partition);
    }
    if (done) done(s);
  });
  reshape.unlock();
  answer_all(closed, Status::UnknownPartition);
  // Closed by a concurrent stop(): it did not see this partition retiring.
  if (closed.retire) return closed.retire(Status::ShuttingDown);
  run_queue_.schedule(p);
}

void Engine::request_snapshot(PartitionId partition, SnapshotCallback done) {
  const PartitionPtr p = table_.find(partition);
  if (!p) {
    if (done) done(table_.missing(partition), 0);
    return;
  }
  if (const Status s = p->inbox.push_snapshot_request(done); s != Status::Ok) {
    if (done) done(s, 0);
    return;
  }
  submit(p);
}

void Engine::halt(PartitionId id, Term term, const std::string& why) {
  std::lock_guard reshape(reshape_mu_);
  PartitionPtr p = table_.remove(id);
  if (!p) return;
  liveness_.remove(p);
  refresh_peers();
  table_.add_damaged(id, why);
  ClosedInbox closed = p->inbox.close(Status::StorageFailure);
  answer_all(closed, Status::StorageFailure);
  if (closed.retire) closed.retire(Status::StorageFailure);
  if (ctx_.partition_failure_handler) ctx_.partition_failure_handler({id, term, why});
}

void Engine::propose_system(const system::Command& command,
                            std::function<void(const MapChangeResult&)> done) {
  auto finish = [done](const MapChangeResult& r) {
    if (done) done(r);
  };
  const PartitionPtr p = table_.find(kSystemPartition);
  if (!p) return finish({table_.missing(kSystemPartition)});
  // The answer runs in partition 0's cycle right after the entry applied (or with a
  // failure from anywhere): only an Ok reads the result the apply left.
  auto system = ctx_.system;
  QueuedProposal q{kSystemCommandTag, raft::Bytes(system::encode_command(command)),
                   [system, finish](const ReplicationResult& r) {
                     MapChangeResult out;
                     out.status = r.status;
                     out.index = r.index;
                     out.leader_hint = r.leader_hint;
                     if (r.status == Status::Ok) {
                       if (const auto applied = system->result_at(r.index, r.term)) {
                         out.status = from_system(applied->status);
                         out.detail = applied->status;
                         out.partition = applied->created;
                         out.map_version = applied->version;
                       } else {
                         // Committed, but covered by a snapshot before this node applied
                         // it: the outcome is in the map, not known here.
                         out.status = Status::Timeout;
                       }
                     }
                     finish(out);
                   },
                   ctx_.config.clock->now() + ctx_.config.request_timeout};
  if (const Status s = p->inbox.push(q); s != Status::Ok) {
    count_queue_full(s, true, 1);
    return answer(q.done, s);
  }
  submit(p);
}

system::SystemState Engine::system_state() const { return ctx_.system->state(); }

std::optional<system::Route> Engine::route_hash(std::uint64_t hash) const {
  return ctx_.system->route_hash(hash);
}

void Engine::create_from_map(PartitionId id, const std::vector<NodeId>& voters) {
  if (hosted(id)) return;
  // A failure leaves the partition absent here; status() does not list it and requests
  // answer UnknownPartition (the next slice reports it).
  (void)add_partition(id, voters);
}

void Engine::remove_from_map(PartitionId id) {
  if (table_.find(id) || table_.missing(id) == Status::StorageFailure)
    remove_partition(id, nullptr);
}

bool Engine::hosted(PartitionId id) {
  if (table_.find(id) || table_.missing(id) == Status::StorageFailure) return true;
  std::lock_guard lock(retiring_mu_);
  return retiring_.count(id) > 0;
}

void Engine::set_delivery_paused(bool paused) {
  if (ctx_.delivery_paused.exchange(paused) == paused || paused) return;
  // Partitions may hold committed entries back: let each run once.
  std::vector<PartitionPtr> all;
  for (const auto& [id, p] : *table_.snapshot()) all.push_back(p);
  run_queue_.schedule(all);
}

void Engine::refresh_peers() {
  std::set<NodeId> peers;
  for (const auto& [id, p] : *table_.snapshot()) {
    for (NodeId voter : p->published().conf.voters) {
      if (voter != ctx_.config.node_id) peers.insert(voter);
    }
  }
  liveness_.set_peers({peers.begin(), peers.end()});
}

void Engine::on_batch(transport::Batch&& batch) {
  liveness_.heard(batch.from, ctx_.config.clock->now());
  const auto table = table_.snapshot();
  std::vector<PartitionPtr> touched;
  for (auto& envelope : batch.envelopes) {
    auto it = table->find(envelope.partition);
    // A message for a partition this node does not host is dropped alone.
    if (it == table->end()) continue;
    const PartitionPtr& p = it->second;
    if (envelope.message.type == raft::MessageType::InstallSnapshot && ctx_.metrics) {
      ctx_.metrics->snapshots_received.add();
    }
    const bool work = is_work(envelope.message);
    p->inbox.push_message(std::move(envelope.message), work);
    if (work) liveness_.wake(p);
    if (touched.empty() || touched.back() != p) touched.push_back(p);
  }
  run_queue_.schedule(touched);
}

void Engine::on_unreachable(NodeId peer, std::vector<transport::Envelope>&& lost) {
  // One report per partition, however many of its envelopes were lost.
  std::set<PartitionId> partitions;
  for (const auto& envelope : lost) partitions.insert(envelope.partition);
  const auto table = table_.snapshot();
  std::vector<PartitionPtr> touched;
  for (PartitionId id : partitions) {
    auto it = table->find(id);
    if (it == table->end()) continue;
    it->second->inbox.note_unreachable(peer);
    touched.push_back(it->second);
  }
  run_queue_.schedule(touched);
}

void Engine::on_snapshot_status(NodeId peer, PartitionId partition, bool delivered) {
  if (ctx_.metrics) {
    ctx_.metrics->snapshot_reported(peer, partition, delivered, ctx_.config.clock->now());
  }
  // Raft holds the peer in snapshot state until it hears how the transfer went.
  if (const PartitionPtr p = table_.find(partition)) {
    p->inbox.note_snapshot(peer, delivered);
    run_queue_.schedule(p);
  }
}

NodeId Engine::wait_for_leader(PartitionId partition, std::chrono::milliseconds timeout) {
  const PartitionPtr p = table_.find(partition);
  if (!p) return raft::kNoNode;
  std::unique_lock lock(ctx_.leader_mu);
  ctx_.leader_known.wait_for(lock, timeout,
                             [&p] { return p->published_leader.load() != raft::kNoNode; });
  return p->published_leader.load();
}

bool Engine::is_leader(PartitionId partition) const {
  const PartitionPtr p = table_.find(partition);
  return p && p->published_is_leader.load();
}

NodeId Engine::leader_of(PartitionId partition) const {
  const PartitionPtr p = table_.find(partition);
  return p ? p->published_leader.load() : raft::kNoNode;
}

std::vector<PartitionId> Engine::partition_ids() const {
  std::vector<PartitionId> out;
  for (const auto& [id, p] : *table_.snapshot()) out.push_back(id);
  return out;
}

std::vector<PartitionStatus> Engine::status() const {
  std::vector<PartitionStatus> out;
  for (const auto& [id, p] : *table_.snapshot()) {
    out.push_back({id, p->published(), liveness_.quiescent(*p), {}});
  }
  for (const auto& [id, why] : table_.damaged()) {
    PartitionStatus damaged;
    damaged.partition = id;
    damaged.storage_error = why;
    out.push_back(std::move(damaged));
  }
  std::sort(out.begin(), out.end(), [](const PartitionStatus& a, const PartitionStatus& b) {
    return a.partition < b.partition;
  });
  return out;
}

}  // namespace synod::node
