// A line diff of two texts in the unified format, for showing how a scenario's transcript
// departs from the one stored beside its script.
#pragma once

#include <string>
#include <string_view>

namespace synod::raft::scenarios {

// The changes that turn `expected` into `actual`, line by line, as unified-diff hunks with
// `context` unchanged lines around each change, under "--- expected_name" and
// "+++ actual_name" headers. Empty when the texts are equal. A missing newline at the end
// of either text is not a difference.
std::string unified_diff(std::string_view expected, std::string_view actual,
                         std::string_view expected_name, std::string_view actual_name,
                         int context = 3);

}  // namespace synod::raft::scenarios
