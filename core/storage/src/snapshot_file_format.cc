#include "snapshot_file_format.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "byte_codec.h"
#include "crc32c.h"
#include "records.h"

namespace synod::storage::snapshot_file {
namespace {

constexpr std::string_view kMagic = "SYNODSNP";
// Magic, version and header size: the part every version keeps.
constexpr std::size_t kPrefixBytes = 16;
// The smallest header: prefix, partition, data size, index, term, auto_leave, four empty
// id lists, checksum.
constexpr std::size_t kMinHeaderBytes = kPrefixBytes + 8 + 8 + 8 + 8 + 1 + 4 * 4 + 4;

StorageStatus corrupt(const std::string& what) {
  return StorageStatus::corruption("snapshot file " + what);
}

}  // namespace

std::string encode_header(PartitionId partition, const raft::SnapshotMeta& meta,
                          std::uint64_t data_bytes) {
  std::string h(kMagic);
  put_le32(h, kFormatVersion);
  put_le32(h, 0);  // the header size, set below
  put_le64(h, partition);
  put_le64(h, data_bytes);
  records::put_snapshot_meta(h, meta);
  const auto size = static_cast<std::uint32_t>(h.size() + 4);
  for (int i = 0; i < 4; ++i) h[kMagic.size() + 4 + i] = static_cast<char>(size >> (8 * i));
  put_le32(h, crc32c(h));
  return h;
}

std::uint32_t file_checksum(std::string_view header, std::uint32_t data_crc,
                            std::uint64_t data_bytes) {
  return crc32c_combine(crc32c(header), data_crc, data_bytes);
}

std::string encode_trailer(std::uint32_t checksum) {
  std::string t;
  put_le32(t, checksum);
  return t;
}

StorageStatus FileChecker::fail(StorageStatus status) {
  failed_ = std::move(status);
  head_.clear();
  head_.shrink_to_fit();
  return failed_;
}

StorageStatus FileChecker::take_header() {
  std::string_view h = head_;
  if (get_le32(h.substr(h.size() - 4)) != crc32c(h.substr(0, h.size() - 4))) {
    return corrupt("header fails its checksum");
  }
  const std::uint32_t version = get_le32(h.substr(kMagic.size()));
  if (version != kFormatVersion) {
    return StorageStatus::unsupported("snapshot file has format version " +
                                      std::to_string(version) + ", this build reads version " +
                                      std::to_string(kFormatVersion));
  }
  ByteReader r(h.substr(kPrefixBytes, h.size() - kPrefixBytes - 4));
  SnapshotInfo info;
  if (!r.u64(info.partition) || !r.u64(info.data_bytes) ||
      !records::read_snapshot_meta(r, info.meta) || !r.done()) {
    return corrupt("header does not decode");
  }
  if (info.meta.index == 0 || info.meta.term == 0) {
    return corrupt("header names index " + std::to_string(info.meta.index) + " and term " +
                   std::to_string(info.meta.term));
  }
  if (info.data_bytes > UINT64_MAX - header_bytes_ - kTrailerBytes) {
    return corrupt("header declares an impossible data size");
  }
  info.file_bytes = header_bytes_ + info.data_bytes + kTrailerBytes;
  crc_ = crc32c(h);
  info_ = std::move(info);
  head_.clear();
  head_.shrink_to_fit();
  return {};
}

StorageStatus FileChecker::feed(const void* data, std::size_t size) {
  if (!failed_.ok()) return failed_;
  std::string_view in(static_cast<const char*>(data), size);
  fed_ += size;
  // The header: first its fixed prefix, which gives its size, then the rest of it.
  while (!info_ && !in.empty()) {
    const std::size_t want = header_bytes_ ? header_bytes_ : kPrefixBytes;
    const std::size_t take = std::min(in.size(), want - head_.size());
    head_.append(in.substr(0, take));
    in.remove_prefix(take);
    if (head_.size() < want) return {};
    if (header_bytes_) {
      if (auto st = take_header(); !st.ok()) return fail(std::move(st));
      continue;
    }
    const std::string_view prefix = head_;
    if (prefix.substr(0, kMagic.size()) != kMagic) {
      return fail(corrupt("does not start with the snapshot magic"));
    }
    const std::uint32_t declared = get_le32(prefix.substr(kMagic.size() + 4));
    if (declared < kMinHeaderBytes || declared > kMaxHeaderBytes) {
      return fail(corrupt("header declares a size of " + std::to_string(declared) + " bytes"));
    }
    header_bytes_ = declared;
  }
  if (in.empty()) return {};
  // The data, then the trailer.
  const std::uint64_t data_end = header_bytes_ + info_->data_bytes;
  const std::uint64_t at = fed_ - in.size();
  if (at < data_end) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(in.size(), data_end - at));
    crc_ = crc32c_extend(crc_, in.data(), n);
    in.remove_prefix(n);
  }
  if (in.size() > kTrailerBytes - trailer_.size()) {
    return fail(corrupt("is longer than its header says (" + std::to_string(info_->file_bytes) +
                        " bytes)"));
  }
  trailer_.append(in);
  return {};
}

StorageStatus FileChecker::finish() {
  if (!failed_.ok()) return failed_;
  if (!info_ || fed_ < info_->file_bytes) {
    return fail(corrupt("is truncated: " + std::to_string(fed_) + " bytes" +
                        (info_ ? " of " + std::to_string(info_->file_bytes) : std::string())));
  }
  if (get_le32(trailer_) != crc_) return fail(corrupt("fails its checksum"));
  return {};
}

std::string file_name(const raft::SnapshotMeta& meta) {
  char name[64];
  std::snprintf(name, sizeof name, "snap-%020" PRIu64 "-%020" PRIu64 ".snap", meta.index,
                meta.term);
  return name;
}

bool parse_file_name(std::string_view name, raft::Index& index, raft::Term& term) {
  constexpr std::size_t kDigits = 20;
  constexpr std::string_view kPrefix = "snap-", kSuffix = ".snap";
  if (name.size() != kPrefix.size() + 2 * kDigits + 1 + kSuffix.size() ||
      name.substr(0, kPrefix.size()) != kPrefix || name[kPrefix.size() + kDigits] != '-' ||
      name.substr(name.size() - kSuffix.size()) != kSuffix) {
    return false;
  }
  auto number = [](std::string_view digits, std::uint64_t& out) {
    out = 0;
    for (char c : digits) {
      if (c < '0' || c > '9' || out > (UINT64_MAX - 9) / 10) return false;
      out = out * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return true;
  };
  return number(name.substr(kPrefix.size(), kDigits), index) &&
         number(name.substr(kPrefix.size() + kDigits + 1, kDigits), term);
}

}  // namespace synod::storage::snapshot_file
