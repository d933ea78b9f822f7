// One network endpoint as the shared link layer sees it: the parts (lifecycle and
// handlers, counters, notifier, peer links, inbound side) put together, and the order in
// which stop() takes them down. A transport's create() makes one, attaches its Wire, and
// hands it to LinkTransport (network_transport.h).
#pragma once

#include <memory>

#include "batch_authenticator.h"
#include "counters.h"
#include "endpoint_state.h"
#include "inbound.h"
#include "link_context.h"
#include "link_session.h"
#include "link_set.h"
#include "notifier.h"
#include "synod/transport/network_transport.h"

namespace synod::transport::detail {

class LinkEndpoint {
 public:
  // `options` must have passed check_network_options().
  explicit LinkEndpoint(NetworkTransportOptions options);
  ~LinkEndpoint();
  LinkEndpoint(const LinkEndpoint&) = delete;
  LinkEndpoint& operator=(const LinkEndpoint&) = delete;

  // The transport's part, bound to `port`; before the endpoint is used.
  void attach(std::unique_ptr<Wire> wire, int port);

  const NetworkTransportOptions& options() const { return options_; }
  // Set in SharedSecret mode.
  const BatchAuthenticator* authenticator() const { return authenticator_.get(); }
  EndpointState& state() { return state_; }
  Inbound& inbound() { return inbound_; }
  LinkSet& links() { return links_; }
  int port() const { return port_; }

  void set_snapshot_files(SnapshotFiles* files) { context_.files = files; }
  void start();
  void send(Batch&& batch) { links_.send(std::move(batch)); }
  TransportStats stats() const { return counters_.snapshot(); }
  void stop();

 private:
  void tear_down();

  // First, so that it goes last: it joins a teardown started from inside a handler.
  EndpointState state_;
  const NetworkTransportOptions options_;
  std::unique_ptr<BatchAuthenticator> authenticator_;
  Counters counters_;
  Notifier notifier_;
  LinkContext context_;
  LinkSet links_;
  Inbound inbound_;
  std::unique_ptr<Wire> wire_;
  int port_ = 0;
};

}  // namespace synod::transport::detail
