// synod-kv: a small replicated key-value server on the engine. Nodes talk gRPC (or, with
// --transport rest, HTTP/1.1) to each other and keep their logs in RocksDB; clients use
// HTTP:
//
//   GET    /kv/{key}                      linearizable read (read_index), 404 if absent
//   PUT    /kv/{key}            body=v    set
//   PUT    /kv/{key}?expect=old body=v    compare-and-set: 200 if swapped, 409 if not
//   PUT    /kv/{key}?expect_absent=1      create only if absent
//   DELETE /kv/{key}                      delete
//   POST   /list/{key}          body=v    append v to the key's list
//   GET    /list/{key}                    linearizable read of the list, one value a line
//   GET    /kv|list/{key}?local=1         this node's applied state, no ReadIndex, no
//                                         forwarding (to compare replicas)
//   GET    /status                        role, term, leader, commit, applied per partition;
//                                         follower lag where this node leads; leader changes
//   GET    /cluster                       /status of every node, fetched by this one
//   GET    /metrics                       this node's metrics, Prometheus text format 0.0.4
//   GET    /                              a live status page over /cluster
//
// Keys go to partitions by a stable hash. A node that does not lead a key's partition
// forwards the request to the leader's HTTP address (from --http-peers), or answers 503
// with the leader in X-Synod-Leader when it cannot.
//
//   synod-kv --id 1 --data /tmp/kv1 --listen 127.0.0.1:7001 --http 127.0.0.1:8001
//            --peers 1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.1:7003
//            --http-peers 1=127.0.0.1:8001,2=127.0.0.1:8002,3=127.0.0.1:8003
#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "command.h"
#include "kv_state.h"
#include "leader_log.h"
#include "status_page.h"
#include "synod/node/node_host.h"
#include "synod/node/node_runtime.h"

namespace {

using synod::node::NodeHost;
using synod::node::NodeId;
using synod::node::Status;
using synod_kv::KvState;
using synod_kv::LeaderLog;

const char* const kUsage = R"(usage: synod-kv --id N --data DIR --listen HOST:PORT --http HOST:PORT
                --peers ID=HOST:PORT,... [--http-peers ID=HOST:PORT,...]
                [--partitions N] [--store rocksdb|sqlite] [--transport grpc|rest]
                [--snapshot-every N] [--snapshot-keep N] [--no-sync]
                [--secret-file FILE] [--max-clock-skew-ms N]
                [--tls-ca FILE --tls-cert FILE --tls-key FILE [--mtls]]

  --id          this node's id (one of the --peers ids)
  --data        data directory (created if missing)
  --listen      address for other nodes (the node transport)
  --http        HTTP address for clients
  --peers       every node's --listen address, this one included; they are the cluster
  --http-peers  every node's HTTP address, for forwarding to leaders
  --partitions  user partitions (default 8; must be the same on every node)
  --store       log store engine (default rocksdb)
  --transport   how nodes talk to each other: grpc (default) or rest (HTTP/1.1); the same
                on every node
  --snapshot-every  snapshot each partition's map after N entries (default 10000; 0: never),
                    so the log stays bounded
  --snapshot-keep   entries kept in the log behind a snapshot, for slow followers
                    (default 1000)
  --no-sync     do not sync writes (unsafe; for comparison only)
  --secret-file sign node traffic with HMAC-SHA256 under the secret in FILE (16+ bytes)
  --max-clock-skew-ms  shared secret: how far a batch's timestamp may be off (default
                30000)
  --tls-ca, --tls-cert, --tls-key  TLS between nodes with these PEM files; --mtls also
                requires client certificates
)";

struct Options {
  NodeId id = 0;
  std::string data;
  std::string listen;
  std::string http;
  std::map<NodeId, std::string> peers;
  std::map<NodeId, std::string> http_peers;
  std::uint32_t partitions = 8;
  std::string store = "rocksdb";
  std::string transport = "grpc";
  bool sync = true;
  synod::transport::TransportSecurity security;
  // Entries applied per partition between snapshots, and entries kept behind one.
  std::uint64_t snapshot_every = 10'000;
  std::uint64_t snapshot_keep = 1'000;
};

bool read_file(const std::string& path, std::string& out) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) out.append(buffer, n);
  const bool ok = !std::ferror(f);
  std::fclose(f);
  return ok;
}

bool parse_addresses(const std::string& text, std::map<NodeId, std::string>& out) {
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, end - start);
    const std::size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) return false;
    char* rest = nullptr;
    const auto id = std::strtoull(item.c_str(), &rest, 10);
    if (id == 0 || rest != item.c_str() + eq) return false;
    out[id] = item.substr(eq + 1);
    start = end + 1;
  }
  return !out.empty();
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--no-sync") {
      o.sync = false;
      continue;
    }
    if (flag == "--mtls") {
      o.security.mode = synod::transport::SecurityMode::MutualTls;
      continue;
    }
    if (i + 1 >= argc) return false;
    const std::string value = argv[++i];
    if (flag == "--id") {
      o.id = std::strtoull(value.c_str(), nullptr, 10);
    } else if (flag == "--data") {
      o.data = value;
    } else if (flag == "--listen") {
      o.listen = value;
    } else if (flag == "--http") {
      o.http = value;
    } else if (flag == "--peers") {
      if (!parse_addresses(value, o.peers)) return false;
    } else if (flag == "--http-peers") {
      if (!parse_addresses(value, o.http_peers)) return false;
    } else if (flag == "--partitions") {
      o.partitions = static_cast<std::uint32_t>(std::strtoul(value.c_str(), nullptr, 10));
    } else if (flag == "--store") {
      o.store = value;
    } else if (flag == "--transport") {
      o.transport = value;
    } else if (flag == "--secret-file") {
      if (!read_file(value, o.security.shared_secret)) return false;
      o.security.mode = synod::transport::SecurityMode::SharedSecret;
    } else if (flag == "--max-clock-skew-ms") {
      o.security.max_clock_skew = std::chrono::milliseconds(std::strtoll(value.c_str(), nullptr, 10));
    } else if (flag == "--tls-ca") {
      o.security.ca_file = value;
    } else if (flag == "--tls-cert") {
      o.security.cert_file = value;
    } else if (flag == "--tls-key") {
      o.security.key_file = value;
    } else if (flag == "--snapshot-every") {
      o.snapshot_every = std::strtoull(value.c_str(), nullptr, 10);
    } else if (flag == "--snapshot-keep") {
      o.snapshot_keep = std::strtoull(value.c_str(), nullptr, 10);
    } else {
      return false;
    }
  }
  const bool tls = !o.security.ca_file.empty() || !o.security.cert_file.empty() ||
                   !o.security.key_file.empty();
  if (tls && o.security.mode == synod::transport::SecurityMode::SharedSecret) return false;
  if (tls && o.security.mode == synod::transport::SecurityMode::Plain) {
    o.security.mode = synod::transport::SecurityMode::Tls;
  }
  return o.id != 0 && !o.data.empty() && !o.listen.empty() && !o.http.empty() &&
         o.peers.count(o.id) && o.partitions >= 1 && (o.store == "rocksdb" || o.store == "sqlite") &&
         (o.transport == "grpc" || o.transport == "rest");
}

// "host:port" split at the last colon.
bool split_address(const std::string& address, std::string& host, int& port) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) return false;
  host = address.substr(0, colon);
  port = std::atoi(address.c_str() + colon + 1);
  return !host.empty() && port > 0;
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

class KvServer {
 public:
  KvServer(const Options& options, NodeHost& host, KvState& state, const LeaderLog& leaders)
      : options_(options), host_(host), state_(state), leaders_(leaders) {}

  void install(httplib::Server& server) {
    server.Get(R"(/(kv|list)/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
      if (req.has_param("local")) return read_local(req, res);
      handle(req, res, [this](const httplib::Request& r, httplib::Response& out, std::uint64_t p) {
        read(r, out, p);
      });
    });
    auto write = [this](const httplib::Request& req, httplib::Response& res) {
      handle(req, res, [this](const httplib::Request& r, httplib::Response& out, std::uint64_t p) {
        this->write(r, out, p);
      });
    };
    server.Put(R"(/(kv)/(.+))", write);
    server.Delete(R"(/(kv)/(.+))", write);
    server.Post(R"(/(list)/(.+))", write);
    server.Get("/status", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(status_json(), "application/json");
    });
    server.Get("/cluster", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(cluster_json(), "application/json");
    });
    server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(host_.metrics().prometheus_text(),
                      "text/plain; version=0.0.4; charset=utf-8");
    });
    server.Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(synod_kv::kStatusPage), "text/html; charset=utf-8");
    });
  }

 private:
  using Action = std::function<void(const httplib::Request&, httplib::Response&, std::uint64_t)>;

  // Runs `action` here when this node leads the key's partition, else forwards.
  void handle(const httplib::Request& req, httplib::Response& res, const Action& action) {
    const std::string key = req.matches[2];
    const std::uint64_t partition = synod_kv::partition_of(key, options_.partitions);
    if (host_.is_leader(partition)) return action(req, res, partition);
    forward(req, res, partition);
  }

  void forward(const httplib::Request& req, httplib::Response& res, std::uint64_t partition) {
    const NodeId leader = host_.leader_of(partition);
    res.set_header("X-Synod-Leader", std::to_string(leader));
    const auto target = options_.http_peers.find(leader);
    std::string host;
    int port = 0;
    // One hop at most: a forwarded request that meets another non-leader is answered.
    if (leader == synod::raft::kNoNode || req.has_header("X-Synod-Forwarded") ||
        target == options_.http_peers.end() || !split_address(target->second, host, port)) {
      res.status = 503;
      res.set_header("Retry-After", "1");
      res.set_content(leader ? "not the leader; the leader is node " + std::to_string(leader) + "\n"
                             : "no leader yet\n",
                      "text/plain");
      return;
    }
    httplib::Client client(host, port);
    client.set_connection_timeout(2);
    client.set_read_timeout(10);
    const httplib::Headers headers = {{"X-Synod-Forwarded", std::to_string(options_.id)}};
    std::string path = req.path;
    if (!req.params.empty()) path = httplib::append_query_params(req.path, req.params);
    httplib::Result r = req.method == "GET"      ? client.Get(path, headers)
                        : req.method == "DELETE" ? client.Delete(path, headers)
                        : req.method == "POST"   ? client.Post(path, headers, req.body, "application/octet-stream")
                                                 : client.Put(path, headers, req.body, "application/octet-stream");
    if (!r) {
      res.status = 502;
      res.set_content("the leader (node " + std::to_string(leader) + ") did not answer\n", "text/plain");
      return;
    }
    res.status = r->status;
    res.body = r->body;
    for (const auto& [name, value] : r->headers) {
      if (name == "Content-Type" || name.rfind("X-Synod-", 0) == 0) res.set_header(name, value);
    }
  }

  // Maps a refusal to an HTTP answer.
  void refused(httplib::Response& res, Status status, NodeId leader) {
    res.status = status == Status::NotLeader || status == Status::NoLeader ||
                         status == Status::TransferInProgress || status == Status::QueueFull
                     ? 503
                 : status == Status::Timeout ? 504
                 : status == Status::PayloadTooLarge ? 413
                                                     : 500;
    if (leader) res.set_header("X-Synod-Leader", std::to_string(leader));
    res.set_content(std::string(synod::node::to_string(status)) + "\n", "text/plain");
  }

  void read(const httplib::Request& req, httplib::Response& res, std::uint64_t partition) {
    std::promise<synod::node::ReadResult> answered;
    auto result = answered.get_future();
    host_.read_index(partition, [&answered](const synod::node::ReadResult& r) { answered.set_value(r); });
    const auto r = result.get();
    if (r.status != Status::Ok) return refused(res, r.status, r.leader_hint);
    // read_index completes once this node has applied through the read index, and the
    // state machine applies inside the apply handler, so the map is current enough.
    answer_from_state(req, res, partition);
  }

  // This node's own state, however far behind it is (no leader, no read index): what a
  // node that is catching up already holds.
  void read_local(const httplib::Request& req, httplib::Response& res) {
    answer_from_state(req, res, synod_kv::partition_of(req.matches[2].str(), options_.partitions));
  }

  // Answers a read from this node's state machine as it is: a key's value, or a list one
  // value a line.
  void answer_from_state(const httplib::Request& req, httplib::Response& res, std::uint64_t partition) {
    if (req.matches[1] == "list") {
      std::string body;
      for (const auto& value : state_.list(partition, req.matches[2])) body += value + "\n";
      res.set_content(body, "text/plain");
      return;
    }
    const auto value = state_.get(partition, req.matches[2]);
    if (!value) return not_found(res);
    res.set_content(*value, "application/octet-stream");
  }

  static void not_found(httplib::Response& res) {
    res.status = 404;
    res.set_content("not found\n", "text/plain");
  }

  void write(const httplib::Request& req, httplib::Response& res, std::uint64_t partition) {
    synod_kv::Command command;
    command.key = req.matches[2];
    if (req.method == "DELETE") {
      command.op = synod_kv::Op::Delete;
    } else if (req.method == "POST") {
      // A list is read back one value a line.
      if (req.body.find('\n') != std::string::npos) {
        res.status = 400;
        res.set_content("a list value may not hold a newline\n", "text/plain");
        return;
      }
      command.op = synod_kv::Op::Append;
      command.value = req.body;
    } else {
      command.value = req.body;
      if (req.has_param("expect")) {
        command.op = synod_kv::Op::CompareAndSet;
        command.expected = req.get_param_value("expect");
      } else if (req.has_param("expect_absent")) {
        command.op = synod_kv::Op::CompareAndSet;
      }
    }
    const auto r = host_.replicate(partition, synod_kv::kCommandEntryType,
                                   synod::raft::Bytes(synod_kv::encode(command)))
                       .get();
    if (r.status != Status::Ok) return refused(res, r.status, r.leader_hint);
    const auto outcome = state_.await_outcome(partition, r.index, 10'000);
    if (!outcome) {
      res.status = 504;
      res.set_content("committed at index " + std::to_string(r.index) + ", not yet applied here\n", "text/plain");
      return;
    }
    res.set_header("X-Synod-Index", std::to_string(r.index));
    if (!outcome->applied) {
      res.status = 409;
      res.set_content(outcome->previous.value_or(""), "application/octet-stream");
      res.set_header("X-Synod-Current", outcome->previous ? "present" : "absent");
      return;
    }
    std::string answer = "{\"index\":" + std::to_string(r.index) + ",\"term\":" + std::to_string(r.term);
    if (command.op == synod_kv::Op::Append) answer += ",\"position\":" + std::to_string(outcome->position);
    res.set_content(answer + "}\n", "application/json");
  }

  std::string status_json() {
    std::string out = "{\"node\":" + std::to_string(options_.id) + ",\"partitions\":[";
    bool first = true;
    for (const auto& p : host_.status()) {
      if (p.partition == synod::node::kSystemPartition) continue;
      if (!first) out += ',';
      first = false;
      out += "{\"partition\":" + std::to_string(p.partition);
      if (!p.storage_error.empty()) {
        out += ",\"storage_error\":\"" + json_escape(p.storage_error) + "\"}";
        continue;
      }
      out += ",\"role\":\"" + std::string(synod::raft::to_string(p.raft.soft_state.role)) + "\"";
      out += ",\"term\":" + std::to_string(p.raft.hard_state.term);
      out += ",\"leader\":" + std::to_string(p.raft.soft_state.leader);
      out += ",\"commit\":" + std::to_string(p.raft.hard_state.commit);
      out += ",\"applied\":" + std::to_string(state_.applied(p.partition));
      out += ",\"last_index\":" + std::to_string(p.raft.last_index);
      if (!p.raft.peers.empty()) {
        out += ",\"followers\":[";
        for (const auto& peer : p.raft.peers) {
          if (peer.id == options_.id) continue;
          if (out.back() != '[') out += ',';
          const auto lag = p.raft.last_index > peer.match ? p.raft.last_index - peer.match : 0;
          out += "{\"id\":" + std::to_string(peer.id) + ",\"match\":" + std::to_string(peer.match) +
                 ",\"lag\":" + std::to_string(lag) +
                 ",\"active\":" + (peer.recently_active ? "true" : "false") + "}";
        }
        out += "]";
      }
      out += "}";
    }
    return out + "],\"changes\":" + leaders_.json() + ",\"up\":true}\n";
  }

  // This node's status and every other node's, as each answers within a second; a node
  // that does not is listed with "up": false.
  std::string cluster_json() {
    std::string out = "{\"viewer\":" + std::to_string(options_.id) + ",\"nodes\":[" + status_json();
    for (const auto& [id, address] : options_.http_peers) {
      if (id == options_.id) continue;
      std::string host;
      int port = 0;
      std::string status;
      if (split_address(address, host, port)) {
        httplib::Client client(host, port);
        client.set_connection_timeout(0, 300'000);
        client.set_read_timeout(1);
        if (auto r = client.Get("/status"); r && r->status == 200) status = r->body;
      }
      out += ",";
      out += status.empty() ? "{\"node\":" + std::to_string(id) + ",\"up\":false}" : status;
    }
    return out + "]}\n";
  }

  const Options& options_;
  NodeHost& host_;
  KvState& state_;
  const LeaderLog& leaders_;
};

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse(argc, argv, options)) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  // Signals are taken by one thread with sigwait, so every other thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  synod_kv::KvState state;
  synod::node::NodeRuntimeOptions config;
  config.host.node_id = options.id;
  for (const auto& [id, address] : options.peers) config.host.initial_members.push_back(id);
  config.host.user_partitions = options.partitions;
  config.host.sync = options.sync;
  config.host.snapshots.every_entries = options.snapshot_every;
  config.host.snapshots.keep_entries = options.snapshot_keep;
  config.host.seed = options.id * 0x9e3779b97f4a7c15ull ^ static_cast<std::uint64_t>(::getpid());
  config.store.engine = options.store;
  config.store.directory = options.data;
  // The node transport, listening on --listen, knowing every other node. Plain text unless
  // a secret or certificates are given; it reports plain text.
  config.transport.kind = options.transport;
  config.transport.listen_address = options.listen;
  config.transport.peers = options.peers;
  config.transport.security = options.security;
  config.transport.on_warning = [](std::string_view message) {
    std::fprintf(stderr, "synod-kv: warning: %.*s\n", static_cast<int>(message.size()), message.data());
  };
  synod::node::RuntimeError error;
  auto runtime = synod::node::NodeRuntime::create(config, &error);
  if (!runtime) {
    std::fprintf(stderr, "synod-kv: %s\n", error.message.c_str());
    return 1;
  }
  NodeHost* host = &runtime->host();
  host->set_apply_handler([&state](const synod::node::CommittedEntry& e) {
    state.apply(e.partition, e.index, e.payload.view());
  });
  // Each map is small enough to write out on the engine's thread, at the index asked for.
  host->set_snapshot_handler(
      {[&state](synod::node::SaveRequest r) {
         std::string why;
         const bool ok = state.save(r.partition, *r.writer, why);
         r.done(ok ? synod::node::Status::Ok : synod::node::Status::StorageFailure, why);
       },
       [&state](synod::node::InstallRequest r) {
         std::string why;
         const bool ok = state.install(r.partition, r.index, *r.reader, why);
         r.done(ok ? synod::node::Status::Ok : synod::node::Status::InvalidArgument, why);
       }});
  LeaderLog leaders;
  host->set_leader_handler([&leaders](const synod::node::LeaderChange& c) {
    if (c.partition != synod::node::kSystemPartition) leaders.record(c);
  });
  runtime->start();

  httplib::Server server;
  KvServer kv(options, *host, state, leaders);
  kv.install(server);
  std::string http_host;
  int http_port = 0;
  if (!split_address(options.http, http_host, http_port) || !server.bind_to_port(http_host, http_port)) {
    std::fprintf(stderr, "synod-kv: cannot listen for HTTP on %s\n", options.http.c_str());
    return 1;
  }
  std::thread signal_waiter([&] {
    int signal = 0;
    sigwait(&signals, &signal);
    server.stop();
  });
  std::fprintf(stderr, "synod-kv: node %llu serving HTTP on %s, %s between nodes on %s\n",
               static_cast<unsigned long long>(options.id), options.http.c_str(),
               options.transport.c_str(), options.listen.c_str());
  server.listen_after_bind();
  // Stopped by a signal: leave the waiter nothing to wait for.
  signal_waiter.join();
  runtime->stop();
  return 0;
}
