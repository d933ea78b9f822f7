#include "wire_codec.h"

#include <memory>
#include <optional>
#include <utility>

namespace synod::transport::wire_codec {
namespace {

namespace pb = synod::wire::v1;

pb::MessageType to_wire(raft::MessageType type) {
  switch (type) {
    case raft::MessageType::PreVote: return pb::MESSAGE_TYPE_PRE_VOTE;
    case raft::MessageType::PreVoteResp: return pb::MESSAGE_TYPE_PRE_VOTE_RESP;
    case raft::MessageType::Vote: return pb::MESSAGE_TYPE_VOTE;
    case raft::MessageType::VoteResp: return pb::MESSAGE_TYPE_VOTE_RESP;
    case raft::MessageType::Append: return pb::MESSAGE_TYPE_APPEND;
    case raft::MessageType::AppendResp: return pb::MESSAGE_TYPE_APPEND_RESP;
    case raft::MessageType::Heartbeat: return pb::MESSAGE_TYPE_HEARTBEAT;
    case raft::MessageType::HeartbeatResp: return pb::MESSAGE_TYPE_HEARTBEAT_RESP;
    case raft::MessageType::InstallSnapshot: return pb::MESSAGE_TYPE_INSTALL_SNAPSHOT;
    case raft::MessageType::ReadIndex: return pb::MESSAGE_TYPE_READ_INDEX;
    case raft::MessageType::ReadIndexResp: return pb::MESSAGE_TYPE_READ_INDEX_RESP;
    case raft::MessageType::TimeoutNow: return pb::MESSAGE_TYPE_TIMEOUT_NOW;
  }
  return pb::MESSAGE_TYPE_UNSPECIFIED;
}

std::optional<raft::MessageType> from_wire(int type) {
  switch (type) {
    case pb::MESSAGE_TYPE_PRE_VOTE: return raft::MessageType::PreVote;
    case pb::MESSAGE_TYPE_PRE_VOTE_RESP: return raft::MessageType::PreVoteResp;
    case pb::MESSAGE_TYPE_VOTE: return raft::MessageType::Vote;
    case pb::MESSAGE_TYPE_VOTE_RESP: return raft::MessageType::VoteResp;
    case pb::MESSAGE_TYPE_APPEND: return raft::MessageType::Append;
    case pb::MESSAGE_TYPE_APPEND_RESP: return raft::MessageType::AppendResp;
    case pb::MESSAGE_TYPE_HEARTBEAT: return raft::MessageType::Heartbeat;
    case pb::MESSAGE_TYPE_HEARTBEAT_RESP: return raft::MessageType::HeartbeatResp;
    case pb::MESSAGE_TYPE_INSTALL_SNAPSHOT: return raft::MessageType::InstallSnapshot;
    case pb::MESSAGE_TYPE_READ_INDEX: return raft::MessageType::ReadIndex;
    case pb::MESSAGE_TYPE_READ_INDEX_RESP: return raft::MessageType::ReadIndexResp;
    case pb::MESSAGE_TYPE_TIMEOUT_NOW: return raft::MessageType::TimeoutNow;
    default: return std::nullopt;
  }
}

pb::EntryType to_wire(raft::EntryType type) {
  switch (type) {
    case raft::EntryType::Normal: return pb::ENTRY_TYPE_NORMAL;
    case raft::EntryType::ConfChange: return pb::ENTRY_TYPE_CONF_CHANGE;
  }
  return pb::ENTRY_TYPE_UNSPECIFIED;
}

std::optional<raft::EntryType> entry_type_from_wire(int type) {
  switch (type) {
    case pb::ENTRY_TYPE_NORMAL: return raft::EntryType::Normal;
    case pb::ENTRY_TYPE_CONF_CHANGE: return raft::EntryType::ConfChange;
    default: return std::nullopt;
  }
}

void encode_ids(const std::vector<NodeId>& ids,
                google::protobuf::RepeatedField<std::uint64_t>* out) {
  out->Reserve(static_cast<int>(ids.size()));
  for (NodeId id : ids) out->Add(id);
}

// The snapshot's metadata only: its data travels from a file, in chunks.
void encode_snapshot(const raft::Snapshot& snapshot, pb::Snapshot* out) {
  pb::SnapshotMeta* meta = out->mutable_meta();
  meta->set_index(snapshot.meta.index);
  meta->set_term(snapshot.meta.term);
  const raft::ConfState& cs = snapshot.meta.conf_state;
  pb::ConfState* wire_cs = meta->mutable_conf_state();
  encode_ids(cs.voters, wire_cs->mutable_voters());
  encode_ids(cs.voters_outgoing, wire_cs->mutable_voters_outgoing());
  encode_ids(cs.learners, wire_cs->mutable_learners());
  encode_ids(cs.learners_next, wire_cs->mutable_learners_next());
  wire_cs->set_auto_leave(cs.auto_leave);
}

void encode_message(const raft::Message& m, pb::Message* out) {
  out->set_type(to_wire(m.type));
  out->set_from(m.from);
  out->set_to(m.to);
  out->set_term(m.term);
  out->set_index(m.index);
  out->set_log_term(m.log_term);
  out->set_commit(m.commit);
  out->set_reject(m.reject);
  out->set_reject_hint(m.reject_hint);
  out->mutable_entries()->Reserve(static_cast<int>(m.entries.size()));
  for (const raft::Entry& e : m.entries) {
    pb::Entry* wire = out->add_entries();
    wire->set_index(e.index);
    wire->set_term(e.term);
    wire->set_type(to_wire(e.type));
    wire->set_tag(e.tag);
    wire->set_data(std::string(e.data.view()));
  }
  if (m.snapshot) encode_snapshot(*m.snapshot, out->mutable_snapshot());
  out->set_context(m.context);
}

// Bytes one field may take besides its payload: a tag of at most 2 bytes (field numbers
// stay below 2048) plus a 10-byte varint, for a number or a length prefix.
constexpr std::size_t kField = 12;

std::size_t ids_bound(const std::vector<NodeId>& ids) { return kField + ids.size() * 10; }

std::size_t snapshot_bound(const raft::Snapshot& s) {
  const raft::ConfState& cs = s.meta.conf_state;
  const std::size_t conf = ids_bound(cs.voters) + ids_bound(cs.voters_outgoing) +
                           ids_bound(cs.learners) + ids_bound(cs.learners_next) + kField;
  const std::size_t meta = 2 * kField + kField + conf;
  return kField + meta;
}

std::size_t message_bound(const raft::Message& m) {
  std::size_t size = 9 * kField + kField + m.context.size();
  // An entry: five fields plus its own length prefix.
  for (const raft::Entry& e : m.entries) size += 6 * kField + e.data.size();
  if (m.snapshot) size += kField + snapshot_bound(*m.snapshot);
  return size;
}

bool decode_ids(const google::protobuf::RepeatedField<std::uint64_t>& in,
                std::vector<NodeId>* out) {
  for (std::uint64_t id : in) {
    if (id == raft::kNoNode) return false;
  }
  out->assign(in.begin(), in.end());
  return true;
}

std::shared_ptr<const raft::Snapshot> decode_snapshot(pb::Snapshot& in) {
  if (!in.has_meta() || in.meta().index() == 0) return nullptr;
  const pb::ConfState& cs = in.meta().conf_state();
  const std::size_t members = static_cast<std::size_t>(cs.voters_size()) +
                              static_cast<std::size_t>(cs.voters_outgoing_size()) +
                              static_cast<std::size_t>(cs.learners_size()) +
                              static_cast<std::size_t>(cs.learners_next_size());
  if (members > kMaxConfStateNodes) return nullptr;
  auto out = std::make_shared<raft::Snapshot>();
  out->meta.index = in.meta().index();
  out->meta.term = in.meta().term();
  raft::ConfState& conf = out->meta.conf_state;
  if (!decode_ids(cs.voters(), &conf.voters) ||
      !decode_ids(cs.voters_outgoing(), &conf.voters_outgoing) ||
      !decode_ids(cs.learners(), &conf.learners) ||
      !decode_ids(cs.learners_next(), &conf.learners_next)) {
    return nullptr;
  }
  conf.auto_leave = cs.auto_leave();
  // Snapshot data never travels inline (wire 1.3).
  if (!in.data().empty()) return nullptr;
  return out;
}

// The envelope's message, or nullopt when it is malformed. `header` is the batch's;
// `first_chunk`: whether it is a snapshot's first chunk, the only place for an
// InstallSnapshot.
std::optional<Envelope> decode_envelope(pb::Envelope& in, const Batch& header, bool first_chunk) {
  if (!in.has_message()) return std::nullopt;
  pb::Message& m = *in.mutable_message();
  const auto type = from_wire(m.type());
  // Messages travel in the batch of their own sender and destination.
  if (!type || m.from() != header.from || m.to() != header.to) return std::nullopt;
  // A snapshot comes with InstallSnapshot, and only with it; an InstallSnapshot comes in
  // a first chunk, and only there.
  const bool install = *type == raft::MessageType::InstallSnapshot;
  if (m.has_snapshot() != install || install != first_chunk) return std::nullopt;

  Envelope out;
  out.partition = in.partition();
  raft::Message& msg = out.message;
  msg.type = *type;
  msg.from = m.from();
  msg.to = m.to();
  msg.term = m.term();
  msg.index = m.index();
  msg.log_term = m.log_term();
  msg.commit = m.commit();
  msg.reject = m.reject();
  msg.reject_hint = m.reject_hint();
  msg.entries.reserve(static_cast<std::size_t>(m.entries_size()));
  for (pb::Entry& e : *m.mutable_entries()) {
    const auto entry_type = entry_type_from_wire(e.type());
    // Entries are consecutive log positions; index 0 is never an entry's.
    const raft::Index expected = msg.entries.empty() ? e.index() : msg.entries.back().index + 1;
    if (!entry_type || e.index() == 0 || e.index() != expected) return std::nullopt;
    msg.entries.push_back(
        {e.index(), e.term(), *entry_type, e.tag(), raft::Bytes(std::move(*e.mutable_data()))});
  }
  if (m.has_snapshot()) {
    msg.snapshot = decode_snapshot(*m.mutable_snapshot());
    if (!msg.snapshot) return std::nullopt;
  }
  msg.context = std::move(*m.mutable_context());
  return out;
}

Chunk decode_chunk(pb::SnapshotChunk& in, const Batch& header) {
  Chunk out;
  out.transfer = in.transfer();
  out.partition = in.partition();
  out.offset = in.offset();
  out.total_bytes = in.total_bytes();
  out.data = std::move(*in.mutable_data());
  if (!in.has_message()) return out;
  pb::Envelope envelope;
  envelope.set_partition(in.partition());
  envelope.set_allocated_message(in.release_message());
  auto decoded = decode_envelope(envelope, header, true);
  out.malformed = !decoded;
  if (decoded) out.message = std::move(decoded->message);
  return out;
}

void encode_header(const Batch& header, pb::Batch* out) {
  out->set_wire_version(kWireVersion);
  out->set_cluster(header.cluster);
  out->set_from(header.from);
  out->set_to(header.to);
}

}  // namespace

void encode_chunk(const Batch& header, const ChunkRef& chunk, pb::Batch* out) {
  encode_header(header, out);
  pb::SnapshotChunk* wire = out->mutable_snapshot_chunk();
  wire->set_transfer(chunk.transfer);
  wire->set_partition(chunk.partition);
  wire->set_offset(chunk.offset);
  wire->set_total_bytes(chunk.total_bytes);
  wire->set_data(std::string(chunk.data));
  if (chunk.message) encode_message(*chunk.message, wire->mutable_message());
}

void encode(const Batch& batch, pb::Batch* out) {
  encode_header(batch, out);
  out->mutable_envelopes()->Reserve(static_cast<int>(batch.envelopes.size()));
  for (const Envelope& e : batch.envelopes) {
    pb::Envelope* wire = out->add_envelopes();
    wire->set_partition(e.partition);
    encode_message(e.message, wire->mutable_message());
  }
}

std::size_t encoded_size_bound(const Batch& batch) {
  std::size_t size = 4 * kField;
  for (const Envelope& e : batch.envelopes) size += 3 * kField + message_bound(e.message);
  return size;
}

bool decode(pb::Batch& in, Decoded* out, std::string* error) {
  if (in.wire_version() >> 16 != kWireMajor) {
    *error = "unsupported wire version " + std::to_string(in.wire_version() >> 16) + "." +
             std::to_string(in.wire_version() & 0xffff);
    return false;
  }
  if (in.from() == raft::kNoNode || in.to() == raft::kNoNode) {
    *error = "batch header without sender or destination";
    return false;
  }
  out->batch = Batch{in.cluster(), in.from(), in.to(), {}};
  out->skipped = 0;
  out->chunk.reset();
  if (in.has_snapshot_chunk()) {
    if (in.envelopes_size() != 0) {
      *error = "batch with both envelopes and a snapshot chunk";
      return false;
    }
    out->chunk = decode_chunk(*in.mutable_snapshot_chunk(), out->batch);
    return true;
  }
  out->batch.envelopes.reserve(static_cast<std::size_t>(in.envelopes_size()));
  for (pb::Envelope& e : *in.mutable_envelopes()) {
    if (auto envelope = decode_envelope(e, out->batch, false)) {
      out->batch.envelopes.push_back(std::move(*envelope));
    } else {
      ++out->skipped;
    }
  }
  return true;
}

}  // namespace synod::transport::wire_codec
