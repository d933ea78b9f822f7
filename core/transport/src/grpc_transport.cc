#include "synod/transport/grpc_transport.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <climits>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "batch_authenticator.h"
#include "snapshot_stream.h"
#include "synod/wire.grpc.pb.h"
#include "wire_codec.h"

namespace synod::transport {
namespace {

namespace pb = synod::wire::v1;
using Counter = std::uint64_t TransportStats::*;

// Bounds one dialling attempt to a peer that neither accepts nor refuses (a host that is
// down drops SYNs); the attempt also looks for stop() this often.
constexpr auto kConnectTimeout = std::chrono::seconds(5);
constexpr auto kConnectPoll = std::chrono::milliseconds(50);
// How long stop() waits for inbound batches to be handled and acknowledged before it
// cancels the streams regardless (a peer that reads no acknowledgements would block it).
constexpr auto kAckGrace = std::chrono::seconds(1);
// Pings on an idle stream find a peer whose host vanished without closing the connection.
constexpr int kKeepaliveTimeMs = 10'000;
constexpr int kKeepaliveTimeoutMs = 5'000;

// What a Frame adds around its batch (sender, length prefix, signature), rounded up; the
// gRPC message limits grow by this much in shared-secret mode so that a batch of
// max_message_bytes still fits.
constexpr std::size_t kFrameOverhead = 128;

// Snapshot chunks written and not yet acknowledged, per peer: enough to keep the link busy,
// few enough that the peer's other batches never wait behind many of them.
constexpr std::size_t kChunkWindow = 4;

// The PEM files of the TLS modes, read once at create().
struct Pem {
  std::string ca;
  std::string cert;
  std::string key;
};

bool read_file(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  if (!in || !content) return false;
  *out = std::move(content).str();
  return true;
}

bool is_tls(SecurityMode mode) {
  return mode == SecurityMode::Tls || mode == SecurityMode::MutualTls;
}

// Tls: the server presents its certificate and asks for none. MutualTls: it also requires
// a client certificate that ca_file verifies.
std::shared_ptr<grpc::ServerCredentials> server_credentials(SecurityMode mode, const Pem& pem) {
  if (!is_tls(mode)) return grpc::InsecureServerCredentials();
  const bool mutual = mode == SecurityMode::MutualTls;
  grpc::SslServerCredentialsOptions options(
      mutual ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
             : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  if (mutual) options.pem_root_certs = pem.ca;
  options.pem_key_cert_pairs.push_back({pem.key, pem.cert});
  return grpc::SslServerCredentials(options);
}

// The client verifies the server against ca_file (and its name against the address it
// dials); under MutualTls it presents this node's certificate.
std::shared_ptr<grpc::ChannelCredentials> channel_credentials(SecurityMode mode, const Pem& pem) {
  if (!is_tls(mode)) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = pem.ca;
  if (mode == SecurityMode::MutualTls) {
    options.pem_private_key = pem.key;
    options.pem_cert_chain = pem.cert;
  }
  return grpc::SslCredentials(options);
}

int clamp_to_int(std::size_t value) {
  return static_cast<int>(std::min<std::size_t>(value, INT_MAX));
}

// "host:port" with a numeric port, an IPv6 host in brackets. gRPC itself would bind a
// missing port as 443 and wrap a port beyond 65535.
bool is_host_port(std::string_view address) {
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const std::string_view host = address.substr(0, colon);
  const std::string_view port = address.substr(colon + 1);
  if (host.find(':') != std::string_view::npos && (host.front() != '[' || host.back() != ']')) {
    return false;
  }
  if (port.empty() || port.size() > 5) return false;
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value <= 65535;
}

std::string check(const GrpcTransportOptions& o) {
  if (o.self == raft::kNoNode) return "grpc transport: self is node id 0";
  if (!is_host_port(o.listen_address)) {
    return "grpc transport: listen address '" + o.listen_address + "' is not host:port";
  }
  for (const auto& [id, address] : o.peers) {
    if (!is_host_port(address)) {
      return "grpc transport: address '" + address + "' of node " + std::to_string(id) +
             " is not host:port";
    }
  }
  if (o.max_queued_batches_per_peer == 0) return "grpc transport: max_queued_batches_per_peer is 0";
  if (o.max_message_bytes > INT_MAX) return "grpc transport: max_message_bytes must be below 2^31";
  if (std::string problem = snapshot_stream::check_options(
          o.snapshot_chunk_bytes, o.max_snapshot_bytes, o.max_message_bytes);
      !problem.empty()) {
    return "grpc transport: " + problem;
  }
  if (o.reconnect_min.count() <= 0 || o.reconnect_max < o.reconnect_min) {
    return "grpc transport: need 0 < reconnect_min <= reconnect_max";
  }
  if (std::string error; !validate(o.security, &error)) return "grpc transport: " + error;
  return {};
}

}  // namespace

struct GrpcTransport::Impl {
  // Written to a stream, not yet acknowledged: a batch, or a snapshot chunk. The last
  // chunk of a transfer holds the transfer's batch, the others nothing.
  struct Sent {
    std::optional<Batch> batch;
    bool chunk = false;
  };

  // One peer we send to. Everything here is guarded by Impl::mu.
  struct Peer {
    explicit Peer(std::string address) : address(std::move(address)) {}
    std::string address;
    // Accepted by send(), not yet written.
    std::deque<Batch> queue;
    // Snapshots to stream (snapshot_stream), after the one the writer is streaming.
    std::deque<Batch> snapshots;
    // Written to the open stream, not yet acknowledged, oldest first.
    std::deque<Sent> unacked;
    // Chunks among `unacked`.
    std::size_t chunks_unacked = 0;
    // Taken off the queue by the writer and being encoded (and signed) outside the lock,
    // or being streamed, so in no deque for a while: it still counts against the bound.
    std::size_t in_hand = 0;
    // Waiting out a back-off after a failure: send() drops at once.
    bool down = false;
    // The address changed: close the stream and dial the new one.
    bool redial = false;
    // The open stream failed (seen by the acknowledgement reader).
    bool broken = false;
    // The open stream's call, so that stop() and set_peer() can cancel it.
    grpc::ClientContext* call = nullptr;
    std::condition_variable wake;
    std::thread thread;
  };

  struct Report {
    NodeId peer;
    std::vector<Envelope> lost;
  };

  // The receiving side: one call per inbound stream.
  class Service final : public pb::Transport::Service {
   public:
    explicit Service(Impl& impl) : impl_(impl) {}
    grpc::Status Stream(grpc::ServerContext*,
                        grpc::ServerReaderWriter<pb::Ack, pb::Batch>* stream) override {
      return serve(*stream, [this](pb::Batch& batch, auto& assembler) {
        return impl_.authenticator ? impl_.refuse(&TransportStats::refused_unauthenticated)
                                   : impl_.receive(batch, assembler);
      });
    }
    grpc::Status SignedStream(grpc::ServerContext*,
                              grpc::ServerReaderWriter<pb::Ack, pb::Frame>* stream) override {
      if (!impl_.authenticator) {
        return {grpc::StatusCode::FAILED_PRECONDITION, "this endpoint has no shared secret"};
      }
      return serve(*stream, [this](pb::Frame& frame, auto& assembler) {
        return impl_.receive(frame, assembler);
      });
    }

   private:
    // Reads `In`s until the stream ends, handing each to `handle` (false: stopping) and
    // acknowledging it. A snapshot streamed on this stream and unfinished when it ends is
    // abandoned.
    template <typename In, typename Handle>
    grpc::Status serve(grpc::ServerReaderWriter<pb::Ack, In>& stream, Handle handle) {
      if (!impl_.is_running()) return {grpc::StatusCode::UNAVAILABLE, "not running"};
      snapshot_stream::SnapshotAssembler assembler(impl_.options.max_snapshot_bytes);
      const grpc::Status status = serve(stream, handle, assembler);
      if (assembler.abandon()) impl_.count(&TransportStats::snapshot_transfers_abandoned);
      return status;
    }

    template <typename In, typename Handle>
    grpc::Status serve(grpc::ServerReaderWriter<pb::Ack, In>& stream, Handle& handle,
                       snapshot_stream::SnapshotAssembler& assembler) {
      // The greeting tells the dialler that this end accepted the stream.
      pb::Ack ack;
      if (!stream.Write(ack)) return grpc::Status::OK;
      In in;
      std::uint64_t handled = 0;
      while (stream.Read(&in)) {
        Busy busy(impl_);
        // Not acknowledged when stopping, so the sender counts the batch as lost.
        if (!busy.admitted() || !handle(in, assembler)) {
          return {grpc::StatusCode::UNAVAILABLE, "stopping"};
        }
        ack.set_batches(++handled);
        // Onto the socket before stop() cancels the stream, so that a batch handed over
        // is not counted lost by its sender.
        if (!stream.Write(ack, grpc::WriteOptions().set_write_through())) break;
      }
      return grpc::Status::OK;
    }

    Impl& impl_;
  };

  Impl(GrpcTransportOptions o, const Pem& pem)
      : options(std::move(o)),
        limits{snapshot_stream::chunk_size(options.snapshot_chunk_bytes, options.max_message_bytes),
               options.max_snapshot_bytes, options.max_message_bytes},
        channel_creds(channel_credentials(options.security.mode, pem)),
        service(*this) {
    for (auto& [id, address] : options.peers) {
      peers.emplace(id, std::make_unique<Peer>(std::move(address)));
    }
    options.peers.clear();
    const TransportSecurity& security = options.security;
    if (security.mode == SecurityMode::SharedSecret) {
      authenticator = std::make_unique<BatchAuthenticator>(
          security.shared_secret, security.max_clock_skew, security.replay_cache_capacity);
    }
  }

  // The gRPC message limit: a batch, or in shared-secret mode a frame around one.
  int message_limit() const {
    return clamp_to_int(options.max_message_bytes + (authenticator ? kFrameOverhead : 0));
  }

  // An inbound batch from arrival until its acknowledgement is written; stop() lets
  // these finish (for a while) before it cancels the streams.
  class Busy {
   public:
    explicit Busy(Impl& impl) : impl_(impl) {
      std::lock_guard lock(impl_.mu);
      admitted_ = impl_.running;
      if (admitted_) ++impl_.inbound_busy;
    }
    ~Busy() {
      if (!admitted_) return;
      std::lock_guard lock(impl_.mu);
      if (--impl_.inbound_busy == 0) impl_.idle.notify_all();
    }
    Busy(const Busy&) = delete;
    Busy& operator=(const Busy&) = delete;
    bool admitted() const { return admitted_; }

   private:
    Impl& impl_;
    bool admitted_ = false;
  };

  // Marks the current thread as running a handler of this transport while it lives, and
  // counts it so stop() can wait for it; also on an exception.
  class Active {
   public:
    Active(Impl& impl, std::unique_lock<std::mutex>& lock)
        : impl_(impl), lock_(lock), outer_(running_handler_of) {
      ++impl_.active;
      running_handler_of = &impl_;
      lock_.unlock();
    }
    ~Active() {
      lock_.lock();
      running_handler_of = outer_;
      if (--impl_.active == 0) impl_.idle.notify_all();
    }
    Active(const Active&) = delete;
    Active& operator=(const Active&) = delete;

   private:
    Impl& impl_;
    std::unique_lock<std::mutex>& lock_;
    const Impl* outer_;
  };
  static thread_local const Impl* running_handler_of;

  bool is_running() {
    std::lock_guard lock(mu);
    return running;
  }

  // Counts a lost batch and, when `report`, queues it for the unreachable handler.
  void lose(Counter reason, Batch&& batch, bool report) {
    ++(stats.*reason);
    stats.messages_dropped += batch.envelopes.size();
    if (!report || !running) return;
    reports.push_back({batch.to, std::move(batch.envelopes)});
    reports_changed.notify_one();
  }

  // Big snapshots leave their batch and stream on their own; each part is then a batch.
  void send(Batch&& batch) {
    snapshot_stream::split(std::move(batch), limits, [this](Batch&& part, bool fits, bool streamed) {
      enqueue(std::move(part), fits, streamed);
    });
  }

  void enqueue(Batch&& batch, bool fits, bool streamed) {
    std::lock_guard lock(mu);
    if (!running) return lose(&TransportStats::dropped_stopped, std::move(batch), false);
    auto it = peers.find(batch.to);
    if (it == peers.end()) {
      return lose(&TransportStats::dropped_peer_unknown, std::move(batch), true);
    }
    if (!fits) return lose(&TransportStats::dropped_too_large, std::move(batch), true);
    Peer& peer = *it->second;
    if (peer.down) return lose(&TransportStats::dropped_peer_down, std::move(batch), true);
    if (peer.queue.size() + peer.snapshots.size() + peer.in_hand + peer.unacked.size() -
            peer.chunks_unacked >=
        options.max_queued_batches_per_peer) {
      return lose(&TransportStats::dropped_queue_full, std::move(batch), true);
    }
    ++stats.batches_sent;
    stats.messages_sent += batch.envelopes.size();
    (streamed ? peer.snapshots : peer.queue).push_back(std::move(batch));
    peer.wake.notify_one();
  }

  void count(Counter counter) {
    std::lock_guard lock(mu);
    ++(stats.*counter);
  }

  // Counts a batch refused on arrival; false when this endpoint no longer runs.
  bool refuse(Counter reason) {
    std::lock_guard lock(mu);
    if (!running) return false;
    ++(stats.*reason);
    return true;
  }

  // Checks a frame's signature before anything parses the batch inside; false when this
  // endpoint no longer runs.
  bool receive(pb::Frame& frame, snapshot_stream::SnapshotAssembler& assembler) {
    if (!frame.has_signature()) return refuse(&TransportStats::refused_unauthenticated);
    const pb::Signature& wire = frame.signature();
    const Signature signature{wire.timestamp_ms(), wire.nonce(), wire.mac()};
    switch (authenticator->verify(frame.batch(), frame.sender(), signature)) {
      case BatchAuthenticator::Verdict::Ok: break;
      case BatchAuthenticator::Verdict::BadSignature:
        return refuse(&TransportStats::refused_bad_signature);
      case BatchAuthenticator::Verdict::Stale: return refuse(&TransportStats::refused_stale);
      case BatchAuthenticator::Verdict::Replayed:
        return refuse(&TransportStats::refused_replayed);
      case BatchAuthenticator::Verdict::CacheFull:
        return refuse(&TransportStats::refused_replay_cache_full);
    }
    pb::Batch batch;
    // The signer vouched for `sender`; a batch claiming another is not what was signed for.
    if (!batch.ParseFromString(frame.batch()) || batch.from() != frame.sender()) {
      return refuse(&TransportStats::refused_malformed);
    }
    return receive(batch, assembler);
  }

  // Handles one inbound batch, or chunk of a snapshot streamed on this stream (which
  // `assembler` puts together); false when this endpoint no longer runs.
  bool receive(pb::Batch& wire, snapshot_stream::SnapshotAssembler& assembler) {
    wire_codec::Decoded decoded;
    std::string error;
    const bool ok = wire_codec::decode(wire, &decoded, &error);
    std::mutex* order = nullptr;
    {
      std::lock_guard lock(mu);
      if (!running) return false;
      if (!ok) {
        ++stats.refused_malformed;
        return true;
      }
      const Batch& batch = decoded.batch;
      if (batch.cluster != options.cluster) {
        ++stats.refused_foreign_cluster;
        return true;
      }
      if (!peers.contains(batch.from)) {
        ++stats.refused_unknown_sender;
        return true;
      }
      if (batch.to != options.self) {
        ++stats.refused_wrong_destination;
        return true;
      }
      order = &inbound_order[batch.from];
    }
    if (decoded.chunk) {
      const auto step = assembler.add(std::move(*decoded.chunk));
      std::lock_guard lock(mu);
      if (!running) return false;
      ++stats.snapshot_chunks_received;
      stats.messages_malformed += step.refused ? 1 : 0;
      stats.snapshot_transfers_abandoned += step.abandoned ? 1 : 0;
      if (!step.complete) return true;
      decoded.batch.envelopes.push_back(std::move(*step.complete));
    }
    // A sender's stream that is being replaced may still be delivering; this keeps that
    // sender's batches one at a time.
    std::lock_guard one_at_a_time(*order);
    std::unique_lock lock(mu);
    if (!running) return false;
    ++stats.batches_received;
    stats.messages_received += decoded.batch.envelopes.size();
    stats.messages_malformed += decoded.skipped;
    if (auto handler = receiver) {
      Active active(*this, lock);
      (*handler)(std::move(decoded.batch));
    }
    return true;
  }

  void run_notifier() {
    std::unique_lock lock(mu);
    while (true) {
      reports_changed.wait(lock, [&] { return stopped || !reports.empty(); });
      if (stopped) return;
      Report report = std::move(reports.front());
      reports.pop_front();
      if (auto handler = unreachable) {
        Active active(*this, lock);
        (*handler)(report.peer, std::move(report.lost));
      }
    }
  }

  // Everything queued or unacknowledged for `peer` is lost.
  void lose_pending(Peer& peer) {
    const Counter reason = stopped ? &TransportStats::dropped_stopped : &TransportStats::dropped_peer_down;
    for (Sent& sent : peer.unacked) {
      if (sent.batch) lose(reason, std::move(*sent.batch), true);
    }
    peer.unacked.clear();
    peer.chunks_unacked = 0;
    for (auto* pending : {&peer.queue, &peer.snapshots}) {
      for (Batch& batch : *pending) lose(reason, std::move(batch), true);
      pending->clear();
    }
  }

  // The peer's thread: dials when there is something to send, streams until the stream
  // breaks, then waits out the back-off. Failures in a row double the wait, up to
  // reconnect_max; a stream that worked, or a new address, starts it over.
  void run_peer(Peer& peer) {
    auto backoff = options.reconnect_min;
    std::unique_lock lock(mu);
    while (true) {
      peer.wake.wait(lock, [&] { return stopped || !peer.queue.empty() || !peer.snapshots.empty(); });
      if (stopped) break;
      peer.redial = false;
      peer.broken = false;
      const std::string address = peer.address;
      lock.unlock();
      const bool streamed = run_stream(peer, address);
      lock.lock();
      lose_pending(peer);
      if (stopped) break;
      if (streamed || peer.redial) backoff = options.reconnect_min;
      if (peer.redial) continue;
      peer.down = true;
      peer.wake.wait_for(lock, backoff, [&] { return stopped || peer.redial; });
      peer.down = false;
      backoff = std::min(backoff * 2, options.reconnect_max);
    }
    lose_pending(peer);
  }

  bool should_hang_up(const Peer& peer) {
    std::lock_guard lock(mu);
    return stopped || peer.redial;
  }

  bool await_connected(const Peer& peer, grpc::Channel& channel) {
    const auto deadline = std::chrono::steady_clock::now() + kConnectTimeout;
    for (auto state = channel.GetState(true); state != GRPC_CHANNEL_READY;
         state = channel.GetState(true)) {
      // Refused or unresolvable: give up now and let the back-off decide when to retry.
      if (state == GRPC_CHANNEL_TRANSIENT_FAILURE || state == GRPC_CHANNEL_SHUTDOWN) return false;
      if (should_hang_up(peer) || std::chrono::steady_clock::now() >= deadline) return false;
      channel.WaitForStateChange(state, std::chrono::system_clock::now() + kConnectPoll);
    }
    return true;
  }

  // One stream to `peer`: true if the peer accepted it.
  bool run_stream(Peer& peer, const std::string& address) {
    // A channel per attempt, with a subchannel of its own, so that this back-off alone
    // decides when to dial (not gRPC's, nor one shared with another endpoint).
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(message_limit());
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, kKeepaliveTimeMs);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, kKeepaliveTimeoutMs);
    args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
    const auto channel = grpc::CreateCustomChannel(address, channel_creds, args);
    if (!await_connected(peer, *channel)) return false;

    grpc::ClientContext context;
    {
      std::lock_guard lock(mu);
      if (stopped || peer.redial) return false;
      peer.call = &context;
    }
    const auto stub = pb::Transport::NewStub(channel);
    const bool accepted = authenticator ? converse(peer, context, *stub->SignedStream(&context))
                                        : converse(peer, context, *stub->Stream(&context));
    std::lock_guard lock(mu);
    peer.call = nullptr;
    return accepted;
  }

  // Runs an open stream until it ends: true if the peer accepted it.
  template <typename Out>
  bool converse(Peer& peer, grpc::ClientContext& context,
                grpc::ClientReaderWriter<Out, pb::Ack>& stream) {
    pb::Ack greeting;
    const bool accepted = stream.Read(&greeting) && greeting.batches() == 0;
    if (accepted) {
      std::thread acks([&] { read_acks(peer, stream); });
      write_batches(peer, stream);
      context.TryCancel();
      acks.join();
    } else {
      context.TryCancel();
    }
    stream.Finish();
    return accepted;
  }

  bool to_wire(pb::Batch&& wire, pb::Batch* out) const {
    *out = std::move(wire);
    return true;
  }

  // False if the batch cannot be signed (the CSPRNG failed). Signed for the sender its
  // header names, like everything else in it carried as given, for the receiver to check.
  bool to_wire(pb::Batch&& wire, pb::Frame* out) const {
    std::string bytes = wire.SerializeAsString();
    const auto signature = authenticator->sign(bytes, wire.from());
    if (!signature) return false;
    out->set_sender(wire.from());
    out->set_batch(std::move(bytes));
    pb::Signature* sig = out->mutable_signature();
    sig->set_timestamp_ms(signature->timestamp_ms);
    sig->set_nonce(signature->nonce);
    sig->set_mac(signature->mac);
    return true;
  }

  // Writes the peer's batches until the stream ends. While a snapshot streams, one queued
  // batch and one chunk take turns, and at most kChunkWindow chunks await acknowledgement.
  template <typename Out>
  void write_batches(Peer& peer, grpc::ClientReaderWriter<Out, pb::Ack>& stream) {
    std::optional<snapshot_stream::SnapshotCursor> cursor;
    std::unique_lock lock(mu);
    auto chunk_due = [&] { return cursor && peer.chunks_unacked < kChunkWindow; };
    while (true) {
      if (!cursor && !peer.snapshots.empty()) {
        cursor.emplace(std::move(peer.snapshots.front()), ++transfers_begun, limits.chunk_bytes);
        peer.snapshots.pop_front();
        ++peer.in_hand;
      }
      peer.wake.wait(lock, [&] {
        return stopped || peer.redial || peer.broken || !peer.queue.empty() || chunk_due();
      });
      if (stopped || peer.redial || peer.broken) break;
      if (!peer.queue.empty()) {
        Batch batch = std::move(peer.queue.front());
        peer.queue.pop_front();
        ++peer.in_hand;
        lock.unlock();
        pb::Batch encoded;
        wire_codec::encode(batch, &encoded);
        if (!write(peer, stream, lock, std::move(encoded), Sent{std::move(batch), false})) break;
      }
      if (chunk_due()) {
        lock.unlock();
        pb::Batch encoded;
        cursor->next(&encoded);
        Sent sent{std::nullopt, true};
        if (cursor->done()) {
          sent.batch = std::move(cursor->transfer());
          cursor.reset();
        }
        if (!write(peer, stream, lock, std::move(encoded), std::move(sent))) break;
      }
    }
    // Lost with the rest when the stream ends.
    if (cursor) {
      --peer.in_hand;
      peer.unacked.push_back({std::move(cursor->transfer()), false});
    }
  }

  // Called unlocked with a batch or chunk the writer took (counted in_hand); signs it if
  // need be, records it as unacknowledged and writes it. Returns locked: false when the
  // stream cannot go on.
  template <typename Out>
  bool write(Peer& peer, grpc::ClientReaderWriter<Out, pb::Ack>& stream,
             std::unique_lock<std::mutex>& lock, pb::Batch&& encoded, Sent&& sent) {
    Out wire;
    const bool ready = to_wire(std::move(encoded), &wire);
    lock.lock();
    if (sent.batch) --peer.in_hand;
    if (sent.chunk) {
      ++peer.chunks_unacked;
      ++stats.snapshot_chunks_sent;
    }
    // Before the write: its acknowledgement may come back before Write() returns. A batch
    // that could not be signed ends the stream, which counts it lost with the rest.
    peer.unacked.push_back(std::move(sent));
    if (!ready) return false;
    lock.unlock();
    const bool written = stream.Write(wire);
    lock.lock();
    return written;
  }

  template <typename Out>
  void read_acks(Peer& peer, grpc::ClientReaderWriter<Out, pb::Ack>& stream) {
    pb::Ack ack;
    std::uint64_t acked = 0;
    while (stream.Read(&ack)) {
      std::lock_guard lock(mu);
      // A receiver acknowledging what was never written is broken; hang up on it.
      if (ack.batches() < acked || ack.batches() - acked > peer.unacked.size()) break;
      const auto end = peer.unacked.begin() + static_cast<std::ptrdiff_t>(ack.batches() - acked);
      const auto chunks = static_cast<std::size_t>(
          std::count_if(peer.unacked.begin(), end, [](const Sent& sent) { return sent.chunk; }));
      peer.unacked.erase(peer.unacked.begin(), end);
      acked = ack.batches();
      peer.chunks_unacked -= chunks;
      // The writer may be waiting for the chunk window to open.
      if (chunks > 0) peer.wake.notify_all();
    }
    std::lock_guard lock(mu);
    peer.broken = true;
    // Also unblocks a write that is waiting for flow control.
    if (peer.call) peer.call->TryCancel();
    peer.wake.notify_all();
  }

  void start_thread(Peer& peer) {
    peer.thread = std::thread([this, &peer] { run_peer(peer); });
  }

  void start() {
    std::lock_guard lock(mu);
    if (running || stopped) return;
    running = true;
    notifier = std::thread([this] { run_notifier(); });
    for (auto& [id, peer] : peers) start_thread(*peer);
  }

  void set_peer(NodeId id, std::string address) {
    std::lock_guard lock(mu);
    auto [it, added] = peers.try_emplace(id, nullptr);
    if (added) {
      it->second = std::make_unique<Peer>(std::move(address));
      if (running) start_thread(*it->second);
      return;
    }
    Peer& peer = *it->second;
    if (peer.address == address) return;
    peer.address = std::move(address);
    peer.redial = true;
    if (peer.call) peer.call->TryCancel();
    peer.wake.notify_all();
  }

  void stop() {
    std::unique_lock lock(mu);
    running = false;
    stopped = true;
    for (auto& [id, peer] : peers) {
      if (peer->call) peer->call->TryCancel();
      peer->wake.notify_all();
    }
    reports_changed.notify_all();
    // Inside a handler the teardown cannot wait here: it waits for gRPC's handler
    // threads, possibly this one. It runs on a thread of its own instead.
    const bool inside_handler = running_handler_of == this;
    if (!teardown_started) {
      teardown_started = true;
      if (inside_handler) {
        reaper = std::thread([this] { tear_down(); });
      } else {
        lock.unlock();
        tear_down();
        lock.lock();
      }
    }
    if (inside_handler) return;
    idle.wait(lock, [&] { return active == 0 && torn_down; });
  }

  void tear_down() {
    {
      std::unique_lock lock(mu);
      idle.wait_for(lock, kAckGrace, [&] { return inbound_busy == 0; });
    }
    // Cancels every inbound stream now and waits for their calls to return.
    server->Shutdown(std::chrono::system_clock::now());
    server->Wait();
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mu);
      threads.push_back(std::move(notifier));
      for (auto& [id, peer] : peers) threads.push_back(std::move(peer->thread));
    }
    for (auto& thread : threads) {
      if (thread.joinable()) thread.join();
    }
    std::lock_guard lock(mu);
    reports.clear();
    torn_down = true;
    idle.notify_all();
  }

  GrpcTransportOptions options;
  const snapshot_stream::Limits limits;
  // Names streamed snapshots on the wire; guarded by mu.
  std::uint64_t transfers_begun = 0;
  // Shared-secret mode only.
  std::unique_ptr<BatchAuthenticator> authenticator;
  const std::shared_ptr<grpc::ChannelCredentials> channel_creds;

  mutable std::mutex mu;
  bool running = false;
  bool stopped = false;
  bool teardown_started = false;
  bool torn_down = false;
  // Handlers running now; stop() waits for them.
  int active = 0;
  // Inbound batches not yet acknowledged (see Busy).
  int inbound_busy = 0;
  std::condition_variable idle;
  std::shared_ptr<const Receiver> receiver;
  std::shared_ptr<const UnreachableHandler> unreachable;
  TransportStats stats;
  std::map<NodeId, std::unique_ptr<Peer>> peers;
  // Serializes delivery per sender (see receive()).
  std::map<NodeId, std::mutex> inbound_order;
  std::deque<Report> reports;
  std::condition_variable reports_changed;
  std::thread notifier;
  // Runs the teardown when stop() is called from inside a handler.
  std::thread reaper;

  // The server calls into the service, so it is declared after it (and goes first).
  Service service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

thread_local const GrpcTransport::Impl* GrpcTransport::Impl::running_handler_of = nullptr;

std::unique_ptr<GrpcTransport> GrpcTransport::create(GrpcTransportOptions options,
                                                     std::string* error) {
  auto fail = [&](std::string message) -> std::unique_ptr<GrpcTransport> {
    if (error) *error = std::move(message);
    return nullptr;
  };
  if (std::string problem = check(options); !problem.empty()) return fail(std::move(problem));
  Pem pem;
  if (is_tls(options.security.mode)) {
    for (const auto& [path, out] : {std::pair{&options.security.ca_file, &pem.ca},
                                    {&options.security.cert_file, &pem.cert},
                                    {&options.security.key_file, &pem.key}}) {
      if (!read_file(*path, out)) return fail("grpc transport: cannot read '" + *path + "'");
    }
  }
  auto impl = std::make_unique<Impl>(std::move(options), pem);
  const GrpcTransportOptions& o = impl->options;

  grpc::ServerBuilder builder;
  builder.AddListeningPort(o.listen_address, server_credentials(o.security.mode, pem),
                           &impl->port);
  builder.RegisterService(&impl->service);
  builder.SetMaxReceiveMessageSize(impl->message_limit());
  // Otherwise a second endpoint could bind a port that is in use and share its traffic.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Accept the keepalive pings of our own diallers.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             kKeepaliveTimeMs / 2);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  impl->server = builder.BuildAndStart();
  if (!impl->server || impl->port == 0) {
    return fail("grpc transport: cannot listen on '" + o.listen_address +
                "' (bad address, or in use)");
  }
  if (o.security.mode == SecurityMode::Plain && o.on_warning) {
    o.on_warning("grpc transport: node " + std::to_string(o.self) + " listens on " +
                 o.listen_address +
                 " in plain text: neither encrypted nor authenticated, so anyone who can reach "
                 "it can take part in the cluster; set security to Tls, MutualTls or "
                 "SharedSecret");
  }
  return std::unique_ptr<GrpcTransport>(new GrpcTransport(std::move(impl)));
}

GrpcTransport::GrpcTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

GrpcTransport::~GrpcTransport() {
  stop();
  if (impl_->reaper.joinable()) impl_->reaper.join();
}

int GrpcTransport::listen_port() const { return impl_->port; }

void GrpcTransport::set_peer(NodeId peer, std::string address) {
  impl_->set_peer(peer, std::move(address));
}

void GrpcTransport::set_receiver(Receiver receiver) {
  auto shared = receiver ? std::make_shared<const Receiver>(std::move(receiver)) : nullptr;
  std::lock_guard lock(impl_->mu);
  impl_->receiver = std::move(shared);
}

void GrpcTransport::set_unreachable_handler(UnreachableHandler handler) {
  auto shared = handler ? std::make_shared<const UnreachableHandler>(std::move(handler)) : nullptr;
  std::lock_guard lock(impl_->mu);
  impl_->unreachable = std::move(shared);
}

void GrpcTransport::start() { impl_->start(); }

void GrpcTransport::stop() { impl_->stop(); }

void GrpcTransport::send(Batch batch) { impl_->send(std::move(batch)); }

TransportStats GrpcTransport::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

}  // namespace synod::transport
