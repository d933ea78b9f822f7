// LinkTransport (network_transport.h): the public face of a LinkEndpoint.
#include <utility>

#include "link_endpoint.h"
#include "synod/transport/network_transport.h"

namespace synod::transport::detail {

LinkTransport::LinkTransport(std::unique_ptr<LinkEndpoint> endpoint)
    : endpoint_(std::move(endpoint)) {}

LinkTransport::~LinkTransport() = default;

int LinkTransport::listen_port() const { return endpoint_->port(); }

void LinkTransport::set_peer(NodeId peer, std::string address) {
  endpoint_->links().set_peer(peer, std::move(address));
}

void LinkTransport::remove_peer(NodeId peer) { endpoint_->links().remove_peer(peer); }

void LinkTransport::set_receiver(Receiver receiver) {
  endpoint_->state().set_receiver(std::move(receiver));
}

void LinkTransport::set_unreachable_handler(UnreachableHandler handler) {
  endpoint_->state().set_unreachable_handler(std::move(handler));
}

void LinkTransport::set_snapshot_status_handler(SnapshotStatusHandler handler) {
  endpoint_->state().set_snapshot_status_handler(std::move(handler));
}

void LinkTransport::set_snapshot_files(SnapshotFiles* files) {
  endpoint_->set_snapshot_files(files);
}

void LinkTransport::start() { endpoint_->start(); }

void LinkTransport::stop() { endpoint_->stop(); }

void LinkTransport::send(Batch batch) { endpoint_->send(std::move(batch)); }

TransportStats LinkTransport::stats() const { return endpoint_->stats(); }

}  // namespace synod::transport::detail
