#include "text_diff.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace synod::raft::scenarios {
namespace {

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto end = text.find('\n');
    lines.push_back(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
  }
  return lines;
}

struct Edit {
  char op;  // ' ' kept, '-' only in expected, '+' only in actual
  std::string_view line;
};

// A shortest edit script from a longest common subsequence. Transcripts have hundreds of
// lines, so the quadratic table is small; the common head and tail are kept out of it.
std::vector<Edit> edit_script(const std::vector<std::string_view>& a,
                              const std::vector<std::string_view>& b) {
  std::size_t head = 0;
  while (head < a.size() && head < b.size() && a[head] == b[head]) ++head;
  std::size_t tail = 0;
  while (tail < a.size() - head && tail < b.size() - head &&
         a[a.size() - 1 - tail] == b[b.size() - 1 - tail]) {
    ++tail;
  }
  const std::size_t n = a.size() - head - tail;
  const std::size_t m = b.size() - head - tail;
  // lcs[i * (m + 1) + j]: length of the longest common subsequence of the middles of a
  // and b from positions i and j on.
  std::vector<std::uint32_t> lcs((n + 1) * (m + 1), 0);
  for (std::size_t i = n; i-- > 0;) {
    for (std::size_t j = m; j-- > 0;) {
      lcs[i * (m + 1) + j] = a[head + i] == b[head + j]
                                 ? lcs[(i + 1) * (m + 1) + j + 1] + 1
                                 : std::max(lcs[(i + 1) * (m + 1) + j], lcs[i * (m + 1) + j + 1]);
    }
  }
  std::vector<Edit> edits;
  for (std::size_t k = 0; k < head; ++k) edits.push_back({' ', a[k]});
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[head + i] == b[head + j]) {
      edits.push_back({' ', a[head + i]});
      ++i;
      ++j;
    } else if (j == m || (i < n && lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1])) {
      edits.push_back({'-', a[head + i]});
      ++i;
    } else {
      edits.push_back({'+', b[head + j]});
      ++j;
    }
  }
  for (std::size_t k = a.size() - tail; k < a.size(); ++k) edits.push_back({' ', a[k]});
  return edits;
}

// "start,count" of a hunk's side; an empty side names the line before it.
std::string range(std::size_t first, std::size_t count) {
  return std::to_string(count == 0 ? first : first + 1) + "," + std::to_string(count);
}

}  // namespace

std::string unified_diff(std::string_view expected, std::string_view actual,
                         std::string_view expected_name, std::string_view actual_name,
                         int context) {
  const auto edits = edit_script(lines_of(expected), lines_of(actual));
  const auto ctx = static_cast<std::size_t>(std::max(context, 0));
  std::string out;
  std::size_t k = 0;
  // Lines of each side before edits[k].
  std::size_t a_line = 0;
  std::size_t b_line = 0;
  while (k < edits.size()) {
    auto change = std::find_if(edits.begin() + static_cast<std::ptrdiff_t>(k), edits.end(),
                               [](const Edit& e) { return e.op != ' '; });
    if (change == edits.end()) break;
    // The hunk starts `ctx` kept lines before its first change and runs until more than
    // 2 * ctx kept lines separate one change from the next.
    const auto first_change = static_cast<std::size_t>(change - edits.begin());
    const std::size_t start = first_change - std::min(ctx, first_change - k);
    for (; k < start; ++k) {
      ++a_line;
      ++b_line;
    }
    std::size_t end = first_change;
    std::size_t kept_run = 0;
    for (std::size_t e = first_change; e < edits.size(); ++e) {
      if (edits[e].op != ' ') {
        end = e + 1;
        kept_run = 0;
      } else if (++kept_run > 2 * ctx) {
        break;
      }
    }
    end = std::min(edits.size(), end + ctx);
    std::size_t a_count = 0;
    std::size_t b_count = 0;
    for (std::size_t e = start; e < end; ++e) {
      a_count += edits[e].op != '+';
      b_count += edits[e].op != '-';
    }
    if (out.empty()) {
      out += "--- " + std::string(expected_name) + "\n+++ " + std::string(actual_name) + "\n";
    }
    out += "@@ -" + range(a_line, a_count) + " +" + range(b_line, b_count) + " @@\n";
    for (; k < end; ++k) {
      out += edits[k].op;
      out += edits[k].line;
      out += '\n';
    }
    a_line += a_count;
    b_line += b_count;
  }
  return out;
}

}  // namespace synod::raft::scenarios
