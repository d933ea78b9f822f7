// MemoryLogStore: the conformance suite, plus what only the memory store offers.
#include "synod/storage/memory_log_store.h"

#include <gtest/gtest.h>

#include "log_store_conformance.h"

namespace synod::storage::testing {
namespace {

std::unique_ptr<LogStore> crash_memory_store(std::unique_ptr<LogStore> store, const std::string&) {
  static_cast<MemoryLogStore&>(*store).crash();
  return store;
}

// With no directory to reopen, a restart is a crash: only synced writes come back.
StoreKind memory_store() {
  return {"Memory", [](const std::string&) { return std::make_unique<MemoryLogStore>(); },
          crash_memory_store, crash_memory_store};
}

INSTANTIATE_TEST_SUITE_P(Memory, LogStoreConformance, ::testing::Values(memory_store()),
                         store_kind_name);

raft::Entry entry(raft::Index index, raft::Term term) {
  raft::Entry e;
  e.index = index;
  e.term = term;
  return e;
}

TEST(MemoryLogStore, CountsTheWritesACrashWouldLose) {
  MemoryLogStore store;
  WriteBatch batch;
  batch.add(1).entries = {entry(1, 1)};
  batch.add(2).entries = {entry(1, 1)};
  batch.add(3);  // empty: nothing to lose
  ASSERT_TRUE(store.write(batch, false).ok());
  EXPECT_EQ(store.unsynced_writes(), 2u);
  ASSERT_TRUE(store.sync().ok());
  EXPECT_EQ(store.unsynced_writes(), 0u);
  batch.clear();
  batch.add(1).entries = {entry(2, 1)};
  ASSERT_TRUE(store.write(batch, false).ok());
  EXPECT_EQ(store.unsynced_writes(), 1u);
  store.crash();
  EXPECT_EQ(store.unsynced_writes(), 0u);
  EXPECT_EQ(store.open_partition(1)->last_index(), 1u);
}

TEST(MemoryLogStore, ViewsOpenedBeforeACrashShowTheDurableState) {
  MemoryLogStore store;
  auto view = store.open_partition(1);
  WriteBatch batch;
  batch.add(1).entries = {entry(1, 1), entry(2, 1)};
  ASSERT_TRUE(store.write(batch, true).ok());
  batch.clear();
  batch.add(1).entries = {entry(2, 2), entry(3, 2)};
  ASSERT_TRUE(store.write(batch, false).ok());
  raft::Term t = 0;
  ASSERT_EQ(view->term(2, t), raft::StorageError::None);
  EXPECT_EQ(t, 2u);
  store.crash();
  EXPECT_EQ(view->last_index(), 2u);
  ASSERT_EQ(view->term(2, t), raft::StorageError::None);
  EXPECT_EQ(t, 1u);
}

TEST(MemoryLogStore, ViewsStayUsableAfterTheStoreIsGone) {
  auto store = std::make_unique<MemoryLogStore>();
  WriteBatch batch;
  batch.add(1).entries = {entry(1, 1)};
  ASSERT_TRUE(store->write(batch, true).ok());
  auto view = store->open_partition(1);
  store.reset();
  EXPECT_EQ(view->last_index(), 1u);
}

}  // namespace
}  // namespace synod::storage::testing
