#include "peer_link.h"

#include <algorithm>
#include <utility>

#include "wire_codec.h"

namespace synod::transport {

PeerLink::PeerLink(std::string address, LinkContext& context)
    : context_(context), address_(std::move(address)) {}

PeerLink::~PeerLink() { join(); }

void PeerLink::start() {
  thread_ = std::thread([this] { run(); });
}

void PeerLink::join() {
  if (thread_.joinable()) thread_.join();
}

std::size_t PeerLink::pending_batches() const {
  return queue_.size() + snapshots_.size() + (cursor_ ? 1 : 0) + held_;
}

Counter PeerLink::loss_reason() const {
  return closed_ ? close_reason_ : &TransportStats::dropped_peer_down;
}

bool PeerLink::admit(Batch& batch) {
  Counter loss = nullptr;
  if (closed_) {
    loss = close_reason_;
  } else if (down_) {
    loss = &TransportStats::dropped_peer_down;
  } else if (pending_batches() >= context_.max_queued_batches) {
    loss = &TransportStats::dropped_queue_full;
  }
  if (loss) {
    context_.lose(loss, std::move(batch), true);
    return false;
  }
  context_.count_sent(batch);
  return true;
}

void PeerLink::enqueue(Batch&& batch) {
  std::lock_guard lock(mu_);
  if (!admit(batch)) return;
  queue_.push_back(std::move(batch));
  wake_.notify_all();
}

void PeerLink::enqueue(snapshot_stream::Transfer&& transfer) {
  std::lock_guard lock(mu_);
  if (!admit(transfer.batch)) return;
  snapshots_.push_back(std::move(transfer));
  wake_.notify_all();
}

void PeerLink::set_address(std::string address) {
  std::unique_lock lock(mu_);
  if (address == address_) return;
  address_ = std::move(address);
  address_changed_ = true;
  wake_.notify_all();
  cancel_session(lock);
}

void PeerLink::close(Counter reason) {
  std::unique_lock lock(mu_);
  if (closed_) return;
  closed_ = true;
  close_reason_ = reason;
  wake_.notify_all();
  cancel_session(lock);
}

void PeerLink::cancel_session(std::unique_lock<std::mutex>& lock) {
  LinkSession* session = session_;
  if (!session) return;
  ++cancelling_;
  lock.unlock();
  session->cancel();
  lock.lock();
  if (--cancelling_ == 0) wake_.notify_all();
}

bool PeerLink::acknowledged(std::size_t count, bool refused) {
  std::lock_guard lock(mu_);
  if (count > unacked_.size() || (refused && count == 0)) return false;
  answered_ = true;
  settle_oldest(refused ? count - 1 : count);
  if (refused) refuse_oldest();
  return true;
}

void PeerLink::broken() {
  std::unique_lock lock(mu_);
  broken_ = true;
  wake_.notify_all();
  // Also ends a send() waiting for flow control.
  cancel_session(lock);
}

void PeerLink::settle_oldest(std::size_t count) {
  bool chunks = false;
  for (std::size_t i = 0; i < count; ++i) {
    Pending pending = std::move(unacked_.front());
    unacked_.pop_front();
    if (pending.chunk) {
      --chunks_unacked_;
      chunks = true;
    }
    if (pending.batch) {
      --held_;
      context_.notifier.delivered(*pending.batch);
    }
  }
  // The thread may be waiting for the chunk window to open.
  if (chunks) wake_.notify_all();
}

// A refusal is no broken link: nothing is counted lost, but a snapshot refused (or one
// whose chunk was) did not arrive, which its status says.
void PeerLink::refuse_oldest() {
  Pending pending = std::move(unacked_.front());
  unacked_.pop_front();
  if (pending.chunk) {
    --chunks_unacked_;
    wake_.notify_all();
  }
  if (pending.batch) {
    --held_;
    if (pending.chunk) context_.counters.add(&TransportStats::snapshot_transfers_failed);
    context_.notifier.lost(std::move(*pending.batch), false);
  } else if (pending.chunk && cursor_ && cursor_->id() == pending.transfer) {
    refused_transfer_ = pending.transfer;
  }
}

void PeerLink::fail_transfer() {
  context_.counters.add(&TransportStats::snapshot_transfers_failed);
  context_.notifier.lost(std::move(cursor_->transfer()), false);
  cursor_.reset();
}

void PeerLink::lose_in_flight() {
  const Counter reason = loss_reason();
  for (Pending& pending : unacked_) {
    if (!pending.batch) continue;
    --held_;
    context_.lose(reason, std::move(*pending.batch), true);
  }
  unacked_.clear();
  chunks_unacked_ = 0;
  if (cursor_) {
    context_.lose(reason, std::move(cursor_->transfer()), true);
    cursor_.reset();
  }
}

void PeerLink::lose_queued() {
  const Counter reason = loss_reason();
  for (Batch& batch : queue_) context_.lose(reason, std::move(batch), true);
  queue_.clear();
  for (snapshot_stream::Transfer& transfer : snapshots_) {
    context_.lose(reason, std::move(transfer.batch), true);
  }
  snapshots_.clear();
}

// Dials when there is something to send and sends until the session ends. After a
// failure, what was pending is lost and the next dial waits out a back-off: failures in a
// row double it, up to reconnect_max; an answer from the peer, or a new address, starts
// it over.
void PeerLink::run() {
  auto backoff = context_.reconnect_min;
  // The next dial follows a broken link or a failed dial: it counts as a reconnect.
  bool redialling = false;
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait(lock, [&] { return closed_ || !queue_.empty() || !snapshots_.empty(); });
    if (closed_) break;
    if (redialling) context_.counters.add(&TransportStats::reconnects);
    redialling = false;
    address_changed_ = false;
    broken_ = false;
    answered_ = false;
    const std::string address = address_;
    lock.unlock();
    std::unique_ptr<LinkSession> session = context_.wire->open_session(address, *this);
    lock.lock();
    session_ = session.get();
    bool connected = false;
    if (!closed_ && !address_changed_) {
      lock.unlock();
      connected = session->connect();
      lock.lock();
    }
    End end = connected ? pump(lock, *session) : End::Broken;
    session_ = nullptr;
    wake_.wait(lock, [&] { return cancelling_ == 0; });
    // Without the lock: a session's reader may be reporting acknowledgements.
    lock.unlock();
    session.reset();
    lock.lock();
    if (closed_) {
      end = End::Closed;
    } else if (address_changed_) {
      end = End::Redial;
    }
    if (end == End::Idle) continue;
    lose_in_flight();
    if (end == End::Closed) break;
    if (answered_ || end == End::Redial) backoff = context_.reconnect_min;
    if (end == End::Redial) continue;
    lose_queued();
    redialling = true;
    down_ = true;
    wake_.wait_for(lock, backoff, [&] { return closed_ || address_changed_; });
    down_ = false;
    backoff =
        address_changed_ ? context_.reconnect_min : std::min(backoff * 2, context_.reconnect_max);
  }
  lose_in_flight();
  lose_queued();
  finished_ = true;
}

// Sends the queue and the snapshot being streamed until the session ends: while a
// snapshot streams, a queued batch and a chunk take turns, so that a long transfer holds
// up no partition's heartbeats, and at most chunk_window() chunks await acknowledgement.
// A chunk is read from the file only when it is its turn to go, so the file is never
// read more than chunk_window() chunks ahead of what the peer has taken.
PeerLink::End PeerLink::pump(std::unique_lock<std::mutex>& lock, LinkSession& session) {
  const std::size_t window = context_.wire->chunk_window();
  const auto idle = context_.wire->idle_timeout();
  bool chunk_turn = false;
  while (true) {
    if (cursor_ && cursor_->id() == refused_transfer_) fail_transfer();
    if (!cursor_ && !snapshots_.empty()) {
      cursor_.emplace(std::move(snapshots_.front()), ++context_.transfers_begun,
                      context_.limits.chunk_bytes);
      snapshots_.pop_front();
    }
    auto chunk_due = [&] { return cursor_ && chunks_unacked_ < window; };
    // What the top of the loop does: a refused transfer ends, a queued snapshot begins.
    auto transfer_due = [&] {
      return cursor_ ? cursor_->id() == refused_transfer_ : !snapshots_.empty();
    };
    auto ready = [&] {
      return closed_ || address_changed_ || broken_ || !queue_.empty() || chunk_due() ||
             transfer_due();
    };
    if (idle.count() == 0) {
      wake_.wait(lock, ready);
    } else if (!wake_.wait_for(lock, idle, ready)) {
      if (unacked_.empty()) return End::Idle;
      continue;
    }
    if (closed_) return End::Closed;
    if (broken_) return End::Broken;
    if (address_changed_) return End::Redial;
    if (transfer_due()) continue;

    const bool chunk = chunk_due() && (chunk_turn || queue_.empty());
    chunk_turn = !chunk;
    Pending pending{std::nullopt, chunk, chunk ? cursor_->id() : 0};
    if (!chunk) {
      pending.batch = std::move(queue_.front());
      queue_.pop_front();
      ++held_;
    }
    // Read, encoded (and, by the session, signed) without the lock.
    lock.unlock();
    synod::wire::v1::Batch wire;
    bool readable = true;
    if (chunk) {
      std::string why;
      readable = cursor_->next(&wire, &why);
    } else {
      wire_codec::encode(*pending.batch, &wire);
    }
    const std::size_t bytes = readable ? wire.ByteSizeLong() : 0;
    lock.lock();
    if (chunk) {
      // The receiver gives the transfer up when a later one begins.
      if (!readable || cursor_->id() == refused_transfer_) {
        fail_transfer();
        continue;
      }
      ++chunks_unacked_;
      context_.counters.update([&](TransportStats& s) {
        ++s.snapshot_chunks_sent;
        s.snapshot_bytes_sent += wire.snapshot_chunk().data().size();
        s.bytes_sent += bytes;
      });
      if (cursor_->done()) {
        pending.batch = std::move(cursor_->transfer());
        cursor_.reset();
        ++held_;
      }
    } else {
      context_.counters.add(&TransportStats::bytes_sent, bytes);
    }
    // Before the send: its acknowledgement may come back before send() returns.
    unacked_.push_back(std::move(pending));
    lock.unlock();
    const LinkSession::Result result = session.send(std::move(wire));
    lock.lock();
    switch (result) {
      case LinkSession::Result::Written:
        break;
      case LinkSession::Result::Delivered:
        answered_ = true;
        settle_oldest(1);
        break;
      case LinkSession::Result::Refused:
        answered_ = true;
        refuse_oldest();
        break;
      case LinkSession::Result::Failed:
        return End::Broken;
    }
  }
}

}  // namespace synod::transport
