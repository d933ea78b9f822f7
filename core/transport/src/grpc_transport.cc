// The gRPC transport: its session (one bidirectional stream per peer, acknowledged batch
// by batch) and its server side. Everything else is the shared link layer's
// (link_endpoint.h).
#include "synod/transport/grpc_transport.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <climits>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include "link_endpoint.h"
#include "network_options.h"
#include "synod/wire.grpc.pb.h"

namespace synod::transport {
namespace {

namespace pb = synod::wire::v1;

constexpr const char* kName = "grpc transport";
// Bounds one dialling attempt to a peer that neither accepts nor refuses (a host that is
// down drops SYNs); the attempt also looks for cancel() this often.
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
std::shared_ptr<grpc::ChannelCredentials> client_credentials(SecurityMode mode, const Pem& pem) {
  if (!is_tls(mode)) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = pem.ca;
  if (mode == SecurityMode::MutualTls) {
    options.pem_private_key = pem.key;
    options.pem_cert_chain = pem.cert;
  }
  return grpc::SslCredentials(options);
}

// An inbound batch from arrival until its acknowledgement is written; stop() lets these
// finish (for a while) before it cancels the streams.
class Answer {
 public:
  explicit Answer(EndpointState& state) : state_(state), admitted_(state.begin_answer()) {}
  ~Answer() {
    if (admitted_) state_.end_answer();
  }
  Answer(const Answer&) = delete;
  Answer& operator=(const Answer&) = delete;
  bool admitted() const { return admitted_; }

 private:
  EndpointState& state_;
  const bool admitted_;
};

class GrpcWire;

// One stream to a peer: `Out` is pb::Batch on the Stream call, pb::Frame (signed) on
// SignedStream. A reader thread reports the acknowledgements.
template <typename Out>
class GrpcSession final : public LinkSession {
 public:
  GrpcSession(const GrpcWire& wire, std::string address, SessionEvents& events)
      : wire_(wire), address_(std::move(address)), events_(events) {}
  ~GrpcSession() override {
    context_.TryCancel();
    if (reader_.joinable()) reader_.join();
    if (stream_) stream_->Finish();
  }
  GrpcSession(const GrpcSession&) = delete;
  GrpcSession& operator=(const GrpcSession&) = delete;

  bool connect() override;
  Result send(pb::Batch&& wire) override;
  void cancel() override {
    cancelled_ = true;
    // Before the call starts too: gRPC cancels it as it starts.
    context_.TryCancel();
  }

 private:
  bool await_connected(grpc::Channel& channel) const;
  bool to_wire(pb::Batch&& wire, Out* out) const;
  void read_acks();

  const GrpcWire& wire_;
  const std::string address_;
  SessionEvents& events_;
  std::atomic<bool> cancelled_{false};
  grpc::ClientContext context_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pb::Transport::Stub> stub_;
  std::unique_ptr<grpc::ClientReaderWriter<Out, pb::Ack>> stream_;
  std::thread reader_;
};

// The receiving side: one call per inbound stream.
class Service final : public pb::Transport::Service {
 public:
  explicit Service(detail::LinkEndpoint& endpoint) : endpoint_(endpoint) {}

  grpc::Status Stream(grpc::ServerContext*,
                      grpc::ServerReaderWriter<pb::Ack, pb::Batch>* stream) override {
    return serve(*stream, [this](pb::Batch& batch, snapshot_stream::SnapshotAssembler& assembler) {
      if (endpoint_.authenticator()) {
        return inbound().refuse(&TransportStats::refused_unauthenticated);
      }
      return inbound().receive(batch, std::nullopt, &assembler);
    });
  }

  grpc::Status SignedStream(grpc::ServerContext*,
                            grpc::ServerReaderWriter<pb::Ack, pb::Frame>* stream) override {
    if (!endpoint_.authenticator()) {
      return {grpc::StatusCode::FAILED_PRECONDITION, "this endpoint has no shared secret"};
    }
    return serve(*stream, [this](pb::Frame& frame, snapshot_stream::SnapshotAssembler& assembler) {
      return receive(frame, assembler);
    });
  }

 private:
  Inbound& inbound() { return endpoint_.inbound(); }

  // Checks a frame's signature before anything parses the batch inside.
  Inbound::Result receive(pb::Frame& frame, snapshot_stream::SnapshotAssembler& assembler) {
    if (!frame.has_signature()) return inbound().refuse(&TransportStats::refused_unauthenticated);
    const pb::Signature& wire = frame.signature();
    const Signature signature{wire.timestamp_ms(), wire.nonce(), wire.mac()};
    if (auto refused = inbound().authenticate(frame.batch(), frame.sender(), signature)) {
      return *refused;
    }
    pb::Batch batch;
    if (!batch.ParseFromString(frame.batch())) {
      return inbound().refuse(&TransportStats::refused_malformed);
    }
    return inbound().receive(batch, frame.sender(), &assembler);
  }

  // Reads `In`s until the stream ends, handing each to `handle` and acknowledging it. A
  // snapshot streamed on this stream and unfinished when it ends is abandoned.
  template <typename In, typename Handle>
  grpc::Status serve(grpc::ServerReaderWriter<pb::Ack, In>& stream, Handle handle) {
    if (!endpoint_.state().running()) return {grpc::StatusCode::UNAVAILABLE, "not running"};
    snapshot_stream::SnapshotAssembler assembler(endpoint_.options().max_snapshot_bytes);
    const grpc::Status status = serve(stream, handle, assembler);
    if (assembler.abandon()) inbound().count_abandoned();
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
      Answer answer(endpoint_.state());
      const Inbound::Verdict verdict =
          answer.admitted() ? handle(in, assembler).verdict : Inbound::Verdict::NotRunning;
      // Not acknowledged when stopping, so the sender counts the batch as lost.
      if (verdict == Inbound::Verdict::NotRunning) {
        return {grpc::StatusCode::UNAVAILABLE, "stopping"};
      }
      ack.set_batches(++handled);
      ack.set_refused(verdict != Inbound::Verdict::Delivered && verdict != Inbound::Verdict::Held);
      // Onto the socket before stop() cancels the stream, so that a batch handed over is
      // not counted lost by its sender.
      if (!stream.Write(ack, grpc::WriteOptions().set_write_through())) break;
    }
    return grpc::Status::OK;
  }

  detail::LinkEndpoint& endpoint_;
};

class GrpcWire final : public Wire {
 public:
  GrpcWire(detail::LinkEndpoint& endpoint, const Pem& pem)
      : endpoint_(endpoint),
        channel_credentials_(client_credentials(endpoint.options().security.mode, pem)),
        service_(endpoint) {}

  // The gRPC message limit: a batch, or in shared-secret mode a frame around one.
  int message_limit() const {
    const std::size_t limit =
        endpoint_.options().max_message_bytes + (endpoint_.authenticator() ? kFrameOverhead : 0);
    return static_cast<int>(std::min<std::size_t>(limit, INT_MAX));
  }
  const BatchAuthenticator* authenticator() const { return endpoint_.authenticator(); }
  const std::shared_ptr<grpc::ChannelCredentials>& channel_credentials() const {
    return channel_credentials_;
  }

  // Binds and starts the server; the port, or 0.
  int serve(const Pem& pem) {
    const NetworkTransportOptions& o = endpoint_.options();
    int port = 0;
    grpc::ServerBuilder builder;
    builder.AddListeningPort(o.listen_address, server_credentials(o.security.mode, pem), &port);
    builder.RegisterService(&service_);
    builder.SetMaxReceiveMessageSize(message_limit());
    // Otherwise a second endpoint could bind a port that is in use and share its traffic.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    // Accept the keepalive pings of our own diallers.
    builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                               kKeepaliveTimeMs / 2);
    builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
    server_ = builder.BuildAndStart();
    return server_ ? port : 0;
  }

  std::unique_ptr<LinkSession> open_session(const std::string& address,
                                            SessionEvents& events) override {
    if (authenticator()) return std::make_unique<GrpcSession<pb::Frame>>(*this, address, events);
    return std::make_unique<GrpcSession<pb::Batch>>(*this, address, events);
  }
  std::size_t chunk_window() const override { return kChunkWindow; }
  std::chrono::milliseconds idle_timeout() const override { return {}; }

  void stop_serving() override {
    endpoint_.state().await_answers(kAckGrace);
    // Cancels every inbound stream now and waits for their calls to return.
    server_->Shutdown(std::chrono::system_clock::now());
    server_->Wait();
  }

 private:
  detail::LinkEndpoint& endpoint_;
  const std::shared_ptr<grpc::ChannelCredentials> channel_credentials_;
  // The server calls into the service, so it is declared after it (and goes first).
  Service service_;
  std::unique_ptr<grpc::Server> server_;
};

template <typename Out>
bool GrpcSession<Out>::await_connected(grpc::Channel& channel) const {
  const auto deadline = std::chrono::steady_clock::now() + kConnectTimeout;
  for (auto state = channel.GetState(true); state != GRPC_CHANNEL_READY;
       state = channel.GetState(true)) {
    // Refused or unresolvable: give up now and let the back-off decide when to retry.
    if (state == GRPC_CHANNEL_TRANSIENT_FAILURE || state == GRPC_CHANNEL_SHUTDOWN) return false;
    if (cancelled_ || std::chrono::steady_clock::now() >= deadline) return false;
    channel.WaitForStateChange(state, std::chrono::system_clock::now() + kConnectPoll);
  }
  return true;
}

template <typename Out>
bool GrpcSession<Out>::connect() {
  // A channel per session, with a subchannel of its own, so that the link's back-off
  // alone decides when to dial (not gRPC's, nor one shared with another endpoint).
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(wire_.message_limit());
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, kKeepaliveTimeMs);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, kKeepaliveTimeoutMs);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  channel_ = grpc::CreateCustomChannel(address_, wire_.channel_credentials(), args);
  if (!await_connected(*channel_)) return false;
  stub_ = pb::Transport::NewStub(channel_);
  if constexpr (std::is_same_v<Out, pb::Frame>) {
    stream_ = stub_->SignedStream(&context_);
  } else {
    stream_ = stub_->Stream(&context_);
  }
  pb::Ack greeting;
  if (!stream_->Read(&greeting) || greeting.batches() != 0) return false;
  reader_ = std::thread([this] { read_acks(); });
  return true;
}

template <typename Out>
LinkSession::Result GrpcSession<Out>::send(pb::Batch&& wire) {
  Out out;
  // A batch that cannot be signed (the CSPRNG failed) ends the session.
  if (!to_wire(std::move(wire), &out)) return Result::Failed;
  return stream_->Write(out) ? Result::Written : Result::Failed;
}

template <typename Out>
bool GrpcSession<Out>::to_wire(pb::Batch&& wire, Out* out) const {
  if constexpr (std::is_same_v<Out, pb::Frame>) {
    // Signed for the sender its header names, like everything else in it carried as
    // given, for the receiver to check.
    std::string bytes = wire.SerializeAsString();
    const auto signature = wire_.authenticator()->sign(bytes, wire.from());
    if (!signature) return false;
    out->set_sender(wire.from());
    out->set_batch(std::move(bytes));
    pb::Signature* sig = out->mutable_signature();
    sig->set_timestamp_ms(signature->timestamp_ms);
    sig->set_nonce(signature->nonce);
    sig->set_mac(signature->mac);
  } else {
    *out = std::move(wire);
  }
  return true;
}

template <typename Out>
void GrpcSession<Out>::read_acks() {
  pb::Ack ack;
  std::uint64_t acked = 0;
  while (stream_->Read(&ack)) {
    // A receiver acknowledging what was never sent is broken; hang up on it.
    if (ack.batches() < acked || !events_.acknowledged(ack.batches() - acked, ack.refused())) {
      break;
    }
    acked = ack.batches();
  }
  events_.broken();
}

}  // namespace

std::unique_ptr<GrpcTransport> GrpcTransport::create(GrpcTransportOptions options,
                                                     std::string* error) {
  auto fail = [&](std::string message) -> std::unique_ptr<GrpcTransport> {
    if (error) *error = std::move(message);
    return nullptr;
  };
  if (std::string problem = check_network_options(options, kName); !problem.empty()) {
    return fail(std::move(problem));
  }
  if (options.max_message_bytes > INT_MAX) {
    return fail(std::string(kName) + ": max_message_bytes must be below 2^31");
  }
  Pem pem;
  if (is_tls(options.security.mode)) {
    for (const auto& [path, out] : {std::pair{&options.security.ca_file, &pem.ca},
                                    {&options.security.cert_file, &pem.cert},
                                    {&options.security.key_file, &pem.key}}) {
      if (!read_file(*path, out)) return fail(std::string(kName) + ": cannot read '" + *path + "'");
    }
  }
  auto endpoint = std::make_unique<detail::LinkEndpoint>(std::move(options));
  auto wire = std::make_unique<GrpcWire>(*endpoint, pem);
  const int port = wire->serve(pem);
  if (port == 0) {
    return fail(std::string(kName) + ": cannot listen on '" + endpoint->options().listen_address +
                "' (bad address, or in use)");
  }
  warn_if_plain_text(endpoint->options(), kName);
  endpoint->attach(std::move(wire), port);
  return std::unique_ptr<GrpcTransport>(new GrpcTransport(std::move(endpoint)));
}

}  // namespace synod::transport
