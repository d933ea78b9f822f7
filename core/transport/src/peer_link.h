// The link to one peer: its bounded queue, the thread that dials it and sends, the
// back-off after a failure, the accounting of every batch that does not arrive, and the
// streaming of snapshots in chunks read from their files. One lock per peer, held only for bookkeeping: a
// slow peer holds up nothing but its own link.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "link_context.h"
#include "link_session.h"
#include "snapshot_stream.h"

namespace synod::transport {

class PeerLink final : public SessionEvents {
 public:
  PeerLink(std::string address, LinkContext& context);
  // Joins the thread; close() must have been called if start() was.
  ~PeerLink() override;
  PeerLink(const PeerLink&) = delete;
  PeerLink& operator=(const PeerLink&) = delete;

  // Starts the link's thread; once at most.
  void start();
  // Takes a batch accepted by send(), or a snapshot with its file open, or drops it: the
  // link is down (back-off), full or closed. Counts and reports either way.
  void enqueue(Batch&& batch);
  void enqueue(snapshot_stream::Transfer&& transfer);
  // A new address: the session to the old one ends (losing what it had not acknowledged)
  // and the queue goes to the new one, dialled at once.
  void set_address(std::string address);
  // Ends the link: its session is cancelled, and its thread loses everything pending as
  // `reason` and ends. Later batches are lost the same way.
  void close(Counter reason);
  void join();
  // The thread has ended, or never started (so join() will not wait). Not concurrently
  // with start() or join().
  bool finished() const { return !thread_.joinable() || finished_.load(); }

  bool acknowledged(std::size_t count, bool refused) override;
  void broken() override;

 private:
  enum class End { Idle, Closed, Redial, Broken };
  // Sent (or being sent) and not yet acknowledged: a batch, or a snapshot chunk. The last
  // chunk of a transfer holds the transfer's batch, the others nothing.
  struct Pending {
    std::optional<Batch> batch;
    bool chunk = false;
    // The transfer a chunk belongs to.
    std::uint64_t transfer = 0;
  };

  // Counts `batch` sent, or loses it (moved from) when the link cannot take it.
  bool admit(Batch& batch);
  void run();
  End pump(std::unique_lock<std::mutex>& lock, LinkSession& session);
  // Ends the oldest pending items: delivered, or refused by the peer.
  void settle_oldest(std::size_t count);
  void refuse_oldest();
  // Ends the snapshot being streamed, not delivered: its file could not be read, or the
  // peer refused one of its chunks.
  void fail_transfer();
  void lose_in_flight();
  void lose_queued();
  Counter loss_reason() const;
  std::size_t pending_batches() const;
  // Cancels the current session, without the lock: a session may block in cancel() (an
  // HTTP client waits for a dial in progress).
  void cancel_session(std::unique_lock<std::mutex>& lock);

  LinkContext& context_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::string address_;
  // Accepted by send(), not yet sent.
  std::deque<Batch> queue_;
  // Snapshots to stream, after the one being streamed.
  std::deque<snapshot_stream::Transfer> snapshots_;
  // The snapshot being streamed. Only the link's thread uses it; others only look at it
  // (under the lock).
  std::optional<snapshot_stream::SnapshotCursor> cursor_;
  // A transfer whose chunk the peer refused: the link's thread (which may be reading its
  // file meanwhile) gives it up, if it is still streaming. Transfer ids start at 1.
  std::uint64_t refused_transfer_ = 0;
  std::deque<Pending> unacked_;
  std::size_t chunks_unacked_ = 0;
  // Batches taken out of the queue or the cursor, not yet settled.
  std::size_t held_ = 0;
  // Waiting out a back-off: send() drops at once.
  bool down_ = false;
  bool address_changed_ = false;
  bool broken_ = false;
  // The peer answered something on the current session (so the link works).
  bool answered_ = false;
  bool closed_ = false;
  Counter close_reason_ = &TransportStats::dropped_stopped;
  // The current session, so that other threads can cancel it; the link's thread destroys
  // it only once no cancel() on it is in progress.
  LinkSession* session_ = nullptr;
  int cancelling_ = 0;
  std::atomic<bool> finished_{false};
  std::thread thread_;
};

}  // namespace synod::transport
