// What a network transport supplies to the shared link layer: how one connection to a
// peer carries batches (LinkSession), and its server side (Wire). Everything else (queues,
// back-off, loss reporting, snapshot chunking, admission, ordering) is the layer's.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "synod/wire.pb.h"

namespace synod::transport {

// How a session tells its link about acknowledgements that arrive on a thread of their
// own (gRPC). Sessions that answer each send() before it returns (REST) need not use it.
class SessionEvents {
 public:
  virtual ~SessionEvents() = default;
  // The peer acknowledged `count` more of what was sent, oldest first; `refused`: it
  // refused the last of them. False when that is more than was sent (or a refusal of
  // nothing): the peer is broken and the session should hang up.
  virtual bool acknowledged(std::size_t count, bool refused) = 0;
  // The session broke (the peer hung up, the connection failed).
  virtual void broken() = 0;
};

// One connection to one peer, used by one link thread; cancel() alone may come from any
// thread, at any time, and must not block.
class LinkSession {
 public:
  enum class Result {
    Written,    // on its way; acknowledged later through SessionEvents
    Delivered,  // the peer took it
    Refused,    // the peer answered, but refused it; the session goes on
    Failed,     // not sent, or no answer: the session is over
  };

  virtual ~LinkSession() = default;
  // Dials the peer; false when it cannot be reached (or cancel() was called).
  virtual bool connect() = 0;
  // Sends one batch, or one chunk of a streamed snapshot. A session whose acknowledgements
  // come through SessionEvents answers Written.
  virtual Result send(synod::wire::v1::Batch&& wire) = 0;
  // Ends the session: connect() and send() return soon, failing.
  virtual void cancel() = 0;
};

// The transport-specific part of a network endpoint.
class Wire {
 public:
  virtual ~Wire() = default;
  // A session to `address`, not yet connected. `events` outlives it.
  virtual std::unique_ptr<LinkSession> open_session(const std::string& address,
                                                    SessionEvents& events) = 0;
  // Snapshot chunks sent and not yet acknowledged, at most.
  virtual std::size_t chunk_window() const = 0;
  // How long a session may wait for something to send before the link closes it; zero:
  // for ever.
  virtual std::chrono::milliseconds idle_timeout() const = 0;
  // Stops receiving: lets the answers in progress finish (for a while), ends the inbound
  // connections and returns once no server thread runs the receiver any more.
  virtual void stop_serving() = 0;
};

}  // namespace synod::transport
