// The receiving side that both network transports share, from the bytes of a batch to
// the receiver: the signature check (SharedSecret), decoding, admission (cluster, sender,
// destination), per-sender ordering, writing streamed snapshots into their files, counting
// and the hand-over. A transport's server only carries bytes in and the verdict back.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>

#include "batch_authenticator.h"
#include "counters.h"
#include "endpoint_state.h"
#include "link_set.h"
#include "snapshot_stream.h"
#include "synod/transport/network_transport.h"
#include "synod/wire.pb.h"

namespace synod::transport {

class Inbound {
 public:
  enum class Verdict {
    Delivered,   // handed to the receiver
    Held,        // a snapshot chunk taken; the transfer goes on
    Refused,     // counted in `reason`
    BadChunk,    // a chunk that continues no transfer (messages_malformed)
    SnapshotRefused,  // a snapshot that cannot be stored (snapshot_transfers_refused)
    NotRunning,  // the endpoint does not run: nothing was counted
  };
  struct Result {
    Verdict verdict;
    Counter reason = nullptr;  // for Refused
  };

  // `files`: where snapshots are written (set_snapshot_files()).
  Inbound(const NetworkTransportOptions& options, BatchAuthenticator* authenticator,
          EndpointState& state, Counters& counters, const LinkSet& links,
          const std::atomic<SnapshotFiles*>& files);

  // Checks the signature of `bytes` (SharedSecret): nullopt when valid, else the refusal,
  // counted. Only for an endpoint with an authenticator.
  std::optional<Result> authenticate(std::string_view bytes, NodeId sender,
                                     const Signature& signature);

  // Handles one batch or snapshot chunk. `signed_by`: the sender that signed it, which
  // the batch must name. `assembler`: where a chunk goes, when the transport keeps one
  // per connection; otherwise one per sender.
  Result receive(synod::wire::v1::Batch& wire, std::optional<NodeId> signed_by,
                 snapshot_stream::SnapshotAssembler* assembler);

  // Counts a refusal while the endpoint runs.
  Result refuse(Counter reason);
  // A connection ended with its snapshot transfer unfinished.
  void count_abandoned();
  // Gives up the unfinished transfers of every sender (their writers go), once no batch
  // arrives any more (the endpoint stops).
  void abandon_all();

 private:
  // Per sender: its batches are handed over one at a time (a connection being replaced
  // may still be delivering), and, without a per-connection assembler, its streamed
  // snapshot is put together; `order` guards the assembler.
  struct Sender {
    explicit Sender(std::uint64_t max_snapshot_bytes) : assembler(max_snapshot_bytes) {}
    std::mutex order;
    snapshot_stream::SnapshotAssembler assembler;
  };

  Sender& sender(NodeId node);

  const NetworkTransportOptions& options_;
  BatchAuthenticator* authenticator_;
  EndpointState& state_;
  Counters& counters_;
  const LinkSet& links_;
  const std::atomic<SnapshotFiles*>& files_;
  std::mutex senders_mu_;
  std::map<NodeId, Sender> senders_;
};

}  // namespace synod::transport
