// Assertions on a StorageStatus, shared by the storage tests.
#pragma once

#include <gtest/gtest.h>

#include "synod/storage/status.h"

// Fails the test (and returns) unless `expr` is Ok, printing the status.
#define ASSERT_OK(expr)                                     \
  do {                                                      \
    const ::synod::storage::StorageStatus status_ = (expr); \
    ASSERT_TRUE(status_.ok()) << status_.to_string();       \
  } while (false)
