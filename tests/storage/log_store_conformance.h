// The LogStore conformance suite: every store runs the same TEST_Ps.
//
// A store joins with one line in its own test file:
//   INSTANTIATE_TEST_SUITE_P(Name, LogStoreConformance, ::testing::Values(name_store()),
//                            store_kind_name);
// where name_store() returns the StoreKind below.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "synod/storage/log_store.h"

namespace synod::storage::testing {

// How the suite opens, restarts and crashes one kind of store.
struct StoreKind {
  std::string name;
  // Opens (creating when needed) a store kept in `dir`, an existing empty directory.
  std::function<std::unique_ptr<LogStore>(const std::string& dir)> open;
  // A process restart: takes the store and returns what a new process opening `dir`
  // finds. At least every synced write must be there.
  std::function<std::unique_ptr<LogStore>(std::unique_ptr<LogStore> store, const std::string& dir)>
      reopen;
  // A power failure and restart: like reopen, but every unsynced write is lost. Empty
  // when the store cannot simulate one; the crash cases are then skipped.
  std::function<std::unique_ptr<LogStore>(std::unique_ptr<LogStore> store, const std::string& dir)>
      crash;
};

inline void PrintTo(const StoreKind& kind, std::ostream* os) { *os << kind.name; }
inline std::string store_kind_name(const ::testing::TestParamInfo<StoreKind>& info) {
  return info.param.name;
}

class LogStoreConformance : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override;
  void TearDown() override;
  void reopen();
  void crash();

  // A fresh temporary directory per test, removed afterwards.
  std::string dir_;
  std::unique_ptr<LogStore> store_;
};

}  // namespace synod::storage::testing
