#include "link_endpoint.h"

#include <utility>

namespace synod::transport::detail {
namespace {

std::unique_ptr<BatchAuthenticator> authenticator_for(const TransportSecurity& security) {
  if (security.mode != SecurityMode::SharedSecret) return nullptr;
  return std::make_unique<BatchAuthenticator>(security.shared_secret, security.max_clock_skew,
                                              security.replay_cache_capacity);
}

}  // namespace

LinkEndpoint::LinkEndpoint(NetworkTransportOptions options)
    : options_(std::move(options)),
      authenticator_(authenticator_for(options_.security)),
      notifier_(state_),
      context_{
          nullptr,
          counters_,
          notifier_,
          {snapshot_stream::chunk_size(options_.snapshot_chunk_bytes, options_.max_message_bytes),
           options_.max_snapshot_bytes, options_.max_message_bytes},
          options_.max_queued_batches_per_peer,
          options_.reconnect_min,
          options_.reconnect_max},
      links_(context_, options_.peers),
      inbound_(options_, authenticator_.get(), state_, counters_, links_, context_.files) {}

LinkEndpoint::~LinkEndpoint() { stop(); }

void LinkEndpoint::attach(std::unique_ptr<Wire> wire, int port) {
  wire_ = std::move(wire);
  context_.wire = wire_.get();
  port_ = port;
}

void LinkEndpoint::start() {
  if (!state_.start()) return;
  notifier_.start();
  links_.start();
}

void LinkEndpoint::stop() {
  // At once, also from inside a handler: no batch is taken any more, and every session
  // is cancelled.
  links_.close();
  state_.stop([this] { tear_down(); });
}

// Inbound first, so that no batch arrives from a peer whose link is gone (and no snapshot
// file stays open for writing); then the links, whose threads lose what they held (and
// close the files they read); then the notifier, which reports the snapshots among it.
void LinkEndpoint::tear_down() {
  if (wire_) wire_->stop_serving();
  inbound_.abandon_all();
  links_.join();
  notifier_.finish();
}

}  // namespace synod::transport::detail
