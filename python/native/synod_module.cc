// _synod: the thin pybind11 layer over the C ABI (synod.h). The Pythonic API lives in the
// `synod` package; this module only owns handles, moves bytes and releases the GIL.
//
// Every C call that may wait or take a lock runs with the GIL released. Failures become
// synod._errors exceptions through one translator, so the mapping from status to class
// lives in Python only.
//
// Locks and the GIL: a thread waits for a lock of this module only without the GIL, and
// takes the GIL only while it holds none of them. Otherwise a thread holding a lock and
// waiting for the GIL, and a thread holding the GIL and waiting for that lock, would wait
// for each other; and Python code that runs under the GIL (any allocation may run the
// garbage collector and its finalizers) could call back into a handle whose lock its own
// thread holds.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "synod.h"

namespace py = pybind11;

namespace {

// A failed C call: translated into synod._errors.error_from_status(...).
struct StatusError {
  int status;
  std::string message;
  uint64_t leader_hint;
};

// Must run on the thread that made the failing call: synod_last_error() is thread-local.
[[noreturn]] void raise_status(int status, uint64_t leader_hint = 0) {
  std::string message = synod_last_error();
  if (message.empty()) message = synod_errstr(status);
  throw StatusError{status, std::move(message), leader_hint};
}

void check(int status) {
  if (status != SYNOD_OK) raise_status(status);
}

// Borrowed view of a contiguous bytes-like object (bytes, bytearray, memoryview). The
// Py_buffer export keeps the memory in place while the GIL is released; the library
// copies it before the call returns.
class Bytes {
 public:
  explicit Bytes(const py::buffer& object) : view_(object.request()) {
    if (!PyBuffer_IsContiguous(view_.view(), 'C')) {
      throw py::value_error("data must be a contiguous bytes-like object");
    }
  }
  const uint8_t* data() const { return static_cast<const uint8_t*>(view_.ptr); }
  size_t size() const { return static_cast<size_t>(view_.size * view_.itemsize); }

 private:
  py::buffer_info view_;
};

class Network {
 public:
  Network() {
    synod_network* n = nullptr;
    check(synod_network_new(&n));
    net_.reset(n, synod_network_free);
  }
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // A reference to the live handle; the caller holds the GIL, as close() does.
  std::shared_ptr<synod_network> get() const {
    if (!net_) throw StatusError{SYNOD_E_INVALID_ARGUMENT, "the network is closed", 0};
    return net_;
  }
  // Each call keeps its own reference while it runs without the GIL, so a close()
  // meanwhile only drops this object's: the handle is freed when the call returns.
  void isolate(uint64_t node_id) {
    const auto n = get();
    py::gil_scoped_release nogil;
    check(synod_network_isolate(n.get(), node_id));
  }
  void heal() {
    const auto n = get();
    py::gil_scoped_release nogil;
    check(synod_network_heal(n.get()));
  }
  // Nodes and configurations hold their own references to the network, so this only
  // drops ours.
  void close() { net_.reset(); }
  bool closed() const { return !net_; }

 private:
  std::shared_ptr<synod_network> net_;
};

class Config {
 public:
  Config() {
    synod_config* c = nullptr;
    check(synod_config_new(&c));
    cfg_ = c;
  }
  ~Config() { synod_config_free(cfg_); }
  Config(const Config&) = delete;
  Config& operator=(const Config&) = delete;

  const synod_config* get() const { return cfg_; }

  void node_id(uint64_t v) { check(synod_config_set_node_id(cfg_, v)); }
  void cluster_id(uint64_t v) { check(synod_config_set_cluster_id(cfg_, v)); }
  void add_member(uint64_t v) { check(synod_config_add_member(cfg_, v)); }
  void user_partitions(uint32_t v) { check(synod_config_set_user_partitions(cfg_, v)); }
  void tick_interval_ms(uint32_t v) { check(synod_config_set_tick_interval_ms(cfg_, v)); }
  void election_ticks(uint32_t v) { check(synod_config_set_election_ticks(cfg_, v)); }
  void heartbeat_ticks(uint32_t v) { check(synod_config_set_heartbeat_ticks(cfg_, v)); }
  void max_payload_bytes(size_t v) { check(synod_config_set_max_payload_bytes(cfg_, v)); }
  void max_queued_requests(size_t v) { check(synod_config_set_max_queued_requests(cfg_, v)); }
  void max_pending_events(size_t v) { check(synod_config_set_max_pending_events(cfg_, v)); }
  void request_timeout_ms(uint32_t v) { check(synod_config_set_request_timeout_ms(cfg_, v)); }
  void worker_threads(uint32_t v) { check(synod_config_set_worker_threads(cfg_, v)); }
  void seed(uint64_t v) { check(synod_config_set_seed(cfg_, v)); }
  void storage(const std::string& engine, const std::optional<std::string>& directory) {
    check(synod_config_set_storage(cfg_, engine.c_str(),
                                   directory ? directory->c_str() : nullptr));
  }
  void sync(bool v) { check(synod_config_set_sync(cfg_, v ? 1 : 0)); }
  void state_machine(int model) { check(synod_config_set_state_machine(cfg_, model)); }
  void snapshot_policy(uint64_t every_entries, uint64_t every_bytes, uint64_t keep_entries) {
    check(synod_config_set_snapshot_policy(cfg_, every_entries, every_bytes, keep_entries));
  }
  void network(const Network& n) { check(synod_config_set_network(cfg_, n.get().get())); }
  void grpc(const std::string& listen) { check(synod_config_set_grpc(cfg_, listen.c_str())); }
  void rest(const std::string& listen) { check(synod_config_set_rest(cfg_, listen.c_str())); }
  void tls(const std::string& ca, const std::string& cert, const std::string& key, bool mutual) {
    check(synod_config_set_tls(cfg_, ca.c_str(), cert.c_str(), key.c_str(), mutual ? 1 : 0));
  }
  void shared_secret(const py::bytes& secret) {
    const std::string bytes = secret;
    check(synod_config_set_shared_secret(cfg_, reinterpret_cast<const uint8_t*>(bytes.data()),
                                         bytes.size()));
  }
  void peer_address(uint64_t id, const std::string& address) {
    check(synod_config_set_peer_address(cfg_, id, address.c_str()));
  }

 private:
  synod_config* cfg_ = nullptr;
};

class Node {
 public:
  explicit Node(const Config& config) {
    synod_node* n = nullptr;
    {
      py::gil_scoped_release nogil;
      const int status = synod_node_new(config.get(), &n);
      if (status != SYNOD_OK) raise_status(status);
    }
    node_ = n;
  }
  ~Node() {
    py::gil_scoped_release nogil;
    close();
  }
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Stops, then frees once no other call is inside the library: synod_node_free must not
  // race with them. Callers blocked in poll or a *_wait return once the node stops.
  void close() {
    {
      std::shared_lock lock(mu_);
      if (!node_) return;
      synod_node_stop(node_);
    }
    synod_node* n = nullptr;
    {
      std::unique_lock lock(mu_);
      n = std::exchange(node_, nullptr);
    }
    synod_node_free(n);
  }

  void stop() {
    with_node([](synod_node* n) { check(synod_node_stop(n)); });
  }

  bool closed() {
    py::gil_scoped_release nogil;
    std::shared_lock lock(mu_);
    return node_ == nullptr;
  }

  // A list of event tuples, or None once the node is stopped and drained (or closed):
  // the poll loop's end.
  py::object poll(size_t max, int timeout_ms) {
    std::vector<synod_event> events(max == 0 ? 1 : max);
    // The payloads, one after another: they stay valid only until the next poll or
    // synod_node_free, so they are copied out while the lock keeps both away, and the
    // Python objects are made after it is released.
    std::string payloads;
    int count = 0;
    {
      py::gil_scoped_release nogil;
      std::shared_lock lock(mu_);
      count = node_ ? synod_node_poll(node_, events.data(), max, timeout_ms)
                    : SYNOD_E_SHUTTING_DOWN;
      if (count < 0 && count != SYNOD_E_SHUTTING_DOWN) raise_status(count);
      size_t total = 0;
      for (int i = 0; i < count; ++i) total += events[i].len;
      payloads.reserve(total);
      for (int i = 0; i < count; ++i) {
        // data is NULL when len is 0.
        if (events[i].len) payloads.append(reinterpret_cast<const char*>(events[i].data), events[i].len);
      }
    }
    if (count == SYNOD_E_SHUTTING_DOWN) return py::none();
    py::list out(count);
    size_t offset = 0;
    for (int i = 0; i < count; ++i) {
      const synod_event& e = events[i];
      out[i] = py::make_tuple(e.type, e.status, e.partition, e.tag, e.index, e.term,
                              e.leader_hint, e.entry_type, e.batch_position,
                              py::bytes(payloads.data() + offset, e.len));
      offset += e.len;
    }
    return out;
  }

  int event_fd() {
    int fd = -1;
    with_node([&](synod_node* n) { check(synod_node_event_fd(n, &fd)); });
    return fd;
  }

  size_t pending_events() {
    size_t count = 0;
    with_node([&](synod_node* n) { check(synod_node_pending_events(n, &count)); });
    return count;
  }

  void replicate(uint64_t partition, uint32_t type, const py::buffer& data, uint64_t tag) {
    Bytes bytes(data);
    with_node([&](synod_node* n) {
      const int s = synod_node_replicate(n, partition, type, bytes.data(), bytes.size(), tag);
      if (s != SYNOD_OK) refuse(n, s, partition);
    });
  }

  void replicate_batch(uint64_t partition, const std::vector<std::pair<uint32_t, py::buffer>>& entries,
                       uint64_t tag) {
    std::vector<Bytes> views;
    views.reserve(entries.size());
    for (const auto& [type, data] : entries) views.emplace_back(data);
    std::vector<synod_entry> batch(entries.size());
    for (size_t i = 0; i < entries.size(); ++i) {
      batch[i] = synod_entry{entries[i].first, views[i].data(), views[i].size()};
    }
    with_node([&](synod_node* n) {
      const int s = synod_node_replicate_batch(n, partition, batch.data(), batch.size(), tag);
      if (s != SYNOD_OK) refuse(n, s, partition);
    });
  }

  void read_index(uint64_t partition, uint64_t tag) {
    with_node([&](synod_node* n) {
      const int s = synod_node_read_index(n, partition, tag);
      if (s != SYNOD_OK) refuse(n, s, partition);
    });
  }

  // (index, term); failures raise with the result's leader hint.
  std::pair<uint64_t, uint64_t> replicate_wait(uint64_t partition, uint32_t type,
                                               const py::buffer& data) {
    Bytes bytes(data);
    synod_result r{};
    with_node([&](synod_node* n) {
      const int s = synod_node_replicate_wait(n, partition, type, bytes.data(), bytes.size(), &r);
      if (s != SYNOD_OK) raise_status(s, r.leader_hint);
    });
    return {r.index, r.term};
  }

  uint64_t read_index_wait(uint64_t partition) {
    synod_result r{};
    with_node([&](synod_node* n) {
      const int s = synod_node_read_index_wait(n, partition, &r);
      if (s != SYNOD_OK) raise_status(s, r.leader_hint);
    });
    return r.index;
  }

  void report_applied(uint64_t partition, uint64_t index) {
    with_node([&](synod_node* n) { check(synod_node_report_applied(n, partition, index)); });
  }

  void request_snapshot(uint64_t partition, uint64_t tag) {
    with_node([&](synod_node* n) {
      const int s = synod_node_request_snapshot(n, partition, tag);
      if (s != SYNOD_OK) refuse(n, s, partition);
    });
  }

  // Snapshot handles: the bytes move between the host's buffers and the node's files with
  // the GIL released; the Py_buffer export keeps them in place meanwhile.
  void snapshot_write(uint64_t handle, const py::buffer& data) {
    Bytes bytes(data);
    with_node([&](synod_node* n) {
      check(synod_snapshot_write(n, handle, bytes.data(), bytes.size()));
    });
  }

  size_t snapshot_readinto(uint64_t handle, const py::buffer& into) {
    py::buffer_info view = into.request(true);
    if (!PyBuffer_IsContiguous(view.view(), 'C')) {
      throw py::value_error("the buffer must be a contiguous writable bytes-like object");
    }
    const size_t cap = static_cast<size_t>(view.size * view.itemsize);
    if (cap == 0) return 0;
    size_t got = 0;
    with_node([&](synod_node* n) {
      check(synod_snapshot_read(n, handle, static_cast<uint8_t*>(view.ptr), cap, &got));
    });
    return got;
  }

  uint64_t snapshot_size(uint64_t handle) {
    uint64_t bytes = 0;
    with_node([&](synod_node* n) { check(synod_snapshot_size(n, handle, &bytes)); });
    return bytes;
  }

  void snapshot_finish(uint64_t handle, int status, const std::string& message) {
    with_node([&](synod_node* n) {
      check(synod_snapshot_finish(n, handle, status, message.c_str()));
    });
  }

  bool is_leader(uint64_t partition) {
    int leader = 0;
    with_node([&](synod_node* n) { check(synod_node_is_leader(n, partition, &leader)); });
    return leader != 0;
  }

  uint64_t leader(uint64_t partition) {
    uint64_t id = 0;
    with_node([&](synod_node* n) { check(synod_node_leader(n, partition, &id)); });
    return id;
  }

  uint64_t wait_for_leader(uint64_t partition, int timeout_ms) {
    uint64_t id = 0;
    with_node([&](synod_node* n) {
      check(synod_node_wait_for_leader(n, partition, timeout_ms, &id));
    });
    return id;
  }

  void transfer_leadership(uint64_t partition, uint64_t target) {
    with_node([&](synod_node* n) {
      check(synod_node_transfer_leadership(n, partition, target));
    });
  }

  uint64_t id() {
    uint64_t id = 0;
    with_node([&](synod_node* n) { check(synod_node_id(n, &id)); });
    return id;
  }

  std::vector<uint64_t> partitions() {
    std::vector<uint64_t> ids;
    with_node([&](synod_node* n) {
      size_t count = 0;
      // The set may grow between the two calls; ask again until it fits.
      do {
        ids.resize(count);
        check(synod_node_partitions(n, ids.data(), ids.size(), &count));
      } while (count > ids.size());
      ids.resize(count);
    });
    return ids;
  }

  int listen_port() {
    int port = 0;
    with_node([&](synod_node* n) { check(synod_node_listen_port(n, &port)); });
    return port;
  }

  void set_peer_address(uint64_t node_id, const std::string& address) {
    with_node([&](synod_node* n) {
      check(synod_node_set_peer_address(n, node_id, address.c_str()));
    });
  }

  std::string status_json() { return read_text(synod_node_status_json); }
  std::string metrics_text() { return read_text(synod_node_metrics_text); }
  std::string metrics_json() { return read_text(synod_node_metrics_json); }

  // Partition map changes: refusals before the log raise, with partition 0's leader.
  void create_partition(int mode, uint64_t lo, uint64_t hi, uint64_t expected_version,
                        uint64_t tag) {
    with_node([&](synod_node* n) {
      const int s = synod_node_create_partition(n, mode, lo, hi, expected_version, tag);
      if (s != SYNOD_OK) refuse(n, s, 0);
    });
  }

  void remove_partition(uint64_t partition, uint64_t expected_version, uint64_t tag) {
    with_node([&](synod_node* n) {
      const int s = synod_node_remove_partition(n, partition, expected_version, tag);
      if (s != SYNOD_OK) refuse(n, s, 0);
    });
  }

  std::string partition_map_json() { return read_text(synod_node_partition_map_json); }

  // (partition, generation, state), or None when no partition owns the key.
  py::object route(const py::buffer& key) {
    Bytes bytes(key);
    uint64_t partition = 0, generation = 0;
    int state = 0;
    int s = SYNOD_OK;
    with_node([&](synod_node* n) {
      s = synod_node_route(n, bytes.data(), bytes.size(), &partition, &generation, &state);
      if (s != SYNOD_OK && s != SYNOD_E_UNKNOWN_PARTITION) raise_status(s);
    });
    if (s != SYNOD_OK) return py::none();
    return py::make_tuple(partition, generation, state);
  }

  py::object route_hash(uint64_t hash) {
    uint64_t partition = 0, generation = 0;
    int state = 0;
    int s = SYNOD_OK;
    with_node([&](synod_node* n) {
      s = synod_node_route_hash(n, hash, &partition, &generation, &state);
      if (s != SYNOD_OK && s != SYNOD_E_UNKNOWN_PARTITION) raise_status(s);
    });
    if (s != SYNOD_OK) return py::none();
    return py::make_tuple(partition, generation, state);
  }

 private:
  // Runs `body` on the live node without the GIL, under the shared lock close() waits on.
  template <typename Body>
  void with_node(Body&& body) {
    py::gil_scoped_release nogil;
    std::shared_lock lock(mu_);
    if (!node_) throw StatusError{SYNOD_E_SHUTTING_DOWN, "the node is closed", 0};
    body(node_);
  }

  // One of the node's text reads (status, metrics): a buffer the library allocates, copied
  // into a std::string and freed.
  std::string read_text(int (*read)(synod_node*, char**, size_t*)) {
    std::string text;
    with_node([&](synod_node* n) {
      char* buffer = nullptr;
      size_t len = 0;
      check(read(n, &buffer, &len));
      text.assign(buffer, len);
      synod_free(buffer);
    });
    return text;
  }

  // A request refused inline carries no leader hint; ask the node for it. The error text
  // is read first, as the second call may replace it.
  [[noreturn]] static void refuse(synod_node* n, int status, uint64_t partition) {
    std::string message = synod_last_error();
    if (message.empty()) message = synod_errstr(status);
    uint64_t hint = 0;
    if (status == SYNOD_E_NOT_LEADER) synod_node_leader(n, partition, &hint);
    throw StatusError{status, std::move(message), hint};
  }

  std::shared_mutex mu_;
  synod_node* node_ = nullptr;
};

}  // namespace

PYBIND11_MODULE(_synod, m) {
  m.doc() = "Low-level binding of the Synod C ABI (synod.h); use the `synod` package.";

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const StatusError& e) {
      py::object error = py::module_::import("synod._errors")
                             .attr("error_from_status")(e.status, e.message, e.leader_hint);
      PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(error.ptr())), error.ptr());
    }
  });

  m.def("version", &synod_version, "The library's version, \"MAJOR.MINOR.PATCH\".");
  m.def("version_number", &synod_version_number, "MAJOR * 10000 + MINOR * 100 + PATCH.");
  m.attr("HEADER_VERSION_NUMBER") = SYNOD_VERSION_NUMBER;
  m.def("errstr", &synod_errstr, py::arg("status"), "Static text naming a status code.");

  py::class_<Network>(m, "Network")
      .def(py::init<>())
      .def("isolate", &Network::isolate, py::arg("node_id"))
      .def("heal", &Network::heal)
      .def("close", &Network::close)
      .def_property_readonly("closed", &Network::closed);

  py::class_<Config>(m, "Config")
      .def(py::init<>())
      .def("node_id", &Config::node_id)
      .def("cluster_id", &Config::cluster_id)
      .def("add_member", &Config::add_member)
      .def("user_partitions", &Config::user_partitions)
      .def("tick_interval_ms", &Config::tick_interval_ms)
      .def("election_ticks", &Config::election_ticks)
      .def("heartbeat_ticks", &Config::heartbeat_ticks)
      .def("max_payload_bytes", &Config::max_payload_bytes)
      .def("max_queued_requests", &Config::max_queued_requests)
      .def("max_pending_events", &Config::max_pending_events)
      .def("request_timeout_ms", &Config::request_timeout_ms)
      .def("worker_threads", &Config::worker_threads)
      .def("seed", &Config::seed)
      .def("storage", &Config::storage, py::arg("engine"), py::arg("directory"))
      .def("sync", &Config::sync)
      .def("state_machine", &Config::state_machine)
      .def("snapshot_policy", &Config::snapshot_policy, py::arg("every_entries"),
           py::arg("every_bytes"), py::arg("keep_entries"))
      .def("network", &Config::network)
      .def("grpc", &Config::grpc)
      .def("rest", &Config::rest)
      .def("tls", &Config::tls, py::arg("ca_file"), py::arg("cert_file"), py::arg("key_file"),
           py::arg("mutual"))
      .def("shared_secret", &Config::shared_secret)
      .def("peer_address", &Config::peer_address);

  py::class_<Node>(m, "Node")
      .def(py::init<const Config&>(), py::arg("config"))
      .def("close",
           [](Node& n) {
             py::gil_scoped_release nogil;
             n.close();
           })
      .def("stop", &Node::stop)
      .def_property_readonly("closed", &Node::closed)
      .def("poll", &Node::poll, py::arg("max"), py::arg("timeout_ms"))
      .def("event_fd", &Node::event_fd)
      .def("pending_events", &Node::pending_events)
      .def("replicate", &Node::replicate, py::arg("partition"), py::arg("type"), py::arg("data"),
           py::arg("tag"))
      .def("replicate_batch", &Node::replicate_batch, py::arg("partition"), py::arg("entries"),
           py::arg("tag"))
      .def("read_index", &Node::read_index, py::arg("partition"), py::arg("tag"))
      .def("replicate_wait", &Node::replicate_wait, py::arg("partition"), py::arg("type"),
           py::arg("data"))
      .def("read_index_wait", &Node::read_index_wait, py::arg("partition"))
      .def("report_applied", &Node::report_applied, py::arg("partition"), py::arg("index"))
      .def("request_snapshot", &Node::request_snapshot, py::arg("partition"), py::arg("tag"))
      .def("snapshot_write", &Node::snapshot_write, py::arg("handle"), py::arg("data"))
      .def("snapshot_readinto", &Node::snapshot_readinto, py::arg("handle"), py::arg("into"))
      .def("snapshot_size", &Node::snapshot_size, py::arg("handle"))
      .def("snapshot_finish", &Node::snapshot_finish, py::arg("handle"), py::arg("status"),
           py::arg("message"))
      .def("is_leader", &Node::is_leader, py::arg("partition"))
      .def("leader", &Node::leader, py::arg("partition"))
      .def("wait_for_leader", &Node::wait_for_leader, py::arg("partition"), py::arg("timeout_ms"))
      .def("transfer_leadership", &Node::transfer_leadership, py::arg("partition"),
           py::arg("target"))
      .def("id", &Node::id)
      .def("partitions", &Node::partitions)
      .def("listen_port", &Node::listen_port)
      .def("set_peer_address", &Node::set_peer_address, py::arg("node_id"), py::arg("address"))
      .def("status_json", &Node::status_json)
      .def("metrics_text", &Node::metrics_text)
      .def("metrics_json", &Node::metrics_json)
      .def("create_partition", &Node::create_partition, py::arg("mode"), py::arg("lo"),
           py::arg("hi"), py::arg("expected_version"), py::arg("tag"))
      .def("remove_partition", &Node::remove_partition, py::arg("partition"),
           py::arg("expected_version"), py::arg("tag"))
      .def("partition_map_json", &Node::partition_map_json)
      .def("route", &Node::route, py::arg("key"))
      .def("route_hash", &Node::route_hash, py::arg("hash"));

  m.attr("EVENT_ENTRY") = static_cast<int>(SYNOD_EVENT_ENTRY);
  m.attr("EVENT_REPLICATED") = static_cast<int>(SYNOD_EVENT_REPLICATED);
  m.attr("EVENT_READ_INDEX") = static_cast<int>(SYNOD_EVENT_READ_INDEX);
  m.attr("EVENT_LEADER_CHANGED") = static_cast<int>(SYNOD_EVENT_LEADER_CHANGED);
  m.attr("EVENT_LOG") = static_cast<int>(SYNOD_EVENT_LOG);
  m.attr("EVENT_SNAPSHOT_SAVE") = static_cast<int>(SYNOD_EVENT_SNAPSHOT_SAVE);
  m.attr("EVENT_SNAPSHOT_INSTALL") = static_cast<int>(SYNOD_EVENT_SNAPSHOT_INSTALL);
  m.attr("EVENT_SNAPSHOT_DONE") = static_cast<int>(SYNOD_EVENT_SNAPSHOT_DONE);
  m.attr("LOG_HAS_PARTITION") = static_cast<int>(SYNOD_LOG_HAS_PARTITION);
  m.attr("LOG_HAS_TERM") = static_cast<int>(SYNOD_LOG_HAS_TERM);
  m.attr("EVENT_PARTITION_MAP") = static_cast<int>(SYNOD_EVENT_PARTITION_MAP);
  m.attr("ROUTING_UNROUTED") = static_cast<int>(SYNOD_ROUTING_UNROUTED);
  m.attr("ROUTING_HASH_RANGE") = static_cast<int>(SYNOD_ROUTING_HASH_RANGE);
  m.attr("SNAPSHOT_POLICY") = static_cast<int>(SYNOD_SNAPSHOT_POLICY);
  m.attr("SNAPSHOT_REQUESTED") = static_cast<int>(SYNOD_SNAPSHOT_REQUESTED);
  m.attr("SNAPSHOT_EXPORT") = static_cast<int>(SYNOD_SNAPSHOT_EXPORT);
  m.attr("STATE_MACHINE_IN_MEMORY") = static_cast<int>(SYNOD_STATE_MACHINE_IN_MEMORY);
  m.attr("STATE_MACHINE_DURABLE") = static_cast<int>(SYNOD_STATE_MACHINE_DURABLE);
}
