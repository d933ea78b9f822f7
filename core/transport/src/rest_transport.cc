// The REST transport: its session (one keep-alive HTTP/1.1 connection per peer, one POST
// per batch, each answered before the next) and its server side. Everything else is the
// shared link layer's (link_endpoint.h).
#include "synod/transport/rest_transport.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>

#include "host_port.h"
#include "link_endpoint.h"
#include "network_options.h"
#include "synod/wire.pb.h"

namespace synod::transport {
namespace {

namespace pb = synod::wire::v1;

constexpr const char* kName = "rest transport";
// Bounds a dial to a host that drops SYNs; stop() may wait this long for one in progress.
constexpr std::chrono::seconds kConnectTimeout{2};
// How long a sender waits for the answer to one batch: the receiver answers once its
// handler has taken the batch, which is quick unless the runtime is overwhelmed.
constexpr std::chrono::seconds kAnswerTimeout{30};
// Bounds each read or write of a connection that stalls mid-request.
constexpr std::chrono::seconds kIoTimeout{10};
// A sender closes a connection it has not used for this long, before the server's limit
// below could close it under a request just being sent; idle connections also cost the
// server a thread that polls.
constexpr auto kClientIdle = std::chrono::seconds(5);
constexpr time_t kServerIdleSeconds = 30;
// Connection threads of the server: one per open inbound connection, so more than the
// number of peers a node usually has; further connections wait for one to be free.
constexpr std::size_t kServerThreads = 16;

constexpr std::string_view kSenderHeader = "X-Synod-Sender";
constexpr std::string_view kTimestampHeader = "X-Synod-Timestamp";
constexpr std::string_view kNonceHeader = "X-Synod-Nonce";
constexpr std::string_view kSignatureHeader = "X-Synod-Signature";

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * bytes.size());
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int high = digit(hex[i]);
    const int low = digit(hex[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    out += static_cast<char>(high << 4 | low);
  }
  return out;
}

// A decimal integer and nothing else.
template <class Int>
std::optional<Int> parse_integer(const std::string& text) {
  if (text.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  if constexpr (std::is_signed_v<Int>) {
    const long long value = std::strtoll(text.c_str(), &end, 10);
    if (errno != 0 || *end != '\0') return std::nullopt;
    return static_cast<Int>(value);
  } else {
    if (text.front() == '-') return std::nullopt;
    const unsigned long long value = std::strtoull(text.c_str(), &end, 10);
    if (errno != 0 || *end != '\0') return std::nullopt;
    return static_cast<Int>(value);
  }
}

// The media type of a Content-Type header, without parameters, compared case-blind.
bool is_protobuf(std::string_view content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  while (!content_type.empty() && content_type.back() == ' ') content_type.remove_suffix(1);
  const std::string_view expected = RestTransport::kContentType;
  return std::equal(content_type.begin(), content_type.end(), expected.begin(), expected.end(),
                    [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

// httplib writes with send(2) without MSG_NOSIGNAL: a peer that hung up would raise
// SIGPIPE, whose default action ends the process. Threads of this transport block it, so
// such a write fails with EPIPE instead (threads they create inherit the mask).
void block_sigpipe() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

bool same_endpoint(const sockaddr_storage& a, const sockaddr_storage& bound) {
  if (bound.ss_family == AF_INET) {
    const auto& b4 = reinterpret_cast<const sockaddr_in&>(bound);
    if (a.ss_family != AF_INET) return false;
    const auto& a4 = reinterpret_cast<const sockaddr_in&>(a);
    return a4.sin_port == b4.sin_port &&
           (b4.sin_addr.s_addr == htonl(INADDR_ANY) || a4.sin_addr.s_addr == b4.sin_addr.s_addr);
  }
  if (bound.ss_family == AF_INET6) {
    const auto& b6 = reinterpret_cast<const sockaddr_in6&>(bound);
    if (a.ss_family != AF_INET6) return false;
    const auto& a6 = reinterpret_cast<const sockaddr_in6&>(a);
    return a6.sin6_port == b6.sin6_port &&
           (IN6_IS_ADDR_UNSPECIFIED(&b6.sin6_addr) ||
            std::memcmp(&a6.sin6_addr, &b6.sin6_addr, sizeof a6.sin6_addr) == 0);
  }
  return false;
}

// httplib offers no way to close the connections its server accepted: on an idle one, a
// connection thread waits for the next request up to the keep-alive timeout, and the
// server's stop joins those threads. This shuts the accepted sockets down (their threads
// then see the end of the stream and finish), found among the process's descriptors as
// the sockets whose local address is the listening one and that do not listen. Call it
// once the listening socket is closed, so that no new connection can come in.
void shut_down_accepted(const sockaddr_storage& bound) {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return;
  while (const dirent* entry = readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (*end != '\0' || fd < 0 || fd == dirfd(dir)) continue;
    sockaddr_storage local{};
    socklen_t length = sizeof local;
    if (getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&local), &length) != 0) {
      continue;
    }
    if (!same_endpoint(local, bound)) continue;
    int listening = 1;
    socklen_t size = sizeof listening;
    if (getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) != 0 ||
        listening) {
      continue;
    }
    ::shutdown(static_cast<int>(fd), SHUT_RDWR);
  }
  closedir(dir);
}

// The HTTP server, plain or TLS, with what the transport needs beyond httplib's API.
class Listener {
 public:
  virtual ~Listener() = default;
  virtual httplib::Server& server() = 0;
  // Closes the listening socket. httplib's own stop() does so only once the accept loop has
  // begun, and a stop() right after create() could come before that.
  virtual void close_listener() = 0;
  // Where the listening socket is bound; zeroed when it is not.
  virtual sockaddr_storage local_address() = 0;
};

template <class Base>
class ListenerOf final : public Listener {
 public:
  template <class... Args>
  explicit ListenerOf(Args&&... args) : server_(std::forward<Args>(args)...) {}
  httplib::Server& server() override { return server_; }
  void close_listener() override { server_.close_listener(); }
  sockaddr_storage local_address() override { return server_.local_address(); }

 private:
  struct Server final : Base {
    using Base::Base;
    void close_listener() {
      const auto sock = this->svr_sock_.exchange(INVALID_SOCKET);
      if (sock == INVALID_SOCKET) return;
      ::shutdown(sock, SHUT_RDWR);
      ::close(sock);
    }
    sockaddr_storage local_address() {
      sockaddr_storage address{};
      socklen_t length = sizeof address;
      if (getsockname(this->svr_sock_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        return {};
      }
      return address;
    }
  };
  Server server_;
};


// The HTTP status that answers a refusal counted in `reason`.
int status_of_refusal(Counter reason) {
  if (reason == &TransportStats::refused_foreign_cluster ||
      reason == &TransportStats::refused_unknown_sender) {
    return 403;
  }
  if (reason == &TransportStats::refused_wrong_destination) return 421;
  if (reason == &TransportStats::refused_replay_cache_full) return 429;
  if (reason == &TransportStats::refused_malformed) return 400;
  return 401;  // the signature refusals
}

class RestWire;

// One keep-alive connection to a peer; httplib dials it on the first request and again
// after it broke.
class RestSession final : public LinkSession {
 public:
  RestSession(const RestWire& wire, const std::string& address);
  bool connect() override;
  Result send(pb::Batch&& wire) override;
  // Interrupts a request in flight (httplib waits for a dial in progress first).
  void cancel() override {
    cancelled_ = true;
    if (client_) client_->stop();
  }

 private:
  const RestWire& wire_;
  // nullptr when the address is not host:port (set_peer() takes any).
  const std::unique_ptr<httplib::ClientImpl> client_;
  std::atomic<bool> cancelled_{false};
};

class RestWire final : public Wire {
 public:
  explicit RestWire(detail::LinkEndpoint& endpoint) : endpoint_(endpoint) {}

  // Makes the server and binds it; an error, or empty.
  std::string listen();

  // A client for `address`; nullptr when it is not host:port.
  std::unique_ptr<httplib::ClientImpl> make_client(const std::string& address) const {
    const auto target = parse_host_port(address);
    if (!target) return nullptr;
    std::unique_ptr<httplib::ClientImpl> client;
    const TransportSecurity& s = endpoint_.options().security;
    if (s.mode == SecurityMode::Tls || s.mode == SecurityMode::MutualTls) {
      auto tls = s.mode == SecurityMode::MutualTls
                     ? std::make_unique<httplib::SSLClient>(target->host, target->port,
                                                            s.cert_file, s.key_file)
                     : std::make_unique<httplib::SSLClient>(target->host, target->port);
      tls->set_ca_cert_path(s.ca_file);
      tls->enable_server_certificate_verification(true);
      client = std::move(tls);
    } else {
      client = std::make_unique<httplib::ClientImpl>(target->host, target->port);
    }
    client->set_keep_alive(true);
    // Request and answer are each one small write: Nagle would hold them back.
    client->set_tcp_nodelay(true);
    client->set_connection_timeout(kConnectTimeout);
    client->set_read_timeout(kAnswerTimeout);
    client->set_write_timeout(kIoTimeout);
    return client;
  }

  // Posts one batch, or chunk of a snapshot, and tells how the receiver took it.
  LinkSession::Result post(httplib::ClientImpl& client, const pb::Batch& wire) const {
    using Result = LinkSession::Result;
    std::string body;
    if (!wire.SerializeToString(&body)) return Result::Refused;
    httplib::Headers headers;
    if (const BatchAuthenticator* authenticator = endpoint_.authenticator()) {
      // Signed for the sender its header names, like everything else in it carried as
      // given, for the receiver to check.
      const auto signature = authenticator->sign(body, wire.from());
      if (!signature) return Result::Failed;
      headers.emplace(kSenderHeader, std::to_string(wire.from()));
      headers.emplace(kTimestampHeader, std::to_string(signature->timestamp_ms));
      headers.emplace(kNonceHeader, to_hex(signature->nonce));
      headers.emplace(kSignatureHeader, to_hex(signature->mac));
    }
    const httplib::Result result =
        client.Post(RestTransport::kBatchPath, headers, body, RestTransport::kContentType);
    if (!result) return Result::Failed;
    if (result->status >= 200 && result->status < 300) return Result::Delivered;
    // Refused for what it is; the link itself works. 5xx: the receiver is not serving.
    if (result->status >= 400 && result->status < 500) return Result::Refused;
    return Result::Failed;
  }

  std::unique_ptr<LinkSession> open_session(const std::string& address, SessionEvents&) override {
    return std::make_unique<RestSession>(*this, address);
  }
  // One request at a time: a chunk is answered before anything else goes.
  std::size_t chunk_window() const override { return 1; }
  std::chrono::milliseconds idle_timeout() const override { return kClientIdle; }

  void stop_serving() override {
    listener_->close_listener();
    // No answer begins any more. Those begun (a batch already handed to the receiver, or
    // refused) are written before their connections are shut down; bounded, as the write
    // of one is, should a sender stop reading.
    endpoint_.state().await_answers(kIoTimeout);
    shut_down_accepted(bound_);
    // Returns once every connection thread of the server has finished.
    if (accept_thread_.joinable()) accept_thread_.join();
  }

 private:
  // The transport whose answer this connection thread is writing (see handle_post()).
  static thread_local const RestWire* answering_for;

  Inbound& inbound() { return endpoint_.inbound(); }

  static void unavailable(httplib::Response& res) {
    res.status = 503;
    res.set_content("not running\n", "text/plain");
  }

  // Answers what the inbound side made of a request; `refused_status`, when set, answers
  // a refusal instead of the status its reason implies.
  static void answer(httplib::Response& res, Inbound::Result result, int refused_status = 0) {
    switch (result.verdict) {
      case Inbound::Verdict::Delivered:
      case Inbound::Verdict::Held:
        res.status = 200;
        return;
      case Inbound::Verdict::NotRunning:
        return unavailable(res);
      case Inbound::Verdict::BadChunk:
        res.status = 400;
        res.set_content("snapshot chunk does not continue a transfer\n", "text/plain");
        return;
      case Inbound::Verdict::SnapshotRefused:
        res.status = 422;
        res.set_content("snapshot cannot be stored\n", "text/plain");
        return;
      case Inbound::Verdict::Refused:
        res.status = refused_status != 0 ? refused_status : status_of_refusal(result.reason);
        return;
    }
  }

  void refuse(httplib::Response& res, int status, Counter reason, const char* why) {
    answer(res, inbound().refuse(reason), status);
    if (res.status == status) res.set_content(std::string(why) + "\n", "text/plain");
  }

  // httplib's logger: runs on the connection thread once the answer to a request is
  // written (or failed to be).
  void answer_written() {
    if (answering_for != this) return;
    answering_for = nullptr;
    endpoint_.state().end_answer();
  }

  // Checks the signature headers of a SharedSecret batch against the body; the sender it
  // names, or nothing after answering the refusal.
  std::optional<NodeId> authenticate(const httplib::Request& req, const std::string& body,
                                     httplib::Response& res) {
    const auto sender = parse_integer<NodeId>(req.get_header_value(kSenderHeader.data()));
    const auto timestamp = parse_integer<std::int64_t>(req.get_header_value(kTimestampHeader.data()));
    const auto nonce = from_hex(req.get_header_value(kNonceHeader.data()));
    const auto mac = from_hex(req.get_header_value(kSignatureHeader.data()));
    if (!sender || !timestamp || !nonce || !mac) {
      refuse(res, 401, &TransportStats::refused_unauthenticated, "unsigned batch");
      return std::nullopt;
    }
    if (auto refused = inbound().authenticate(body, *sender, Signature{*timestamp, *nonce, *mac})) {
      answer(res, *refused);
      return std::nullopt;
    }
    return sender;
  }

  // POST kBatchPath. The body is read whole first, also when the batch is refused, so that
  // the connection stays usable for the next request.
  void handle_post(const httplib::Request& req, httplib::Response& res,
                   const httplib::ContentReader& read_content) {
    const std::size_t limit = endpoint_.options().max_message_bytes;
    std::string body;
    bool too_large = false;
    const bool read = read_content([&](const char* data, std::size_t size) {
      if (size > limit - body.size()) {
        too_large = true;
        return false;
      }
      body.append(data, size);
      return true;
    });
    // From here on the answer counts as pending until httplib has written it
    // (answer_written()), so that stop() does not cut it off: a sender whose batch was
    // handed to the receiver but whose 200 was lost would count that batch as lost too.
    if (!endpoint_.state().begin_answer()) return unavailable(res);
    answering_for = this;
    // httplib refuses a declared length beyond its payload limit itself, answering 413.
    if (too_large || res.status == 413) {
      return refuse(res, 413, &TransportStats::refused_malformed, "batch too large");
    }
    if (!read) return refuse(res, 400, &TransportStats::refused_malformed, "body unreadable");
    if (!is_protobuf(req.get_header_value("Content-Type"))) {
      return refuse(res, 415, &TransportStats::refused_malformed, "expected application/x-protobuf");
    }
    std::optional<NodeId> signed_by;
    if (endpoint_.authenticator()) {
      signed_by = authenticate(req, body, res);
      if (!signed_by) return;
    }
    pb::Batch wire;
    if (!wire.ParseFromString(body)) {
      return refuse(res, 400, &TransportStats::refused_malformed, "not a wire batch");
    }
    body.clear();
    answer(res, inbound().receive(wire, signed_by, nullptr));
  }

  void install_routes() {
    httplib::Server& server = listener_->server();
    server.Post(RestTransport::kBatchPath,
                [this](const httplib::Request& req, httplib::Response& res,
                       const httplib::ContentReader& read_content) {
                  handle_post(req, res, read_content);
                });
    // Reuse a port in TIME_WAIT, but never share one that is in use (httplib's default sets
    // SO_REUSEPORT, which would let a second endpoint take half of this one's traffic).
    server.set_socket_options([](socket_t sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    server.set_logger([this](const httplib::Request&, const httplib::Response&) {
      answer_written();
    });
    server.set_tcp_nodelay(true);
    server.set_keep_alive_max_count(std::numeric_limits<std::size_t>::max());
    server.set_keep_alive_timeout(kServerIdleSeconds);
    server.set_read_timeout(kIoTimeout);
    server.set_write_timeout(kIoTimeout);
    server.set_payload_max_length(endpoint_.options().max_message_bytes);
    server.new_task_queue = [] { return new httplib::ThreadPool(kServerThreads); };
  }

  detail::LinkEndpoint& endpoint_;
  std::unique_ptr<Listener> listener_;
  // The listening socket's address, to find the connections it accepted.
  sockaddr_storage bound_{};
  // Runs the server's accept loop, from create() on: a batch that arrives before start()
  // is answered (503) rather than left waiting.
  std::thread accept_thread_;

 public:
  int port = 0;
};

thread_local const RestWire* RestWire::answering_for = nullptr;

std::string RestWire::listen() {
  const NetworkTransportOptions& o = endpoint_.options();
  const TransportSecurity& s = o.security;
  switch (s.mode) {
    case SecurityMode::Tls:
    case SecurityMode::MutualTls: {
      const char* client_ca = s.mode == SecurityMode::MutualTls ? s.ca_file.c_str() : nullptr;
      listener_ = std::make_unique<ListenerOf<httplib::SSLServer>>(s.cert_file.c_str(),
                                                                     s.key_file.c_str(), client_ca);
      // The same files make every client: refuse them now rather than on each dial.
      if (!make_client(o.listen_address)->is_valid()) {
        return "cannot load the client certificate or key";
      }
      break;
    }
    case SecurityMode::Plain:
    case SecurityMode::SharedSecret:
      listener_ = std::make_unique<ListenerOf<httplib::Server>>();
      break;
  }
  if (!listener_->server().is_valid()) return "cannot load the server certificate or key";
  install_routes();
  const auto address = parse_host_port(o.listen_address);
  httplib::Server& server = listener_->server();
  if (address->port == 0) {
    port = server.bind_to_any_port(address->host);
  } else if (server.bind_to_port(address->host, address->port)) {
    port = address->port;
  }
  if (port <= 0) return "cannot listen on '" + o.listen_address + "' (bad address, or in use)";
  bound_ = listener_->local_address();
  accept_thread_ = std::thread([this] {
    block_sigpipe();
    listener_->server().listen_after_bind();
  });
  return {};
}

RestSession::RestSession(const RestWire& wire, const std::string& address)
    : wire_(wire), client_(wire.make_client(address)) {}

bool RestSession::connect() {
  // The link's thread: its writes must not raise SIGPIPE.
  block_sigpipe();
  return client_ != nullptr && !cancelled_;
}

LinkSession::Result RestSession::send(pb::Batch&& wire) {
  if (cancelled_) return Result::Failed;
  return wire_.post(*client_, wire);
}

}  // namespace

std::unique_ptr<RestTransport> RestTransport::create(RestTransportOptions options,
                                                     std::string* error) {
  auto fail = [&](std::string message) -> std::unique_ptr<RestTransport> {
    if (error) *error = std::string(kName) + ": " + std::move(message);
    return nullptr;
  };
  if (std::string problem = check_network_options(options, kName); !problem.empty()) {
    if (error) *error = std::move(problem);
    return nullptr;
  }
  auto endpoint = std::make_unique<detail::LinkEndpoint>(std::move(options));
  auto wire = std::make_unique<RestWire>(*endpoint);
  if (std::string problem = wire->listen(); !problem.empty()) return fail(std::move(problem));
  warn_if_plain_text(endpoint->options(), kName);
  const int port = wire->port;
  endpoint->attach(std::move(wire), port);
  return std::unique_ptr<RestTransport>(new RestTransport(std::move(endpoint)));
}

}  // namespace synod::transport
