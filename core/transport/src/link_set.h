// The peers of a network endpoint and their links: where send() puts a batch, which
// senders the receiver accepts, and peers added, moved and removed at runtime. The map
// has a lock of its own, shared by concurrent sends and taken alone only to change it;
// each link then locks itself.
#pragma once

#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "link_context.h"
#include "peer_link.h"

namespace synod::transport {

class LinkSet {
 public:
  LinkSet(LinkContext& context, const std::map<NodeId, std::string>& peers);
  // join() must have been called if start() was.
  ~LinkSet() = default;
  LinkSet(const LinkSet&) = delete;
  LinkSet& operator=(const LinkSet&) = delete;

  // Starts every link; no effect once closed.
  void start();
  // Splits off the snapshots, each to stream from its file (opened here), then hands each
  // part to its peer's link, or drops it (not running, unknown peer, too large, no
  // snapshot file), counting and reporting it.
  void send(Batch&& batch);
  // Whether `node` is a peer, whose batches the endpoint accepts.
  bool knows(NodeId node) const;
  void set_peer(NodeId peer, std::string address);
  void remove_peer(NodeId peer);
  // Closes every link (stop()); once it returns, no send() reaches a link or the notifier
  // any more. Idempotent.
  void close();
  // Waits for every link's thread, those of removed peers too.
  void join();

 private:
  // The link a part of a batch goes to, or nullptr after dropping the part (not running,
  // unknown peer, not `fits`). Needs the lock, shared.
  PeerLink* route(Batch& part, bool fits);
  // Joins the links of removed peers whose threads have ended. Needs the lock alone.
  void reap_removed();

  LinkContext& context_;
  mutable std::shared_mutex mu_;
  bool running_ = false;
  bool closed_ = false;
  // Shared, so that a link can be told something without the lock (which would hold up
  // every send() while a session is being cancelled).
  std::map<NodeId, std::shared_ptr<PeerLink>> links_;
  // Links of removed peers, until their threads have ended.
  std::vector<std::shared_ptr<PeerLink>> removed_;
};

}  // namespace synod::transport
