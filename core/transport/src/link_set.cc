#include "link_set.h"

#include <algorithm>
#include <mutex>
#include <utility>

namespace synod::transport {

LinkSet::LinkSet(LinkContext& context, const std::map<NodeId, std::string>& peers)
    : context_(context) {
  for (const auto& [id, address] : peers) {
    links_.emplace(id, std::make_shared<PeerLink>(address, context_));
  }
}

void LinkSet::start() {
  std::unique_lock lock(mu_);
  if (running_ || closed_) return;
  running_ = true;
  for (auto& [id, link] : links_) link->start();
}

void LinkSet::send(Batch&& batch) {
  std::shared_lock lock(mu_);
  std::vector<Batch> snapshots = snapshot_stream::take_snapshots(batch);
  if (!batch.envelopes.empty() || snapshots.empty()) {
    const bool fits = wire_codec::encoded_size_bound(batch) <= context_.limits.max_message_bytes;
    if (PeerLink* link = route(batch, fits)) link->enqueue(std::move(batch));
  }
  for (Batch& snapshot : snapshots) {
    PeerLink* link = route(snapshot, snapshot_stream::first_chunk_fits(snapshot, context_.limits));
    if (!link) continue;
    Counter failure = nullptr;
    auto reader = snapshot_stream::open(snapshot, context_.files.load(), context_.limits, &failure);
    if (!reader) {
      // The peer is fine: only a file too large says nothing reaches it.
      const bool unreachable = failure == &TransportStats::dropped_too_large;
      context_.lose(failure, std::move(snapshot), unreachable);
      continue;
    }
    link->enqueue(snapshot_stream::Transfer{std::move(snapshot), std::move(reader)});
  }
}

PeerLink* LinkSet::route(Batch& part, bool fits) {
  // No handler may run for it: the endpoint does not run.
  if (!running_) {
    context_.lose(&TransportStats::dropped_stopped, std::move(part), false);
    return nullptr;
  }
  auto it = links_.find(part.to);
  if (it == links_.end()) {
    context_.lose(&TransportStats::dropped_peer_unknown, std::move(part), true);
    return nullptr;
  }
  if (!fits) {
    context_.lose(&TransportStats::dropped_too_large, std::move(part), true);
    return nullptr;
  }
  return it->second.get();
}

bool LinkSet::knows(NodeId node) const {
  std::shared_lock lock(mu_);
  return links_.contains(node);
}

void LinkSet::set_peer(NodeId peer, std::string address) {
  std::shared_ptr<PeerLink> link;
  {
    std::unique_lock lock(mu_);
    auto [it, added] = links_.try_emplace(peer, nullptr);
    if (added) {
      it->second = std::make_shared<PeerLink>(std::move(address), context_);
      if (running_) it->second->start();
      return;
    }
    link = it->second;
  }
  link->set_address(std::move(address));
}

void LinkSet::remove_peer(NodeId peer) {
  std::shared_ptr<PeerLink> link;
  {
    std::unique_lock lock(mu_);
    reap_removed();
    auto it = links_.find(peer);
    if (it == links_.end()) return;
    link = it->second;
    // Its thread may still be in a dial or a send that the close ends soon: joined later,
    // not here, so that the caller never waits for the network.
    removed_.push_back(std::move(it->second));
    links_.erase(it);
  }
  link->close(&TransportStats::dropped_peer_unknown);
}

void LinkSet::reap_removed() {
  auto ended =
      std::partition(removed_.begin(), removed_.end(),
                     [](const std::shared_ptr<PeerLink>& link) { return !link->finished(); });
  // Their threads have ended: destroying them joins at once.
  removed_.erase(ended, removed_.end());
}

void LinkSet::close() {
  std::vector<std::shared_ptr<PeerLink>> links;
  {
    std::unique_lock lock(mu_);
    running_ = false;
    closed_ = true;
    for (auto& [id, link] : links_) links.push_back(link);
  }
  for (auto& link : links) link->close(&TransportStats::dropped_stopped);
}

// With the lock, so that no link goes away meanwhile; the links' threads never take it.
void LinkSet::join() {
  std::shared_lock lock(mu_);
  for (auto& [id, link] : links_) link->join();
  for (auto& link : removed_) link->join();
}

}  // namespace synod::transport
