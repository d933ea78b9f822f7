// SnapshotStore: the same cases for the disk and the memory store, plus the disk store's
// own (temporary files, reopening, damage to the files themselves).
#include "synod/storage/snapshot_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "byte_codec.h"
#include "crc32c.h"
#include "storage_assertions.h"

namespace synod::storage {
namespace {

namespace fs = std::filesystem;
using raft::Index;
using raft::SnapshotMeta;

struct StoreKind {
  std::string name;
  // Opens (or reopens) the store kept in `dir`; the memory store ignores it.
  std::function<std::unique_ptr<SnapshotStore>(const std::string& dir)> open;
  bool on_disk = false;
};

void PrintTo(const StoreKind& kind, std::ostream* out) { *out << kind.name; }

SnapshotMeta meta_at(Index index, raft::Term term = 3) {
  SnapshotMeta m;
  m.index = index;
  m.term = term;
  m.conf_state.voters = {1, 2, 3};
  m.conf_state.voters_outgoing = {1, 2, 4};
  m.conf_state.learners = {7};
  m.conf_state.learners_next = {4};
  m.conf_state.auto_leave = true;
  return m;
}

// Bytes that differ from offset to offset, so a misplaced piece shows.
std::string pattern(std::size_t size, unsigned seed = 1) {
  std::string s(size, '\0');
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& c : s) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

// Writes `data` through `sink` in pieces of `piece` bytes.
StorageStatus write_pieces(SnapshotSink& sink, std::string_view data, std::size_t piece) {
  for (std::size_t at = 0; at < data.size(); at += piece) {
    const std::size_t n = std::min(piece, data.size() - at);
    if (auto st = sink.write(data.data() + at, n); !st.ok()) return st;
  }
  return {};
}

// Reads `source` to its end in pieces of `piece` bytes.
StorageStatus read_all(SnapshotSource& source, std::string* out, std::size_t piece = 7001) {
  std::string buffer(piece, '\0');
  std::size_t got = 0;
  do {
    if (auto st = source.read(buffer.data(), buffer.size(), &got); !st.ok()) return st;
    out->append(buffer.data(), got);
  } while (got > 0);
  return {};
}

StoreKind disk_kind() {
  return {"Disk",
          [](const std::string& dir) {
            StorageStatus status;
            auto store = open_disk_snapshot_store(dir, &status);
            EXPECT_TRUE(status.ok()) << status.to_string();
            return store;
          },
          true};
}

StoreKind memory_kind() {
  return {"Memory", [](const std::string&) { return make_memory_snapshot_store(); }, false};
}

class SnapshotFixture : public ::testing::Test {
 protected:
  virtual StoreKind kind() const = 0;

  void SetUp() override {
    std::string dir = (fs::temp_directory_path() / "synod-snapshots-XXXXXX").string();
    ASSERT_NE(mkdtemp(dir.data()), nullptr);
    dir_ = dir;
    store_ = kind().open(dir_);
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  StorageStatus save(SnapshotStore& store, PartitionId partition, const SnapshotMeta& meta,
                     std::string_view data, SnapshotInfo* info = nullptr,
                     std::size_t piece = 4096) {
    std::unique_ptr<SnapshotSink> sink;
    if (auto st = store.create(partition, meta, &sink); !st.ok()) return st;
    if (auto st = write_pieces(*sink, data, piece); !st.ok()) return st;
    SnapshotInfo ignored;
    return sink->commit(info ? info : &ignored);
  }

  StorageStatus data_of(SnapshotStore& store, PartitionId partition, Index index,
                        std::string* out) {
    std::unique_ptr<SnapshotSource> source;
    if (auto st = store.open_data(partition, index, &source); !st.ok()) return st;
    return read_all(*source, out);
  }

  std::string file_of(PartitionId partition, Index index) {
    std::unique_ptr<SnapshotSource> source;
    std::string out;
    EXPECT_TRUE(store_->open_file(partition, index, &source).ok());
    if (source) {
      EXPECT_TRUE(read_all(*source, &out).ok());
    }
    return out;
  }

  // Sends `file` to `store`'s receive() in pieces; the first failure, or commit's status.
  static StorageStatus receive(SnapshotStore& store, PartitionId partition, std::string_view file,
                               std::uint64_t max_bytes = UINT64_MAX, SnapshotInfo* info = nullptr) {
    std::unique_ptr<SnapshotSink> sink;
    if (auto st = store.receive(partition, max_bytes, &sink); !st.ok()) return st;
    if (auto st = write_pieces(*sink, file, 1000); !st.ok()) return st;
    SnapshotInfo ignored;
    return sink->commit(info ? info : &ignored);
  }

  std::string dir_;
  std::unique_ptr<SnapshotStore> store_;
};

class SnapshotStoreTest : public SnapshotFixture, public ::testing::WithParamInterface<StoreKind> {
 protected:
  StoreKind kind() const override { return GetParam(); }
};

TEST_P(SnapshotStoreTest, MultiMegabyteDataRoundTripsFromSmallPieces) {
  const std::string data = pattern(3 * 1024 * 1024 + 17);
  SnapshotInfo info;
  ASSERT_OK(save(*store_, 5, meta_at(40), data, &info, 1000));
  EXPECT_EQ(info.partition, 5u);
  EXPECT_EQ(info.meta, meta_at(40));
  EXPECT_EQ(info.data_bytes, data.size());
  EXPECT_GT(info.file_bytes, data.size());

  ASSERT_TRUE(store_->latest(5).has_value());
  EXPECT_EQ(store_->latest(5)->meta, meta_at(40));
  EXPECT_EQ(store_->latest(5)->file_bytes, info.file_bytes);
  ASSERT_EQ(store_->list(5).size(), 1u);
  EXPECT_FALSE(store_->latest(6).has_value());
  EXPECT_TRUE(store_->list(6).empty());

  std::unique_ptr<SnapshotSource> source;
  ASSERT_OK(store_->open_data(5, 40, &source));
  EXPECT_EQ(source->info().meta, meta_at(40));
  std::string back;
  ASSERT_OK(read_all(*source, &back));
  EXPECT_TRUE(back == data);
  // Past the end it stays at the end.
  std::size_t got = 1;
  char byte;
  ASSERT_OK(source->read(&byte, 1, &got));
  EXPECT_EQ(got, 0u);
  EXPECT_EQ(file_of(5, 40).size(), info.file_bytes);
  ASSERT_OK(store_->verify(5, 40));
}

TEST_P(SnapshotStoreTest, EmptyDataRoundTrips) {
  SnapshotInfo info;
  ASSERT_OK(save(*store_, 1, meta_at(2), "", &info));
  EXPECT_EQ(info.data_bytes, 0u);
  std::string back = "x";
  back.clear();
  ASSERT_OK(data_of(*store_, 1, 2, &back));
  EXPECT_TRUE(back.empty());
  ASSERT_OK(store_->verify(1, 2));
}

TEST_P(SnapshotStoreTest, AFileSentToAnotherStoreArrivesWhole) {
  const std::string data = pattern(1024 * 1024 + 3, 2);
  SnapshotInfo sent;
  ASSERT_OK(save(*store_, 9, meta_at(100, 7), data, &sent));
  const std::string file = file_of(9, 100);
  ASSERT_EQ(file.size(), sent.file_bytes);

  auto other = kind().open(dir_ + "/other");
  ASSERT_NE(other, nullptr);
  SnapshotInfo received;
  ASSERT_OK(receive(*other, 9, file, file.size(), &received));
  EXPECT_EQ(received.partition, sent.partition);
  EXPECT_EQ(received.meta, sent.meta);
  EXPECT_EQ(received.data_bytes, sent.data_bytes);
  EXPECT_EQ(received.file_bytes, sent.file_bytes);
  ASSERT_TRUE(other->latest(9).has_value());
  EXPECT_EQ(other->latest(9)->meta, sent.meta);
  std::string back;
  ASSERT_OK(data_of(*other, 9, 100, &back));
  EXPECT_TRUE(back == data);
}

// A byte changed anywhere in a file: in the header, the data or the trailer.
TEST_P(SnapshotStoreTest, AReceivedFileWithADamagedByteIsRefused) {
  ASSERT_OK(save(*store_, 2, meta_at(10), pattern(50000)));
  const std::string file = file_of(2, 10);
  for (std::size_t at : {std::size_t{0}, std::size_t{10}, std::size_t{20}, std::size_t{40},
                         std::size_t{200}, file.size() / 2, file.size() - 5, file.size() - 1}) {
    std::string damaged = file;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x10);
    auto other = make_memory_snapshot_store();
    const StorageStatus st = receive(*other, 2, damaged);
    EXPECT_EQ(st.code(), StorageCode::Corruption) << "byte " << at << ": " << st.to_string();
    EXPECT_TRUE(other->list(2).empty()) << "byte " << at;
  }
}

TEST_P(SnapshotStoreTest, ATruncatedOrLengthenedReceivedFileIsRefused) {
  ASSERT_OK(save(*store_, 2, meta_at(10), pattern(50000)));
  const std::string file = file_of(2, 10);
  for (std::size_t size : {std::size_t{0}, std::size_t{3}, std::size_t{30}, file.size() / 2,
                           file.size() - 4, file.size() - 1}) {
    auto other = make_memory_snapshot_store();
    const StorageStatus st = receive(*other, 2, std::string_view(file).substr(0, size));
    EXPECT_EQ(st.code(), StorageCode::Corruption) << size << " bytes: " << st.to_string();
    EXPECT_TRUE(other->list(2).empty());
  }
  auto other = make_memory_snapshot_store();
  EXPECT_EQ(receive(*other, 2, file + "x").code(), StorageCode::Corruption);
  EXPECT_TRUE(other->list(2).empty());
}

TEST_P(SnapshotStoreTest, AFileOverTheSizeLimitIsRefusedAsSoonAsItsHeaderArrives) {
  ASSERT_OK(save(*store_, 2, meta_at(10), pattern(50000)));
  const std::string file = file_of(2, 10);
  std::unique_ptr<SnapshotSink> sink;
  ASSERT_OK(store_->receive(2, file.size() - 1, &sink));
  // The header arrives whole in the first piece; the refusal does not wait for the data.
  const StorageStatus st = sink->write(file.data(), 1000);
  EXPECT_EQ(st.code(), StorageCode::InvalidArgument) << st.to_string();
  SnapshotInfo info;
  EXPECT_FALSE(sink->commit(&info).ok());
  EXPECT_EQ(store_->list(2).size(), 1u);
  // At exactly the limit it is taken.
  auto other = make_memory_snapshot_store();
  ASSERT_OK(receive(*other, 2, file, file.size()));
}

TEST_P(SnapshotStoreTest, AFileOfAnotherPartitionIsRefused) {
  ASSERT_OK(save(*store_, 2, meta_at(10), pattern(5000)));
  const std::string file = file_of(2, 10);
  const StorageStatus st = receive(*store_, 3, file);
  EXPECT_EQ(st.code(), StorageCode::InvalidArgument) << st.to_string();
  EXPECT_TRUE(store_->list(3).empty());
}

TEST_P(SnapshotStoreTest, AHeaderDeclaringAHugeSizeIsCorruptionNotAnAllocation) {
  std::string bytes = "SYNODSNP";
  put_le32(bytes, 1);
  put_le32(bytes, 0xffffffffu);
  bytes += pattern(100);
  EXPECT_EQ(receive(*store_, 1, bytes).code(), StorageCode::Corruption);
  EXPECT_EQ(receive(*store_, 1, pattern(100)).code(), StorageCode::Corruption);
  EXPECT_TRUE(store_->list(1).empty());
}

TEST_P(SnapshotStoreTest, ANewerFormatIsUnsupported) {
  ASSERT_OK(save(*store_, 2, meta_at(10), "data"));
  std::string file = file_of(2, 10);
  const std::size_t header_bytes = get_le32(std::string_view(file).substr(12));
  file[8] = 2;  // format version
  std::string crc;
  put_le32(crc, crc32c(std::string_view(file).substr(0, header_bytes - 4)));
  file.replace(header_bytes - 4, 4, crc);
  EXPECT_EQ(receive(*store_, 2, file).code(), StorageCode::Unsupported);
}

TEST_P(SnapshotStoreTest, ASinkDestroyedBeforeCommitLeavesNothing) {
  {
    std::unique_ptr<SnapshotSink> sink;
    ASSERT_OK(store_->create(4, meta_at(8), &sink));
    ASSERT_OK(write_pieces(*sink, pattern(100000), 4096));
  }
  {
    ASSERT_OK(save(*store_, 4, meta_at(3), "older"));
    std::unique_ptr<SnapshotSink> sink;
    ASSERT_OK(store_->receive(4, UINT64_MAX, &sink));
    const std::string file = file_of(4, 3);
    ASSERT_OK(sink->write(file.data(), file.size() - 1));
  }
  ASSERT_EQ(store_->list(4).size(), 1u);
  EXPECT_EQ(store_->latest(4)->meta.index, 3u);
  std::unique_ptr<SnapshotSource> source;
  EXPECT_EQ(store_->open_data(4, 8, &source).code(), StorageCode::NotFound);
  if (kind().on_disk) {
    std::vector<std::string> names;
    for (const auto& e : fs::recursive_directory_iterator(dir_)) {
      if (e.is_regular_file()) names.push_back(e.path().filename().string());
    }
    for (const auto& name : names) EXPECT_EQ(name.rfind("tmp-", 0), std::string::npos) << name;
  }
}

TEST_P(SnapshotStoreTest, ASinkTakesNothingAfterCommit) {
  std::unique_ptr<SnapshotSink> sink;
  ASSERT_OK(store_->create(1, meta_at(5), &sink));
  ASSERT_OK(sink->write("abc", 3));
  SnapshotInfo info;
  ASSERT_OK(sink->commit(&info));
  EXPECT_FALSE(sink->write("d", 1).ok());
  EXPECT_FALSE(sink->commit(&info).ok());
  std::string back;
  ASSERT_OK(data_of(*store_, 1, 5, &back));
  EXPECT_EQ(back, "abc");
}

TEST_P(SnapshotStoreTest, CreateRefusesIndexOrTermZero) {
  std::unique_ptr<SnapshotSink> sink;
  EXPECT_EQ(store_->create(1, meta_at(0), &sink).code(), StorageCode::InvalidArgument);
  EXPECT_EQ(store_->create(1, meta_at(5, 0), &sink).code(), StorageCode::InvalidArgument);
}

TEST_P(SnapshotStoreTest, SnapshotsAreListedByIndexAndAnOlderOneMayBeCommitted) {
  ASSERT_OK(save(*store_, 1, meta_at(20), "twenty"));
  ASSERT_OK(save(*store_, 1, meta_at(10), "ten"));
  ASSERT_OK(save(*store_, 1, meta_at(30), "thirty"));
  // The same index again replaces it.
  ASSERT_OK(save(*store_, 1, meta_at(20, 4), "twenty again"));
  std::vector<Index> indexes;
  for (const auto& info : store_->list(1)) indexes.push_back(info.meta.index);
  EXPECT_EQ(indexes, (std::vector<Index>{10, 20, 30}));
  EXPECT_EQ(store_->latest(1)->meta.index, 30u);
  std::string back;
  ASSERT_OK(data_of(*store_, 1, 20, &back));
  EXPECT_EQ(back, "twenty again");
  EXPECT_EQ(store_->list(1)[1].meta.term, 4u);
}

TEST_P(SnapshotStoreTest, RemoveOlderKeepsNewerOnesAndOpenSourcesKeepReading) {
  const std::string old_data = pattern(300000, 3);
  ASSERT_OK(save(*store_, 1, meta_at(10), old_data));
  ASSERT_OK(save(*store_, 1, meta_at(20), "twenty"));
  ASSERT_OK(save(*store_, 1, meta_at(30), "thirty"));
  ASSERT_OK(save(*store_, 2, meta_at(5), "other partition"));
  std::unique_ptr<SnapshotSource> source;
  ASSERT_OK(store_->open_data(1, 10, &source));
  std::string back(1000, '\0');
  std::size_t got = 0;
  ASSERT_OK(source->read(back.data(), back.size(), &got));
  back.resize(got);

  ASSERT_OK(store_->remove_older(1, 30));
  ASSERT_EQ(store_->list(1).size(), 1u);
  EXPECT_EQ(store_->latest(1)->meta.index, 30u);
  std::unique_ptr<SnapshotSource> gone;
  EXPECT_EQ(store_->open_data(1, 20, &gone).code(), StorageCode::NotFound);
  EXPECT_EQ(store_->verify(1, 10).code(), StorageCode::NotFound);
  EXPECT_EQ(store_->list(2).size(), 1u);
  std::string kept;
  ASSERT_OK(data_of(*store_, 1, 30, &kept));
  EXPECT_EQ(kept, "thirty");

  ASSERT_OK(read_all(*source, &back));
  EXPECT_TRUE(back == old_data);
}

TEST_P(SnapshotStoreTest, RemovePartitionDeletesOnlyThatPartition) {
  ASSERT_OK(save(*store_, 1, meta_at(10), "ten"));
  ASSERT_OK(save(*store_, 1, meta_at(20), "twenty"));
  ASSERT_OK(save(*store_, 2, meta_at(5), "five"));
  ASSERT_OK(store_->remove_partition(1));
  EXPECT_TRUE(store_->list(1).empty());
  EXPECT_FALSE(store_->latest(1).has_value());
  EXPECT_EQ(store_->list(2).size(), 1u);
  // The partition can start again.
  ASSERT_OK(save(*store_, 1, meta_at(3), "three"));
  EXPECT_EQ(store_->latest(1)->meta.index, 3u);
  if (kind().on_disk) {
    store_.reset();
    store_ = kind().open(dir_);
    ASSERT_NE(store_, nullptr);
    ASSERT_EQ(store_->list(1).size(), 1u);
    EXPECT_EQ(store_->latest(1)->meta.index, 3u);
  }
}

// Threads each own a partition and write, send, read and remove its snapshots while
// another lists them all (run under TSan).
TEST_P(SnapshotStoreTest, ConcurrentSinksAndSourcesOnDifferentPartitions) {
  constexpr int kThreads = 4;
  constexpr Index kRounds = 8;
  auto other = kind().open(dir_ + "/other");
  ASSERT_NE(other, nullptr);
  std::atomic<int> running{kThreads};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const auto partition = static_cast<PartitionId>(t + 1);
      for (Index round = 1; round <= kRounds; ++round) {
        const std::string data = pattern(20000 + round * 100, static_cast<unsigned>(t));
        std::string file, back;
        std::unique_ptr<SnapshotSource> source;
        const bool ok = save(*store_, partition, meta_at(round), data).ok() &&
                        store_->open_file(partition, round, &source).ok() &&
                        read_all(*source, &file).ok() && receive(*other, partition, file).ok() &&
                        data_of(*other, partition, round, &back).ok() && back == data &&
                        other->remove_older(partition, round).ok() &&
                        store_->remove_older(partition, round).ok() &&
                        store_->verify(partition, round).ok();
        if (!ok) failures.fetch_add(1);
      }
      running.fetch_sub(1);
    });
  }
  std::size_t seen = 0;
  while (running.load() > 0) {
    for (PartitionId p = 1; p <= kThreads; ++p)
      seen += store_->list(p).size() + other->list(p).size();
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  for (PartitionId p = 1; p <= kThreads; ++p) {
    ASSERT_EQ(store_->list(p).size(), 1u);
    EXPECT_EQ(store_->latest(p)->meta.index, kRounds);
    ASSERT_EQ(other->list(p).size(), 1u);
  }
  (void)seen;
}

INSTANTIATE_TEST_SUITE_P(Stores, SnapshotStoreTest, ::testing::Values(disk_kind(), memory_kind()),
                         [](const ::testing::TestParamInfo<StoreKind>& info) {
                           return info.param.name;
                         });

// The disk store's files: damage done to them at rest, crashes, reopening.
class DiskSnapshotStoreTest : public SnapshotFixture {
 protected:
  StoreKind kind() const override { return disk_kind(); }

  std::string path_of(PartitionId partition, Index index) const {
    for (const auto& e : fs::directory_iterator(dir_ + "/" + std::to_string(partition))) {
      if (e.path().filename().string().rfind(
              "snap-" + std::string(20 - std::to_string(index).size(), '0') +
                  std::to_string(index) + "-",
              0) == 0) {
        return e.path().string();
      }
    }
    ADD_FAILURE() << "no file for index " << index;
    return {};
  }

  void flip_byte(const std::string& path, std::uint64_t at) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(at));
    char c = 0;
    f.get(c);
    f.seekp(static_cast<std::streamoff>(at));
    f.put(static_cast<char>(c ^ 0x01));
  }

  void reopen() {
    store_.reset();
    store_ = kind().open(dir_);
    ASSERT_NE(store_, nullptr);
  }
};

TEST_F(DiskSnapshotStoreTest, ReopeningFindsCommittedSnapshotsAndDeletesTemporaryFiles) {
  const std::string data = pattern(200000, 4);
  ASSERT_OK(save(*store_, 1, meta_at(10), "ten"));
  ASSERT_OK(save(*store_, 1, meta_at(20), data));
  ASSERT_OK(save(*store_, 7, meta_at(5, 2), "seven"));
  // What a crash in the middle of a write leaves.
  std::ofstream(dir_ + "/1/tmp-0.snap") << "half a snapshot";
  std::ofstream(dir_ + "/7/tmp-12.snap") << "half a snapshot";
  const auto before = store_->list(1);
  reopen();
  EXPECT_FALSE(fs::exists(dir_ + "/1/tmp-0.snap"));
  EXPECT_FALSE(fs::exists(dir_ + "/7/tmp-12.snap"));
  const auto after = store_->list(1);
  ASSERT_EQ(after.size(), 2u);
  for (std::size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].meta, before[i].meta);
    EXPECT_EQ(after[i].data_bytes, before[i].data_bytes);
    EXPECT_EQ(after[i].file_bytes, before[i].file_bytes);
  }
  EXPECT_EQ(store_->latest(7)->meta, meta_at(5, 2));
  std::string back;
  ASSERT_OK(data_of(*store_, 1, 20, &back));
  EXPECT_TRUE(back == data);
  // New temporary names do not collide with anything left.
  ASSERT_OK(save(*store_, 1, meta_at(30), "thirty"));
}

TEST_F(DiskSnapshotStoreTest, ASecondStoreOnTheDirectoryIsLocked) {
  StorageStatus status;
  EXPECT_EQ(open_disk_snapshot_store(dir_, &status), nullptr);
  EXPECT_EQ(status.code(), StorageCode::Locked);
}

// A byte changed at rest, in the header, the data or the trailer: reading the data or the
// file, and verify(), report Corruption.
TEST_F(DiskSnapshotStoreTest, ADamagedFileIsCorruptionWhenReadOrVerified) {
  const std::string data = pattern(100000, 5);
  SnapshotInfo info;
  ASSERT_OK(save(*store_, 1, meta_at(10), data, &info));
  const std::string file = file_of(1, 10);
  for (std::uint64_t at :
       {std::uint64_t{20}, std::uint64_t{60}, info.file_bytes / 2, info.file_bytes - 2}) {
    const std::string path = path_of(1, 10);
    flip_byte(path, at);
    std::string back;
    EXPECT_EQ(data_of(*store_, 1, 10, &back).code(), StorageCode::Corruption) << "byte " << at;
    EXPECT_EQ(store_->verify(1, 10).code(), StorageCode::Corruption) << "byte " << at;
    std::unique_ptr<SnapshotSource> source;
    ASSERT_OK(store_->open_file(1, 10, &source));
    back.clear();
    EXPECT_EQ(read_all(*source, &back).code(), StorageCode::Corruption) << "byte " << at;
    flip_byte(path, at);
    ASSERT_OK(store_->verify(1, 10));
  }
}

TEST_F(DiskSnapshotStoreTest, ATruncatedOrLengthenedFileIsCorruptionWhenReadOrVerified) {
  SnapshotInfo info;
  ASSERT_OK(save(*store_, 1, meta_at(10), pattern(100000, 6), &info));
  const std::string path = path_of(1, 10);
  for (std::uint64_t size : {info.file_bytes - 1, info.file_bytes - 4, info.file_bytes / 2,
                             std::uint64_t{50}, std::uint64_t{0}}) {
    fs::resize_file(path, size);
    std::string back;
    EXPECT_EQ(data_of(*store_, 1, 10, &back).code(), StorageCode::Corruption) << size;
    EXPECT_EQ(store_->verify(1, 10).code(), StorageCode::Corruption) << size;
  }
  ASSERT_OK(save(*store_, 2, meta_at(10), "ten"));
  std::ofstream(path_of(2, 10), std::ios::app) << "more";
  EXPECT_EQ(store_->verify(2, 10).code(), StorageCode::Corruption);
}

TEST_F(DiskSnapshotStoreTest, AFileWhoseHeaderIsDamagedIsNotListedAfterReopening) {
  ASSERT_OK(save(*store_, 1, meta_at(10), "ten"));
  ASSERT_OK(save(*store_, 1, meta_at(20), "twenty"));
  flip_byte(path_of(1, 20), 30);
  // A file renamed to another index does not pass for it either.
  fs::rename(path_of(1, 10), dir_ + "/1/" + "snap-00000000000000000011-00000000000000000003.snap");
  reopen();
  EXPECT_TRUE(store_->list(1).empty());
}

}  // namespace
}  // namespace synod::storage
