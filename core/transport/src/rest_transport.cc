#include "synod/transport/rest_transport.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <limits>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "batch_authenticator.h"
#include "snapshot_stream.h"
#include "synod/wire.pb.h"
#include "wire_codec.h"

namespace synod::transport {
namespace {

namespace pb = synod::wire::v1;
using Counter = std::uint64_t TransportStats::*;

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

struct HostPort {
  std::string host;  // without brackets
  int port = 0;
};

// "host:port" with a numeric port, an IPv6 host in brackets.
std::optional<HostPort> parse_host_port(std::string_view address) {
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string_view host = address.substr(0, colon);
  const std::string_view port = address.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return std::nullopt;
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return std::nullopt;
  }
  if (port.empty() || port.size() > 5) return std::nullopt;
  int value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value > 65535) return std::nullopt;
  return HostPort{std::string(host), value};
}

std::string check(const RestTransportOptions& o) {
  if (o.self == raft::kNoNode) return "rest transport: self is node id 0";
  if (!parse_host_port(o.listen_address)) {
    return "rest transport: listen address '" + o.listen_address + "' is not host:port";
  }
  for (const auto& [id, address] : o.peers) {
    if (!parse_host_port(address)) {
      return "rest transport: address '" + address + "' of node " + std::to_string(id) +
             " is not host:port";
    }
  }
  if (o.max_queued_batches_per_peer == 0) return "rest transport: max_queued_batches_per_peer is 0";
  if (std::string problem = snapshot_stream::check_options(
          o.snapshot_chunk_bytes, o.max_snapshot_bytes, o.max_message_bytes);
      !problem.empty()) {
    return "rest transport: " + problem;
  }
  if (o.reconnect_min.count() <= 0 || o.reconnect_max < o.reconnect_min) {
    return "rest transport: need 0 < reconnect_min <= reconnect_max";
  }
  std::string problem;
  if (!validate(o.security, &problem)) return "rest transport: " + problem;
  return {};
}

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

}  // namespace

struct RestTransport::Impl {
  // One peer we send to. Everything here is guarded by Impl::mu.
  struct Peer {
    explicit Peer(std::string address) : address(std::move(address)) {}
    std::string address;
    // Accepted by send(), not yet posted.
    std::deque<Batch> queue;
    // Snapshots to stream (snapshot_stream), after the one being streamed.
    std::deque<Batch> snapshots;
    // A batch is being posted; a snapshot is being streamed. Each counts towards the
    // queue bound.
    bool in_flight = false;
    bool streaming = false;
    // Waiting out a back-off after a failure: send() drops at once.
    bool down = false;
    // The client the sender thread posts with, so that stop() can interrupt a request.
    std::shared_ptr<httplib::ClientImpl> client;
    std::condition_variable wake;
    std::thread thread;
  };

  struct Report {
    NodeId peer;
    std::vector<Envelope> lost;
  };

  enum class Outcome { Delivered, Refused, Failed };

  explicit Impl(RestTransportOptions o)
      : options(std::move(o)),
        limits{snapshot_stream::chunk_size(options.snapshot_chunk_bytes, options.max_message_bytes),
               options.max_snapshot_bytes, options.max_message_bytes} {
    for (auto& [id, address] : options.peers) {
      peers.emplace(id, std::make_unique<Peer>(std::move(address)));
    }
    options.peers.clear();
    if (options.security.mode == SecurityMode::SharedSecret) {
      authenticator = std::make_unique<BatchAuthenticator>(
          options.security.shared_secret, options.security.max_clock_skew,
          options.security.replay_cache_capacity);
    }
  }

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
  // The transport whose answer this connection thread is writing (see begin_answer()).
  static thread_local const Impl* answering_for;

  // ------------------------------------------------------------------------------------
  // Sending

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
    if (peer.queue.size() + peer.snapshots.size() + (peer.in_flight ? 1 : 0) +
            (peer.streaming ? 1 : 0) >=
        options.max_queued_batches_per_peer) {
      return lose(&TransportStats::dropped_queue_full, std::move(batch), true);
    }
    ++stats.batches_sent;
    stats.messages_sent += batch.envelopes.size();
    (streamed ? peer.snapshots : peer.queue).push_back(std::move(batch));
    peer.wake.notify_one();
  }

  // Why a batch accepted by send() is lost after all.
  Counter lost_reason() const {
    return stopped ? &TransportStats::dropped_stopped : &TransportStats::dropped_peer_down;
  }

  // Everything queued for `peer` is lost.
  void lose_queue(Peer& peer) {
    for (auto* pending : {&peer.queue, &peer.snapshots}) {
      for (Batch& batch : *pending) lose(lost_reason(), std::move(batch), true);
      pending->clear();
    }
  }

  // A client for `address`; nullptr when it is not host:port (set_peer() takes any).
  std::shared_ptr<httplib::ClientImpl> make_client(const std::string& address) const {
    const auto target = parse_host_port(address);
    if (!target) return nullptr;
    std::shared_ptr<httplib::ClientImpl> client;
    const TransportSecurity& s = options.security;
    if (s.mode == SecurityMode::Tls || s.mode == SecurityMode::MutualTls) {
      auto tls = s.mode == SecurityMode::MutualTls
                     ? std::make_shared<httplib::SSLClient>(target->host, target->port,
                                                            s.cert_file, s.key_file)
                     : std::make_shared<httplib::SSLClient>(target->host, target->port);
      tls->set_ca_cert_path(s.ca_file);
      tls->enable_server_certificate_verification(true);
      client = std::move(tls);
    } else {
      client = std::make_shared<httplib::ClientImpl>(target->host, target->port);
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
  Outcome post(httplib::ClientImpl& client, const pb::Batch& wire) const {
    std::string body;
    if (!wire.SerializeToString(&body)) return Outcome::Refused;
    httplib::Headers headers;
    if (authenticator) {
      // Signed for the sender its header names, like everything else in it carried as
      // given, for the receiver to check.
      const auto signature = authenticator->sign(body, wire.from());
      if (!signature) return Outcome::Failed;
      headers.emplace(kSenderHeader, std::to_string(wire.from()));
      headers.emplace(kTimestampHeader, std::to_string(signature->timestamp_ms));
      headers.emplace(kNonceHeader, to_hex(signature->nonce));
      headers.emplace(kSignatureHeader, to_hex(signature->mac));
    }
    const httplib::Result result = client.Post(kBatchPath, headers, body, kContentType);
    if (!result) return Outcome::Failed;
    if (result->status >= 200 && result->status < 300) return Outcome::Delivered;
    // Refused for what it is; the link itself works. 5xx: the receiver is not serving.
    if (result->status >= 400 && result->status < 500) return Outcome::Refused;
    return Outcome::Failed;
  }

  // The peer's thread: posts queued batches one at a time over one client, whose
  // connection httplib keeps alive between requests; while a snapshot streams, a queued
  // batch and a chunk take turns. A failed request loses the batch (or the snapshot) and
  // the queue, and the next dial waits out a back-off; failures in a row double it, up to
  // reconnect_max, and a request that reached the receiver, or a new address, starts it
  // over. A refused chunk ends its snapshot's transfer.
  void run_peer(Peer& peer) {
    block_sigpipe();
    auto backoff = options.reconnect_min;
    std::shared_ptr<httplib::ClientImpl> client;
    std::string client_address;
    std::optional<snapshot_stream::SnapshotCursor> cursor;
    bool chunk_turn = false;
    std::unique_lock lock(mu);
    auto drop_client = [&] {
      peer.client.reset();
      auto old = std::move(client);
      lock.unlock();
      old.reset();  // closes its connection
      lock.lock();
    };
    auto end_transfer = [&] {
      Batch transfer = std::move(cursor->transfer());
      cursor.reset();
      peer.streaming = false;
      return transfer;
    };
    while (true) {
      auto ready = [&] {
        return stopped || !peer.queue.empty() || !peer.snapshots.empty() || cursor.has_value();
      };
      if (client) {
        if (!peer.wake.wait_for(lock, kClientIdle, ready)) {
          drop_client();
          continue;
        }
      } else {
        peer.wake.wait(lock, ready);
      }
      if (stopped) break;
      if (client && client_address != peer.address) drop_client();
      if (!client) {
        client_address = peer.address;
        lock.unlock();
        auto fresh = make_client(client_address);
        lock.lock();
        client = std::move(fresh);
        // Published with the check below in one critical section: stop() either sees it
        // or has set `stopped` before.
        peer.client = client;
        if (stopped) break;
      }
      if (!cursor && !peer.snapshots.empty()) {
        cursor.emplace(std::move(peer.snapshots.front()), ++transfers_begun, limits.chunk_bytes);
        peer.snapshots.pop_front();
        peer.streaming = true;
      }
      if (!cursor && peer.queue.empty()) continue;
      const bool chunk = cursor && (chunk_turn || peer.queue.empty());
      std::optional<Batch> batch;
      if (!chunk) {
        batch = std::move(peer.queue.front());
        peer.queue.pop_front();
        peer.in_flight = true;
      }
      chunk_turn = !chunk;
      if (chunk) ++stats.snapshot_chunks_sent;
      lock.unlock();
      pb::Batch wire;
      if (chunk) {
        cursor->next(&wire);
      } else {
        wire_codec::encode(*batch, &wire);
      }
      const Outcome outcome = client ? post(*client, wire) : Outcome::Failed;
      lock.lock();
      peer.in_flight = false;
      if (outcome != Outcome::Failed) {
        backoff = options.reconnect_min;
        if (chunk && (outcome == Outcome::Refused || cursor->done())) end_transfer();
        continue;
      }
      if (chunk) batch = end_transfer();
      lose(lost_reason(), std::move(*batch), true);
      lose_queue(peer);
      drop_client();
      if (stopped) break;
      if (client_address != peer.address) {
        backoff = options.reconnect_min;
        continue;
      }
      peer.down = true;
      peer.wake.wait_for(lock, backoff, [&] { return stopped || client_address != peer.address; });
      peer.down = false;
      backoff = std::min(backoff * 2, options.reconnect_max);
    }
    if (cursor) lose(lost_reason(), end_transfer(), true);
    lose_queue(peer);
    peer.client.reset();
    lock.unlock();
    client.reset();
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

  // ------------------------------------------------------------------------------------
  // Receiving

  // Counts a refusal and answers it with `status`.
  void refuse(httplib::Response& res, int status, Counter reason, const char* why) {
    {
      std::lock_guard lock(mu);
      ++(stats.*reason);
    }
    res.status = status;
    res.set_content(std::string(why) + "\n", "text/plain");
  }

  static void unavailable(httplib::Response& res) {
    res.status = 503;
    res.set_content("not running\n", "text/plain");
  }

  // Called by handle_post() once the body is read: false when not running; otherwise the
  // answer it is about to give counts as pending until httplib has written it
  // (answer_written()), so that stop() does not cut it off. A sender whose batch was
  // handed to the receiver but whose 200 was lost would count that batch as lost too.
  bool begin_answer() {
    std::lock_guard lock(mu);
    if (!running) return false;
    ++answers_pending;
    answering_for = this;
    return true;
  }

  // httplib's logger: runs on the connection thread once the answer to a request is
  // written (or failed to be).
  void answer_written() {
    if (answering_for != this) return;
    answering_for = nullptr;
    std::lock_guard lock(mu);
    if (--answers_pending == 0) answered.notify_all();
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
    switch (authenticator->verify(body, *sender, Signature{*timestamp, *nonce, *mac})) {
      case BatchAuthenticator::Verdict::Ok:
        return sender;
      case BatchAuthenticator::Verdict::BadSignature:
        refuse(res, 401, &TransportStats::refused_bad_signature, "bad signature");
        break;
      case BatchAuthenticator::Verdict::Stale:
        refuse(res, 401, &TransportStats::refused_stale, "stale signature");
        break;
      case BatchAuthenticator::Verdict::Replayed:
        refuse(res, 401, &TransportStats::refused_replayed, "replayed batch");
        break;
      case BatchAuthenticator::Verdict::CacheFull:
        refuse(res, 429, &TransportStats::refused_replay_cache_full, "replay cache full");
        break;
    }
    return std::nullopt;
  }

  // POST kBatchPath. The body is read whole first, also when the batch is refused, so that
  // the connection stays usable for the next request.
  void handle_post(const httplib::Request& req, httplib::Response& res,
                   const httplib::ContentReader& read_content) {
    std::string body;
    bool too_large = false;
    const bool read = read_content([&](const char* data, std::size_t size) {
      if (size > options.max_message_bytes - body.size()) {
        too_large = true;
        return false;
      }
      body.append(data, size);
      return true;
    });
    if (!begin_answer()) return unavailable(res);
    // httplib refuses a declared length beyond its payload limit itself, answering 413.
    if (too_large || res.status == 413) {
      return refuse(res, 413, &TransportStats::refused_malformed, "batch too large");
    }
    if (!read) return refuse(res, 400, &TransportStats::refused_malformed, "body unreadable");
    if (!is_protobuf(req.get_header_value("Content-Type"))) {
      return refuse(res, 415, &TransportStats::refused_malformed, "expected application/x-protobuf");
    }
    std::optional<NodeId> signed_by;
    if (authenticator) {
      signed_by = authenticate(req, body, res);
      if (!signed_by) return;
    }
    pb::Batch wire;
    if (!wire.ParseFromString(body)) {
      return refuse(res, 400, &TransportStats::refused_malformed, "not a wire batch");
    }
    body.clear();
    wire_codec::Decoded decoded;
    std::string error;
    if (!wire_codec::decode(wire, &decoded, &error)) {
      return refuse(res, 400, &TransportStats::refused_malformed, "malformed batch");
    }
    const Batch& batch = decoded.batch;
    // The signer vouched for its own id; a batch claiming another is not what was signed.
    if (signed_by && *signed_by != batch.from) {
      return refuse(res, 400, &TransportStats::refused_malformed, "signed by another node");
    }
    Inbound* inbound = nullptr;
    {
      std::lock_guard lock(mu);
      if (!running) return unavailable(res);
      if (batch.cluster != options.cluster) {
        ++stats.refused_foreign_cluster;
        res.status = 403;
        return;
      }
      if (!peers.contains(batch.from)) {
        ++stats.refused_unknown_sender;
        res.status = 403;
        return;
      }
      if (batch.to != options.self) {
        ++stats.refused_wrong_destination;
        res.status = 421;
        return;
      }
      inbound = &inbound_from.try_emplace(batch.from, options.max_snapshot_bytes).first->second;
    }
    // A request the sender gave up on may still be delivering on an old connection; this
    // keeps that sender's batches one at a time.
    std::lock_guard one_at_a_time(inbound->order);
    if (decoded.chunk) {
      const auto step = inbound->assembler.add(std::move(*decoded.chunk));
      std::lock_guard lock(mu);
      if (!running) return unavailable(res);
      ++stats.snapshot_chunks_received;
      stats.messages_malformed += step.refused ? 1 : 0;
      stats.snapshot_transfers_abandoned += step.abandoned ? 1 : 0;
      if (step.refused) {
        res.status = 400;
        res.set_content("snapshot chunk does not continue a transfer\n", "text/plain");
        return;
      }
      res.status = 200;
      if (!step.complete) return;
      decoded.batch.envelopes.push_back(std::move(*step.complete));
    }
    std::unique_lock lock(mu);
    if (!running) return unavailable(res);
    ++stats.batches_received;
    stats.messages_received += decoded.batch.envelopes.size();
    stats.messages_malformed += decoded.skipped;
    if (auto handler = receiver) {
      Active active(*this, lock);
      (*handler)(std::move(decoded.batch));
    }
    res.status = 200;
  }

  void install_routes() {
    httplib::Server& server = listener->server();
    server.Post(kBatchPath, [this](const httplib::Request& req, httplib::Response& res,
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
    server.set_payload_max_length(options.max_message_bytes);
    server.new_task_queue = [] { return new httplib::ThreadPool(kServerThreads); };
  }

  // ------------------------------------------------------------------------------------
  // Lifecycle

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
    // Ends a back-off: the new address deserves a dial at once.
    peer.wake.notify_all();
  }

  void stop() {
    std::unique_lock lock(mu);
    running = false;
    stopped = true;
    for (auto& [id, peer] : peers) peer->wake.notify_all();
    reports_changed.notify_all();
    // Inside a handler the teardown cannot wait here: it waits for the server's connection
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
    listener->close_listener();
    {
      // `running` is false: no answer begins any more. Those begun (a batch already handed
      // to the receiver, or refused) are written before their connections are shut down;
      // bounded, as the write of one is, should a sender stop reading.
      std::unique_lock lock(mu);
      answered.wait_for(lock, kIoTimeout, [&] { return answers_pending == 0; });
    }
    shut_down_accepted(bound);
    // Returns once every connection thread of the server has finished.
    if (accept_thread.joinable()) accept_thread.join();
    // Interrupts requests in flight; the sender threads see `stopped` and finish.
    std::vector<std::shared_ptr<httplib::ClientImpl>> clients;
    {
      std::lock_guard lock(mu);
      for (auto& [id, peer] : peers) {
        if (peer->client) clients.push_back(peer->client);
      }
    }
    for (auto& client : clients) client->stop();
    clients.clear();
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

  RestTransportOptions options;
  const snapshot_stream::Limits limits;
  // Names streamed snapshots on the wire; guarded by mu.
  std::uint64_t transfers_begun = 0;
  // Set in SharedSecret mode.
  std::unique_ptr<BatchAuthenticator> authenticator;

  mutable std::mutex mu;
  bool running = false;
  bool stopped = false;
  bool teardown_started = false;
  bool torn_down = false;
  // Handlers running now; stop() waits for them.
  int active = 0;
  std::condition_variable idle;
  // Answers of handle_post() begun and not yet written (see begin_answer()).
  int answers_pending = 0;
  std::condition_variable answered;
  std::shared_ptr<const Receiver> receiver;
  std::shared_ptr<const UnreachableHandler> unreachable;
  TransportStats stats;
  std::map<NodeId, std::unique_ptr<Peer>> peers;
  // Per sender: its batches are delivered one at a time (see handle_post()), and the
  // snapshot it streams is put together; `order` guards the assembler.
  struct Inbound {
    explicit Inbound(std::uint64_t max_snapshot_bytes) : assembler(max_snapshot_bytes) {}
    std::mutex order;
    snapshot_stream::SnapshotAssembler assembler;
  };
  std::map<NodeId, Inbound> inbound_from;
  std::deque<Report> reports;
  std::condition_variable reports_changed;
  std::thread notifier;
  // Runs the teardown when stop() is called from inside a handler.
  std::thread reaper;

  std::unique_ptr<Listener> listener;
  // The listening socket's address, to find the connections it accepted.
  sockaddr_storage bound{};
  int port = 0;
  // Runs the server's accept loop, from create() on: a batch that arrives before start()
  // is answered (503) rather than left waiting.
  std::thread accept_thread;
};

thread_local const RestTransport::Impl* RestTransport::Impl::running_handler_of = nullptr;
thread_local const RestTransport::Impl* RestTransport::Impl::answering_for = nullptr;

std::unique_ptr<RestTransport> RestTransport::create(RestTransportOptions options,
                                                     std::string* error) {
  auto fail = [&](std::string message) -> std::unique_ptr<RestTransport> {
    if (error) *error = std::move(message);
    return nullptr;
  };
  if (std::string problem = check(options); !problem.empty()) return fail(std::move(problem));
  auto impl = std::make_unique<Impl>(std::move(options));
  const RestTransportOptions& o = impl->options;
  const TransportSecurity& s = o.security;

  switch (s.mode) {
    case SecurityMode::Tls:
    case SecurityMode::MutualTls: {
      const char* client_ca = s.mode == SecurityMode::MutualTls ? s.ca_file.c_str() : nullptr;
      impl->listener = std::make_unique<ListenerOf<httplib::SSLServer>>(
          s.cert_file.c_str(), s.key_file.c_str(), client_ca);
      // The same files make every client: refuse them now rather than on each dial.
      if (!impl->make_client(o.listen_address)->is_valid()) {
        return fail("rest transport: cannot load the client certificate or key");
      }
      break;
    }
    case SecurityMode::Plain:
    case SecurityMode::SharedSecret:
      impl->listener = std::make_unique<ListenerOf<httplib::Server>>();
      break;
  }
  if (!impl->listener->server().is_valid()) {
    return fail("rest transport: cannot load the server certificate or key");
  }
  impl->install_routes();

  const auto address = parse_host_port(o.listen_address);
  httplib::Server& server = impl->listener->server();
  if (address->port == 0) {
    impl->port = server.bind_to_any_port(address->host);
  } else if (server.bind_to_port(address->host, address->port)) {
    impl->port = address->port;
  }
  if (impl->port <= 0) {
    return fail("rest transport: cannot listen on '" + o.listen_address +
                "' (bad address, or in use)");
  }
  impl->bound = impl->listener->local_address();
  if (s.mode == SecurityMode::Plain && o.on_warning) {
    o.on_warning("rest transport: node traffic on " + o.listen_address +
                 " is plain text and unauthenticated; anyone who reaches the port can take part "
                 "in Raft (use TLS, mutual TLS or a shared secret)");
  }
  Impl* raw = impl.get();
  impl->accept_thread = std::thread([raw] {
    block_sigpipe();
    raw->listener->server().listen_after_bind();
  });
  return std::unique_ptr<RestTransport>(new RestTransport(std::move(impl)));
}

RestTransport::RestTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RestTransport::~RestTransport() {
  stop();
  if (impl_->reaper.joinable()) impl_->reaper.join();
}

int RestTransport::listen_port() const { return impl_->port; }

void RestTransport::set_peer(NodeId peer, std::string address) {
  impl_->set_peer(peer, std::move(address));
}

void RestTransport::set_receiver(Receiver receiver) {
  auto shared = receiver ? std::make_shared<const Receiver>(std::move(receiver)) : nullptr;
  std::lock_guard lock(impl_->mu);
  impl_->receiver = std::move(shared);
}

void RestTransport::set_unreachable_handler(UnreachableHandler handler) {
  auto shared = handler ? std::make_shared<const UnreachableHandler>(std::move(handler)) : nullptr;
  std::lock_guard lock(impl_->mu);
  impl_->unreachable = std::move(shared);
}

void RestTransport::start() { impl_->start(); }

void RestTransport::stop() { impl_->stop(); }

void RestTransport::send(Batch batch) { impl_->send(std::move(batch)); }

TransportStats RestTransport::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

}  // namespace synod::transport
