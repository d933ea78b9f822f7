// StorageStatus: codes and messages.
#include "synod/storage/status.h"

#include <gtest/gtest.h>

namespace synod::storage {
namespace {

TEST(StorageStatus, DefaultIsOk) {
  const StorageStatus status;
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.code(), StorageCode::Ok);
  EXPECT_EQ(status.to_string(), "Ok");
}

TEST(StorageStatus, FactoriesSetCodeAndMessage) {
  const std::pair<StorageStatus, const char*> cases[] = {
      {StorageStatus::not_found("m"), "NotFound: m"},
      {StorageStatus::corruption("m"), "Corruption: m"},
      {StorageStatus::io_error("m"), "IoError: m"},
      {StorageStatus::invalid_argument("m"), "InvalidArgument: m"},
      {StorageStatus::locked("m"), "Locked: m"},
      {StorageStatus::unsupported("m"), "Unsupported: m"},
  };
  for (const auto& [status, text] : cases) {
    EXPECT_FALSE(status.ok());
    EXPECT_EQ(status.message(), "m");
    EXPECT_EQ(status.to_string(), text);
  }
}

}  // namespace
}  // namespace synod::storage
