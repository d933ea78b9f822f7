/*
 * synod.h: the stable C ABI of Synod, an embeddable multi-Raft consensus engine.
 *
 * Every language binding (Python, .NET, Java) goes through this header, and C and C++
 * programs may use it directly. It is C99 and follows these rules:
 *
 *  - One prefix: synod_ for functions and types, SYNOD_ for macros and enum values.
 *  - Opaque handles, created and destroyed in pairs; every *_free accepts NULL. A handle
 *    keeps what it depends on alive: a node keeps its network alive, so the network may
 *    be freed before the nodes that use it.
 *  - Functions return int: SYNOD_OK (0) or a negative synod_status. synod_errstr() names
 *    a status (static text); synod_last_error() describes the last failure on the calling
 *    thread in detail. No C++ exception ever crosses this boundary.
 *  - Byte inputs are (const uint8_t* data, size_t len); data may be NULL only when len is
 *    0. The library copies every input before the call returns. Each returned buffer
 *    says who owns it and how it is freed.
 *  - Configuration is an opaque handle with setters; no public struct needs mirroring
 *    except synod_event and synod_entry, whose layouts never change.
 *  - Results and notifications reach the host through an event queue per node, drained
 *    with synod_node_poll(). synod_node_event_fd() is readable while events wait, so
 *    epoll, asyncio or a dedicated poll thread of a managed runtime integrate without
 *    any library thread ever calling into host code.
 *  - Changes to this ABI are additive only: new functions, new status codes, new event
 *    types, new configuration setters, and new meanings for event fields that an event
 *    type left 0, announced by a flag so that 0 keeps meaning what it meant.
 *
 * Threads: every function may be called from any thread, concurrently, except that one
 * node's events are polled by one thread at a time (see synod_node_poll).
 */
#ifndef SYNOD_H
#define SYNOD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SYNOD_BUILDING_LIBRARY)
#define SYNOD_API __attribute__((visibility("default")))
#else
#define SYNOD_API
#endif

/* ------------------------------------------------------------------------------------
 * Version
 * ---------------------------------------------------------------------------------- */

#define SYNOD_VERSION_MAJOR 0
#define SYNOD_VERSION_MINOR 1
#define SYNOD_VERSION_PATCH 0
/* MAJOR * 10000 + MINOR * 100 + PATCH, comparable with synod_version_number(). */
#define SYNOD_VERSION_NUMBER \
  (SYNOD_VERSION_MAJOR * 10000 + SYNOD_VERSION_MINOR * 100 + SYNOD_VERSION_PATCH)

/* The library's version as "MAJOR.MINOR.PATCH" (static text). */
SYNOD_API const char* synod_version(void);
/* The library's SYNOD_VERSION_NUMBER, to compare with the header a program was built with. */
SYNOD_API int synod_version_number(void);

/* ------------------------------------------------------------------------------------
 * Status codes and errors
 * ---------------------------------------------------------------------------------- */

/* synod_status: SYNOD_OK and the SYNOD_E_* codes, each documented there. */
#include "synod_status.h"

/* Static text naming `status`, for example "not leader"; "unknown status" for a code this
 * library does not know. Never NULL. */
SYNOD_API const char* synod_errstr(int status);

/* A description of the last failure of a synod_ call on the calling thread, for example
 * "synod_node_replicate: partition 7 is not hosted by node 2". The text stays valid until
 * the next synod_ call on this thread. Empty (never NULL) when no call has failed yet.
 * Successful calls do not clear it. */
SYNOD_API const char* synod_last_error(void);

/* Frees a buffer this library returned and said to free with synod_free. NULL is fine. */
SYNOD_API void synod_free(void* buffer);

/* ------------------------------------------------------------------------------------
 * In-process network
 *
 * Connects several nodes of one process without sockets: tests, simulations, examples.
 * Delivery runs on the network's own threads. Faults can be injected to exercise
 * failover.
 * ---------------------------------------------------------------------------------- */

typedef struct synod_network synod_network;

/* Makes a network. *out receives the handle, freed with synod_network_free. */
SYNOD_API int synod_network_new(synod_network** out);
/* Releases the caller's reference. Nodes still attached keep the network running until
 * they are freed. NULL is fine. */
SYNOD_API void synod_network_free(synod_network* network);
/* Cuts every link to and from `node_id` (it keeps running, unable to reach anyone). */
SYNOD_API int synod_network_isolate(synod_network* network, uint64_t node_id);
/* Restores every link cut by synod_network_isolate. */
SYNOD_API int synod_network_heal(synod_network* network);

/* ------------------------------------------------------------------------------------
 * Configuration
 *
 * A node is made from a configuration. The configuration is copied when the node is
 * made, so it may be changed and reused for the next node, and freed at any time.
 * Setters return SYNOD_E_INVALID_ARGUMENT (and change nothing) for a value out of range.
 * ---------------------------------------------------------------------------------- */

typedef struct synod_config synod_config;

/* Makes a configuration with every default. *out is freed with synod_config_free. */
SYNOD_API int synod_config_new(synod_config** out);
SYNOD_API void synod_config_free(synod_config* config);

/* This node's id: nonzero, unique in the cluster. Required. */
SYNOD_API int synod_config_set_node_id(synod_config* config, uint64_t node_id);
/* The cluster's id (default 1). Nodes refuse traffic from another cluster. */
SYNOD_API int synod_config_set_cluster_id(synod_config* config, uint64_t cluster_id);
/* Adds a voter of a new cluster (this node included). Used only when the node's store is
 * empty: a restarted node takes its members from its log. Adding an id twice is fine. */
SYNOD_API int synod_config_add_member(synod_config* config, uint64_t node_id);
/* User partitions of a new cluster, numbered 1..count (default 1, at least 1). Partition
 * 0 is the engine's system partition. */
SYNOD_API int synod_config_set_user_partitions(synod_config* config, uint32_t count);
/* Raft timing: tick interval in ms (default 10); election timeout and heartbeat interval
 * in ticks (defaults 10 and 1). election_ticks must exceed heartbeat_ticks; since either
 * may be set first, synod_node_new checks that (SYNOD_E_CONFIG), not the setters. */
SYNOD_API int synod_config_set_tick_interval_ms(synod_config* config, uint32_t ms);
SYNOD_API int synod_config_set_election_ticks(synod_config* config, uint32_t ticks);
SYNOD_API int synod_config_set_heartbeat_ticks(synod_config* config, uint32_t ticks);
/* The largest payload of one entry (default 1 MiB, at most 64 MiB). */
SYNOD_API int synod_config_set_max_payload_bytes(synod_config* config, size_t bytes);
/* Requests queued per partition before SYNOD_E_QUEUE_FULL (default 4096). The bound
 * counts requests waiting for the partition's next cycle, not those already proposed to
 * Raft and waiting to commit. */
SYNOD_API int synod_config_set_max_queued_requests(synod_config* config, size_t count);
/* Events waiting for synod_node_poll before the node pushes back (default 65536, 2 to
 * 16777216). When that many wait, new requests (replicate, replicate_batch, read_index)
 * are refused with SYNOD_E_QUEUE_FULL and committed entries are held back, never
 * dropped, until polling has brought the queue down to half. Events of work accepted
 * earlier still arrive meanwhile, so the queue can briefly hold more. */
SYNOD_API int synod_config_set_max_pending_events(synod_config* config, size_t count);
/* How long a request may wait for its result before SYNOD_E_TIMEOUT (default 5000 ms). */
SYNOD_API int synod_config_set_request_timeout_ms(synod_config* config, uint32_t ms);
/* Worker threads driving the partitions (default 0: one per core). */
SYNOD_API int synod_config_set_worker_threads(synod_config* config, uint32_t threads);
/* Seed of the node's randomness (election timeouts); 0 (the default) picks one. */
SYNOD_API int synod_config_set_seed(synod_config* config, uint64_t seed);

/* Where the node keeps its log: engine "rocksdb" (the default engine), "sqlite", or
 * "memory" (nothing survives the node, the default when nothing is set). `directory` is
 * the node's data directory for the durable engines (created if missing, and locked
 * while the node uses it); it is ignored for "memory" and may be NULL then. */
SYNOD_API int synod_config_set_storage(synod_config* config, const char* engine,
                                       const char* directory);
/* Whether each write is synced to disk before it is acknowledged (default 1). 0 is
 * unsafe: a power cut may lose acknowledged writes. For tests and benchmarks only. */
SYNOD_API int synod_config_set_sync(synod_config* config, int sync);

/* The host's state machine model (see "Snapshots" below). */
typedef enum synod_state_machine {
  /* The host's state lives in memory and is rebuilt on restart from its latest snapshot
   * and the entries above it. The engine asks for snapshots by the snapshot policy and
   * compacts the log behind them. The default. */
  SYNOD_STATE_MACHINE_IN_MEMORY = 0,
  /* The host keeps its state in its own database and reports how far it has durably
   * applied (synod_node_report_applied). No periodic snapshots: the log is compacted
   * behind that floor, and the host exports its state only when a follower needs it. */
  SYNOD_STATE_MACHINE_DURABLE = 1
} synod_state_machine;

/* The host's state machine model: a synod_state_machine value. */
SYNOD_API int synod_config_set_state_machine(synod_config* config, int model);
/* When the engine asks for snapshots and how much log it keeps. In-memory model: a
 * snapshot after `every_entries` entries or `every_bytes` bytes of entry payload applied
 * since the last one (0: never by that measure; both 0, the default: only on request
 * or when a follower needs one). Either model: `keep_entries` entries are kept below
 * the snapshot (or the applied floor) when the log is compacted, so that a follower a
 * little behind catches up from the log (default 1024). The durable model takes no
 * periodic snapshots, so synod_node_new refuses it with a nonzero every_entries or
 * every_bytes (SYNOD_E_CONFIG). */
SYNOD_API int synod_config_set_snapshot_policy(synod_config* config, uint64_t every_entries,
                                               uint64_t every_bytes, uint64_t keep_entries);

/* Transport: the in-process `network` (the configuration keeps a reference to it).
 * Without any transport, a node whose only member is itself gets a private network of
 * its own; a node of several members then fails with SYNOD_E_CONFIG. */
SYNOD_API int synod_config_set_network(synod_config* config, synod_network* network);
/* Transport: gRPC, listening on `listen_address` ("host:port"; port 0 picks a free port,
 * see synod_node_listen_port). Replaces a network set before, and the other way round. */
SYNOD_API int synod_config_set_grpc(synod_config* config, const char* listen_address);
/* Transport: REST (HTTP/1.1 with protobuf bodies, for where HTTP/2 cannot go), listening
 * on `listen_address` as for gRPC. Replaces the transport set before. */
SYNOD_API int synod_config_set_rest(synod_config* config, const char* listen_address);
/* The network address of another node ("host:port") for gRPC or REST. Traffic from nodes
 * without an address is refused. Setting a node's address again replaces it. */
SYNOD_API int synod_config_set_peer_address(synod_config* config, uint64_t node_id,
                                            const char* address);

/* Security of the network transports (the in-process network ignores it). The default is
 * plain text, which the node reports as a SYNOD_EVENT_LOG warning when it starts: anyone
 * who can reach the port can take part. Each setter replaces the previous mode. */
/* TLS with the node's certificate and key (PEM files); peers are verified against the CA
 * file, and a peer's certificate must name the host it is dialled at (a subjectAltName IP
 * entry for an IP address). With `mutual` nonzero, connecting nodes must also present a
 * certificate signed by that CA (mutual TLS). The files are read by synod_node_new. */
SYNOD_API int synod_config_set_tls(synod_config* config, const char* ca_file,
                                   const char* cert_file, const char* key_file, int mutual);
/* Shared-secret mode: plain-text connections, every batch signed with HMAC-SHA256 under
 * `secret` (at least 16 bytes, the same on every node); receivers refuse bad signatures,
 * stale timestamps and replays, and count them in the status JSON. */
SYNOD_API int synod_config_set_shared_secret(synod_config* config, const uint8_t* secret,
                                             size_t len);
/* Back to plain text. */
SYNOD_API int synod_config_set_plain_text(synod_config* config);

/* ------------------------------------------------------------------------------------
 * Events
 * ---------------------------------------------------------------------------------- */

typedef enum synod_event_type {
  /* A committed entry of a host type (>= 1), delivered in log order per partition:
   * partition, index, term, entry_type, data/len. After a restart, entries above the
   * partition's applied floor (synod_node_report_applied) are delivered again. */
  SYNOD_EVENT_ENTRY = 1,
  /* The result of a proposal accepted by synod_node_replicate(_batch): tag, status,
   * partition, and on success index and term; on SYNOD_E_NOT_LEADER, leader_hint. A batch
   * yields one event per entry, in order, with batch_position 0, 1, ... */
  SYNOD_EVENT_REPLICATED = 2,
  /* The result of synod_node_read_index: tag, status, partition; on success `index` is
   * the index this node had applied when a linearizable read became safe to serve. */
  SYNOD_EVENT_READ_INDEX = 3,
  /* The leader of a partition changed: partition, term, and leader_hint, the new leader
   * (0 when leadership was lost and no new leader is known yet). */
  SYNOD_EVENT_LEADER_CHANGED = 4,
  /* A message for the host's log: status holds its synod_log_level, data/len the text
   * (UTF-8, not NUL-terminated). entry_type holds synod_log_flags saying what else it
   * carries: with SYNOD_LOG_HAS_PARTITION it concerns `partition` (0 being the system
   * partition), with SYNOD_LOG_HAS_TERM that partition's `term` then. Without a flag the
   * field is 0 and says nothing (a message about the whole node). */
  SYNOD_EVENT_LOG = 5,
  /* Save the host's state of `partition` as it is at `index` (see "Snapshots"): tag is
   * the snapshot handle to write it to, entry_type the synod_snapshot_reason. Delivered
   * right after the entry at `index`, so the host's state when it polls this event is its
   * state at that index. */
  SYNOD_EVENT_SNAPSHOT_SAVE = 6,
  /* Replace the host's state of `partition` by a snapshot taken at `index` in `term`:
   * tag is the snapshot handle to read it from; entry_type is 1 when it came from the
   * leader, 0 when it is this node's own latest snapshot, given back after a restart
   * (in-memory model). Delivered after every entry below it and before any above it;
   * no entry of the partition follows until the handle is finished. */
  SYNOD_EVENT_SNAPSHOT_INSTALL = 7,
  /* The result of synod_node_request_snapshot: tag, status, partition, and on success
   * `index`, where the snapshot was taken (the log is compacted behind it). */
  SYNOD_EVENT_SNAPSHOT_DONE = 8,
  /* The result of synod_node_create_partition or synod_node_remove_partition (see
   * "Partition map"): tag, status, and
   *   partition:   the partition created (create) or named (remove); 0 for a create
   *                that failed,
   *   term:        the map version after the change, or the current one when the map
   *                refused it (0 when the change never reached the map),
   *   index:       the change's index in the log of partition 0 (0 if none),
   *   leader_hint: on SYNOD_E_NOT_LEADER, the leader of partition 0 when known,
   *   entry_type:  the map's own reason, a synod_map_reason (SYNOD_MAP_OK when the map
   *                accepted the change or was not reached),
   *   data/len:    that reason as text, for example "overlapping" (not NUL-terminated;
   *                empty for SYNOD_MAP_OK). */
  SYNOD_EVENT_PARTITION_MAP = 9
} synod_event_type;

/* Why a SYNOD_EVENT_SNAPSHOT_SAVE asks for the host's state (its entry_type). */
typedef enum synod_snapshot_reason {
  /* In-memory model: the snapshot policy's entries or bytes were reached. */
  SYNOD_SNAPSHOT_POLICY = 0,
  /* synod_node_request_snapshot asked for it. */
  SYNOD_SNAPSHOT_REQUESTED = 1,
  /* A follower is behind the compacted log and needs this node's state (durable model). */
  SYNOD_SNAPSHOT_EXPORT = 2
} synod_snapshot_reason;

typedef enum synod_log_level {
  SYNOD_LOG_DEBUG = 0,
  SYNOD_LOG_INFO = 1,
  SYNOD_LOG_WARNING = 2,
  SYNOD_LOG_ERROR = 3
} synod_log_level;

/* What a SYNOD_EVENT_LOG carries besides its text (its entry_type, a bit set). Flags may
 * be added; a host ignores those it does not know. */
typedef enum synod_log_flags {
  /* The message concerns one partition: the event's `partition`. */
  SYNOD_LOG_HAS_PARTITION = 1,
  /* The event's `term` is that partition's term when the message was written. */
  SYNOD_LOG_HAS_TERM = 2
} synod_log_flags;

/* One event. Fields an event type does not use are 0. The layout never changes. */
typedef struct synod_event {
  int32_t type;            /* synod_event_type */
  int32_t status;          /* results: SYNOD_OK or a negative synod_status; logs: level */
  uint64_t partition;
  uint64_t tag;            /* results: the request's tag; saves, installs: the handle */
  uint64_t index;
  uint64_t term;
  uint64_t leader_hint;    /* results: the leader when known; leader changes: the leader */
  uint32_t entry_type;     /* entries: the host's type; logs: synod_log_flags;
                            * snapshots: see their events */
  uint32_t batch_position; /* batch results: the entry's position in its batch */
  /* Entries and logs: the bytes, owned by the node and valid until the next
   * synod_node_poll on this node, or synod_node_free. NULL when len is 0. */
  const uint8_t* data;
  size_t len;
  uint64_t reserved[4];
} synod_event;

/* ------------------------------------------------------------------------------------
 * Nodes
 * ---------------------------------------------------------------------------------- */

typedef struct synod_node synod_node;

/* Makes a node from `config` and starts it: opens (or, when empty, bootstraps) its store,
 * starts its transport and its partitions. *out is freed with synod_node_free.
 * SYNOD_E_CONFIG, SYNOD_E_STORAGE or SYNOD_E_TRANSPORT when it cannot, with details in
 * synod_last_error(); *out is then NULL. */
SYNOD_API int synod_node_new(const synod_config* config, synod_node** out);
/* Stops the node: it leaves the network, and every pending request completes with
 * SYNOD_E_SHUTTING_DOWN (those events can still be polled). Later requests return
 * SYNOD_E_SHUTTING_DOWN. Idempotent.
 * A node whose store fails a write stops itself, since it may acknowledge nothing more:
 * its pending requests complete with SYNOD_E_STORAGE, a SYNOD_EVENT_LOG at
 * SYNOD_LOG_ERROR says why, and from then on it behaves as stopped (requests return
 * SYNOD_E_SHUTTING_DOWN with the reason in synod_last_error()); free it as usual. */
SYNOD_API int synod_node_stop(synod_node* node);
/* Stops the node if needed and frees it, and with it every event payload it lent out.
 * Must not race with other calls on the same node. NULL is fine. */
SYNOD_API void synod_node_free(synod_node* node);

/* Waits up to `timeout_ms` (0: do not wait; -1: no limit) for events and copies at most
 * `max` of them, oldest first, into `events`. Returns how many (0 on timeout), or a
 * negative status: SYNOD_E_SHUTTING_DOWN once the node is stopped and every event has
 * been taken (a poll loop's signal to end). Calling it releases the payloads lent by the
 * previous call, so one node is polled by one thread at a time. */
SYNOD_API int synod_node_poll(synod_node* node, synod_event* events, size_t max,
                              int timeout_ms);
/* A file descriptor that is readable while events wait to be polled (level-triggered:
 * it stays readable until the queue is empty). Owned by the node: do not read or close
 * it; it is valid until synod_node_free. */
SYNOD_API int synod_node_event_fd(synod_node* node, int* out_fd);
/* Events queued and not yet polled. */
SYNOD_API int synod_node_pending_events(synod_node* node, size_t* out_count);

/* Proposes one entry of host `type` (>= 1; "Log types" below says how every binding
 * encodes a number or a string in it) to `partition`. SYNOD_OK means accepted: its
 * result then arrives as exactly one SYNOD_EVENT_REPLICATED carrying `tag`. Any other
 * return means refused now (not leader, no such partition, payload too large, queue
 * full, stopped...): no event follows. A refusal returned here carries no leader hint;
 * synod_node_leader() tells who leads. */
SYNOD_API int synod_node_replicate(synod_node* node, uint64_t partition, uint32_t type,
                                   const uint8_t* data, size_t len, uint64_t tag);

/* One entry of a batch proposal. */
typedef struct synod_entry {
  uint32_t type;
  const uint8_t* data;
  size_t len;
} synod_entry;

/* Proposes `count` entries of one partition together, queued whole or refused whole.
 * SYNOD_OK means accepted: `count` SYNOD_EVENT_REPLICATED events follow, all carrying
 * `tag`, in order, with batch_position 0..count-1. */
SYNOD_API int synod_node_replicate_batch(synod_node* node, uint64_t partition,
                                         const synod_entry* entries, size_t count,
                                         uint64_t tag);
/* Asks for a linearizable read of `partition`. SYNOD_OK means accepted: one
 * SYNOD_EVENT_READ_INDEX carrying `tag` follows; once this node has applied through its
 * `index`, the host may serve the read from its own state. */
SYNOD_API int synod_node_read_index(synod_node* node, uint64_t partition, uint64_t tag);

/* The result of a blocking request. */
typedef struct synod_result {
  int32_t status;       /* SYNOD_OK or a negative synod_status */
  uint64_t index;       /* replicate: the entry's index; read_index: the read index */
  uint64_t term;        /* replicate: the entry's term */
  uint64_t leader_hint; /* SYNOD_E_NOT_LEADER: the leader, when known */
} synod_result;

/* Blocking forms, for code without an event loop: they wait for the result (at most the
 * request timeout) and produce no event. The return value equals out->status, except
 * that SYNOD_E_INVALID_ARGUMENT for a NULL `out` leaves nothing written. */
SYNOD_API int synod_node_replicate_wait(synod_node* node, uint64_t partition, uint32_t type,
                                        const uint8_t* data, size_t len, synod_result* out);
SYNOD_API int synod_node_read_index_wait(synod_node* node, uint64_t partition,
                                         synod_result* out);

/* The host has durably applied every entry of `partition` through `index`; after a
 * restart only entries above it are delivered again. An index the host has not been
 * given yet is refused with SYNOD_E_INVALID_ARGUMENT. */
SYNOD_API int synod_node_report_applied(synod_node* node, uint64_t partition, uint64_t index);

/* Whether this node leads `partition` now: *out_is_leader is 1 or 0. */
SYNOD_API int synod_node_is_leader(synod_node* node, uint64_t partition, int* out_is_leader);
/* The leader of `partition` as this node knows it; 0 when none is known. */
SYNOD_API int synod_node_leader(synod_node* node, uint64_t partition, uint64_t* out_leader);
/* Blocks until some node is known to lead `partition`, at most `timeout_ms` (-1: no
 * limit): SYNOD_OK with *out_leader set, SYNOD_E_TIMEOUT, or SYNOD_E_SHUTTING_DOWN when
 * the node is stopped meanwhile (synod_node_stop wakes the call). */
SYNOD_API int synod_node_wait_for_leader(synod_node* node, uint64_t partition,
                                         int timeout_ms, uint64_t* out_leader);
/* Asks this node, the leader of `partition`, to hand leadership to `target`. SYNOD_OK
 * means the transfer began; a SYNOD_EVENT_LEADER_CHANGED reports its end. */
SYNOD_API int synod_node_transfer_leadership(synod_node* node, uint64_t partition,
                                             uint64_t target);

/* This node's id. */
SYNOD_API int synod_node_id(synod_node* node, uint64_t* out_id);
/* The partitions this node hosts, system partition 0 included, ascending. Writes at most
 * `max` ids to `out` (which may be NULL when max is 0) and the total to *out_count, so a
 * caller can ask for the count first. */
SYNOD_API int synod_node_partitions(synod_node* node, uint64_t* out, size_t max,
                                    size_t* out_count);
/* With a network transport (gRPC or REST): the port it listens on (useful after
 * listening on port 0). */
SYNOD_API int synod_node_listen_port(synod_node* node, int* out_port);
/* With a network transport (gRPC or REST): adds or changes another node's address while
 * running. */
SYNOD_API int synod_node_set_peer_address(synod_node* node, uint64_t node_id,
                                          const char* address);

/* ------------------------------------------------------------------------------------
 * Snapshots
 *
 * The host's state is saved and installed through snapshot handles, which the
 * SYNOD_EVENT_SNAPSHOT_SAVE and SYNOD_EVENT_SNAPSHOT_INSTALL events carry in `tag`. The
 * data streams to and from checksummed files of the node; it is never held whole in
 * memory, so it may be larger than memory. The host writes (or reads) the data in pieces
 * of any size, then finishes the handle once, from any thread, now or later; the library
 * never calls host code. Until a save is finished the log behind it is not compacted;
 * until an install is finished no later entry of its partition is delivered.
 *
 * A handle that is unknown, of the wrong kind or already finished is refused with
 * SYNOD_E_INVALID_ARGUMENT. Handles still open when the node stops are finished by the
 * node as failed (SYNOD_E_SHUTTING_DOWN) and are unknown from then on.
 * ---------------------------------------------------------------------------------- */

/* Appends `len` bytes to the snapshot being saved under handle `snapshot`.
 * SYNOD_E_STORAGE (with synod_last_error()) when its file cannot be written; the host
 * should then finish the handle with that status. */
SYNOD_API int synod_snapshot_write(synod_node* node, uint64_t snapshot, const uint8_t* data,
                                   size_t len);
/* Reads up to `cap` (at least 1) bytes of the snapshot being installed under handle
 * `snapshot` into `buf`, and their count into *out_len: 0 at the end of the data.
 * SYNOD_E_STORAGE (with synod_last_error()) when the data is damaged (a checksum
 * mismatch, a truncated file): the host must then finish the handle with that status,
 * and the snapshot is not installed. */
SYNOD_API int synod_snapshot_read(synod_node* node, uint64_t snapshot, uint8_t* buf,
                                  size_t cap, size_t* out_len);
/* The size of a snapshot's data: for an install, all of it; for a save, what has been
 * written so far. */
SYNOD_API int synod_snapshot_size(synod_node* node, uint64_t snapshot, uint64_t* out_bytes);
/* Finishes the handle `snapshot`. `status` is SYNOD_OK when the host wrote all of its
 * state (a save) or replaced its state by the snapshot's (an install), else a negative
 * synod_status saying why not, with `message` (NULL or UTF-8 text) for the node's log.
 * A failed save is not kept: the log stays uncompacted and the policy asks again later. A
 * failed install halts its partition, which answers SYNOD_E_STORAGE from then on (a
 * SYNOD_EVENT_LOG at SYNOD_LOG_ERROR says why, and the status JSON reports it). The
 * handle is unknown afterwards. */
SYNOD_API int synod_snapshot_finish(synod_node* node, uint64_t snapshot, int status,
                                    const char* message);
/* Asks the host for a snapshot of `partition` now rather than by policy: a
 * SYNOD_EVENT_SNAPSHOT_SAVE with reason SYNOD_SNAPSHOT_REQUESTED follows, in log order.
 * SYNOD_OK means accepted: one SYNOD_EVENT_SNAPSHOT_DONE carrying
 * `tag` reports the outcome once the snapshot is saved and the log compacted behind it,
 * or why not (SYNOD_E_STORAGE when the host or the store failed it, SYNOD_E_SHUTTING_DOWN).
 * Any other return means refused now (no such partition, stopped...): no event follows. */
SYNOD_API int synod_node_request_snapshot(synod_node* node, uint64_t partition, uint64_t tag);

/* The node's state as a JSON object, NUL-terminated, in *out_json (length without the
 * NUL in *out_len when out_len is not NULL); free it with synod_free. Fields:
 * {"node": id, "partitions": [{"partition", "role" ("leader", "follower", "candidate",
 * "pre-candidate"), "term", "leader", "commit", "applied", "last_index", "quiescent",
 * "storage_error" (only when damaged)}], "transport": {counters}}. Fields may be added.
 * "commit" is the commit index as last persisted with the hard state, so it may trail a
 * proposal result that was already delivered; "applied" trails the entries delivered. */
SYNOD_API int synod_node_status_json(synod_node* node, char** out_json, size_t* out_len);

/* ------------------------------------------------------------------------------------
 * Partition map and routing (bindings/ROUTING.md)
 *
 * Partition 0, the system partition, holds the committed partition map: every user
 * partition with its id, state, routing mode, range of the key-hash space and
 * generation. The map has a version, raised by every change. Partitions are created and
 * removed at runtime by proposals on partition 0, made on the node that leads it
 * (SYNOD_E_NOT_LEADER otherwise; synod_node_leader(node, 0, ...) tells who does). Once
 * such a change is applied, every voter creates the new partition or stops the removed
 * one and deletes its storage. Ids are handed out counting up from user_partitions + 1
 * and are never reused.
 * ---------------------------------------------------------------------------------- */

/* How a partition is addressed. */
typedef enum synod_routing_mode {
  /* Addressed by id only; owns no keys. */
  SYNOD_ROUTING_UNROUTED = 0,
  /* Owns the key hashes in [lo, hi] (inclusive). */
  SYNOD_ROUTING_HASH_RANGE = 1
} synod_routing_mode;

/* A partition's state in the map. */
typedef enum synod_partition_state {
  SYNOD_PARTITION_ACTIVE = 0,
  /* The new partition of a split not yet complete: not routed, refuses proposals. */
  SYNOD_PARTITION_SPLITTING = 1,
  /* The source of a merge under way: still routed, refuses new proposals. */
  SYNOD_PARTITION_DRAINING = 2,
  /* Gone; kept so its id is never reused. */
  SYNOD_PARTITION_REMOVED = 3
} synod_partition_state;

/* Why the map refused a change (the entry_type of a SYNOD_EVENT_PARTITION_MAP); the
 * event's status is the matching synod_status. Values never change; new ones may be
 * added. */
typedef enum synod_map_reason {
  SYNOD_MAP_OK = 0,
  SYNOD_MAP_NOT_BOOTSTRAPPED = 1,
  SYNOD_MAP_ALREADY_BOOTSTRAPPED = 2,
  SYNOD_MAP_INVALID_ARGUMENT = 3,  /* for example a range with lo > hi */
  SYNOD_MAP_LIMIT_REACHED = 4,     /* too many partitions */
  SYNOD_MAP_STALE_MAP_VERSION = 5, /* expected_version is not the current version */
  SYNOD_MAP_STALE_ROSTER_VERSION = 6,
  SYNOD_MAP_SYSTEM_PARTITION = 7, /* partition 0 cannot be removed */
  SYNOD_MAP_UNKNOWN_PARTITION = 8,
  SYNOD_MAP_PARTITION_REMOVED = 9, /* already removed */
  SYNOD_MAP_UNROUTED_PARTITION = 10,
  SYNOD_MAP_ROUTED_PARTITION = 11, /* a hash-range partition cannot be removed */
  SYNOD_MAP_OPERATION_IN_PROGRESS = 12,
  SYNOD_MAP_NO_OPERATION_IN_PROGRESS = 13,
  SYNOD_MAP_BOUNDARY_OUTSIDE_RANGE = 14,
  SYNOD_MAP_OVERLAPPING = 15, /* the range overlaps a live partition's */
  SYNOD_MAP_NOT_ADJACENT = 16
} synod_map_reason;

/* Proposes a new user partition: `mode` SYNOD_ROUTING_HASH_RANGE owning the key hashes
 * [lo, hi] (which must overlap no live partition's range), or SYNOD_ROUTING_UNROUTED
 * (lo and hi ignored). `expected_version` is the map version the caller read
 * (synod_node_partition_map_json), or 0 to apply regardless of the version.
 * SYNOD_OK means accepted: exactly one SYNOD_EVENT_PARTITION_MAP carrying `tag` follows,
 * with the new id in `partition` on success, or the refusal (SYNOD_E_STALE_MAP_VERSION,
 * SYNOD_E_MAP_CONFLICT, SYNOD_E_INVALID_ARGUMENT, ...) and the map's reason. Any other
 * return means refused now (an unknown mode, lo > hi, not the leader of partition 0,
 * stopped...), with the reason in synod_last_error(): no event follows. */
SYNOD_API int synod_node_create_partition(synod_node* node, int mode, uint64_t lo, uint64_t hi,
                                          uint64_t expected_version, uint64_t tag);
/* Proposes removing the unrouted partition `partition` (a hash-range partition is
 * refused: its keys would route nowhere). `expected_version` as for create. SYNOD_OK
 * means accepted: one SYNOD_EVENT_PARTITION_MAP carrying `tag` follows (refusals:
 * SYNOD_E_SYSTEM_PARTITION for partition 0, SYNOD_E_UNKNOWN_PARTITION,
 * SYNOD_E_STALE_MAP_VERSION, SYNOD_E_MAP_CONFLICT, ...). Any other return means refused
 * now: no event follows. */
SYNOD_API int synod_node_remove_partition(synod_node* node, uint64_t partition,
                                          uint64_t expected_version, uint64_t tag);

/* The partition map as this node has applied it (committed, possibly behind the leader
 * of partition 0), as a JSON object, NUL-terminated, in *out_json (length without the
 * NUL in *out_len when out_len is not NULL); free it with synod_free:
 * {"version": map version, "next_id": the id the next created partition gets,
 *  "partitions": [{"id", "state" ("active", "splitting", "draining", "removed"),
 *                  "mode" ("unrouted", "hash_range"), "lo", "hi", "generation",
 *                  "peer"}]}
 * Partitions are ordered by id, removed ones included; lo and hi are 0 for unrouted
 * partitions; peer is the other partition of a split or merge under way, else 0. Every
 * number is an unsigned 64-bit integer written in full (parse lo and hi as such, not as
 * doubles). Fields may be added. */
SYNOD_API int synod_node_partition_map_json(synod_node* node, char** out_json, size_t* out_len);
/* The key hash of bindings/ROUTING.md (XXH64, seed 0) of `len` bytes at `key`. */
SYNOD_API int synod_key_hash(const uint8_t* key, size_t len, uint64_t* out_hash);
/* Where the key of `len` bytes at `key` goes in this node's map: *out_partition and
 * *out_generation (the generation to carry with a proposal), and *out_state, a
 * synod_partition_state (active or draining), when out_state is not NULL.
 * SYNOD_E_UNKNOWN_PARTITION when no partition owns the key's hash. */
SYNOD_API int synod_node_route(synod_node* node, const uint8_t* key, size_t len,
                               uint64_t* out_partition, uint64_t* out_generation, int* out_state);
/* The same for a key hash already computed (synod_key_hash). */
SYNOD_API int synod_node_route_hash(synod_node* node, uint64_t key_hash, uint64_t* out_partition,
                                    uint64_t* out_generation, int* out_state);

/* ------------------------------------------------------------------------------------
 * Log types (bindings/LOG_TYPES.md)
 *
 * What the host says an entry is: a number or a string, encoded one way for every
 * binding so entries written by one read back the same in all. A number
 * (1..SYNOD_LOG_TYPE_MAX_NUMBER) is the entry type itself and leaves the payload as it
 * is: pass it to synod_node_replicate directly. A string (1..SYNOD_LOG_TYPE_MAX_STRING
 * UTF-8 bytes) cannot fit in the entry type, so it travels at the front of the payload
 * as [length byte][UTF-8 bytes], and the entry type is SYNOD_LOG_TYPE_STRING_FLAG | the
 * FNV-1a-32 hash of those bytes, which a host may route on.
 * ---------------------------------------------------------------------------------- */

/* The largest number type; higher entry types have SYNOD_LOG_TYPE_STRING_FLAG set. */
#define SYNOD_LOG_TYPE_MAX_NUMBER 0x7fffffffu
/* Set in the entry type of every string type. */
#define SYNOD_LOG_TYPE_STRING_FLAG 0x80000000u
/* The longest string type, in UTF-8 bytes (its length takes one byte). */
#define SYNOD_LOG_TYPE_MAX_STRING 255
/* The most bytes a string type adds to the data it frames. */
#define SYNOD_LOG_TYPE_MAX_OVERHEAD (1 + SYNOD_LOG_TYPE_MAX_STRING)

/* Encodes data of string type `name` (`name_len` bytes of UTF-8, not NUL-terminated):
 * *out_type receives the entry type to replicate it with, and `out` (room for `out_cap`
 * bytes) the payload, whose length, 1 + name_len + len, goes to *out_len. Refused with
 * SYNOD_E_INVALID_ARGUMENT when the name is empty, longer than SYNOD_LOG_TYPE_MAX_STRING
 * bytes or not valid UTF-8, or when `out` is too small (*out_len then says how much is
 * needed; len + SYNOD_LOG_TYPE_MAX_OVERHEAD is always enough). */
SYNOD_API int synod_log_type_encode(const char* name, size_t name_len, const uint8_t* data,
                                    size_t len, uint32_t* out_type, uint8_t* out,
                                    size_t out_cap, size_t* out_len);
/* Decodes an entry of `entry_type` and `payload` (as a SYNOD_EVENT_ENTRY carries them).
 * A string type: *out_name points at its UTF-8 bytes inside `payload` (not
 * NUL-terminated) and *out_name_len is their count. A number type: *out_name is NULL,
 * *out_name_len 0, and the number is `entry_type` (above SYNOD_LOG_TYPE_MAX_NUMBER only
 * for entries written with such a type through synod_node_replicate, whose payload is
 * then not a valid frame). *out_data and *out_len: the data, inside `payload`. Decoding
 * loses no bytes and fails only for NULL pointers. */
SYNOD_API int synod_log_type_decode(uint32_t entry_type, const uint8_t* payload, size_t len,
                                    const char** out_name, size_t* out_name_len,
                                    const uint8_t** out_data, size_t* out_len);

/* The node's metrics (the table in README.md, "Metrics") in the Prometheus text
 * exposition format 0.0.4, NUL-terminated, in *out_text (length without the NUL in
 * *out_len when out_len is not NULL); free it with synod_free. Serve it with the content
 * type "text/plain; version=0.0.4; charset=utf-8". Works on a stopped node too (the
 * values as they were when it stopped). */
SYNOD_API int synod_node_metrics_text(synod_node* node, char** out_text, size_t* out_len);
/* The same metrics as a JSON object, for hosts that hand them to their own metrics
 * library; NUL-terminated in *out_json (length in *out_len when not NULL), freed with
 * synod_free:
 * {"node": id, "families": [{"name", "help", "type" ("counter", "gauge", "histogram"),
 *   "unit" ("", "seconds", "bytes"), "labels": [label names],
 *   "bounds": [finite upper bounds, increasing] (histograms only),
 *   "samples": [{"labels": {name: value}, "value": number}            (counter, gauge)
 *              |{"labels": {...}, "buckets": [cumulative count <= each bound],
 *                "count": observations, "sum": their sum}]}]}           (histogram)
 * Families are ordered by name, samples by label values; a labelled family may have no
 * samples yet. Counters are exact integers. Fields may be added. */
SYNOD_API int synod_node_metrics_json(synod_node* node, char** out_json, size_t* out_len);

#ifdef __cplusplus
}
#endif

#endif /* SYNOD_H */
