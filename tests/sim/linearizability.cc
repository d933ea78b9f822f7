#include "linearizability.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <unordered_set>

namespace synod::sim {
namespace {

using Value = std::optional<std::string>;

// One invocation or answer in time order, linked so that the search can take an
// operation out of the history and put it back in O(1) ("dancing links").
struct Event {
  bool is_call = false;
  std::size_t op = 0;      // index into the key's operations
  Event* match = nullptr;  // a call's answer, an answer's call
  Event* prev = nullptr;
  Event* next = nullptr;
};

struct Bits {
  std::vector<std::uint64_t> words;
  explicit Bits(std::size_t n) : words((n + 63) / 64, 0) {}
  void set(std::size_t i) { words[i / 64] |= std::uint64_t(1) << (i % 64); }
  void clear(std::size_t i) { words[i / 64] &= ~(std::uint64_t(1) << (i % 64)); }
  friend bool operator==(const Bits&, const Bits&) = default;
};

struct Configuration {
  Bits linearized;
  Value state;
  friend bool operator==(const Configuration&, const Configuration&) = default;
};

struct ConfigurationHash {
  std::size_t operator()(const Configuration& c) const {
    std::size_t h = c.state ? std::hash<std::string>()(*c.state) : 0x9e3779b9;
    for (auto w : c.linearized.words) h = h * 1099511628211ULL ^ std::hash<std::uint64_t>()(w);
    return h;
  }
};

// Applies `op` to a register holding `state`. Returns false when the answer the client
// got is impossible from that state.
bool step(const Operation& op, const Value& state, Value& next) {
  const bool known = op.answered_at.has_value();
  switch (op.kind) {
    case OpKind::Put:
      next = op.argument;
      return true;
    case OpKind::Delete:
      next = std::nullopt;
      return true;
    case OpKind::Get:
      next = state;
      return !known || op.read == state;
    case OpKind::CompareAndSwap: {
      const bool matches = state == op.expected;
      next = matches ? Value(op.argument) : state;
      return !known || op.swapped == matches;
    }
  }
  return false;
}

std::string describe(const Operation& op) {
  auto value = [](const Value& v) { return v ? "\"" + *v + "\"" : std::string("absent"); };
  std::string out = "client " + std::to_string(op.client) + " ";
  switch (op.kind) {
    case OpKind::Put:
      out += "put(" + op.argument + ")";
      break;
    case OpKind::Delete:
      out += "delete";
      break;
    case OpKind::Get:
      out += "get -> " + (op.answered_at ? value(op.read) : std::string("?"));
      break;
    case OpKind::CompareAndSwap:
      out += "cas(" + value(op.expected) + " -> " + op.argument + ") -> " +
             (op.answered_at ? (op.swapped ? "swapped" : "refused") : std::string("?"));
      break;
  }
  out += " [" + std::to_string(op.invoked_at) + ", " +
         (op.answered_at ? std::to_string(*op.answered_at) : std::string("never")) + "]";
  return out;
}

void lift(Event* call) {
  call->prev->next = call->next;
  call->next->prev = call->prev;
  Event* answer = call->match;
  answer->prev->next = answer->next;
  if (answer->next) answer->next->prev = answer->prev;
}

void unlift(Event* call) {
  Event* answer = call->match;
  answer->prev->next = answer;
  if (answer->next) answer->next->prev = answer;
  call->prev->next = call;
  call->next->prev = call;
}

CheckResult check_key(const std::string& key, const std::vector<const Operation*>& ops,
                      std::size_t max_steps) {
  constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();
  // Calls and answers sorted by time; at equal times calls come first, which treats the
  // two operations as concurrent (the permissive reading of a tie).
  struct Stamp {
    std::uint64_t time;
    bool is_answer;
    std::size_t op;
  };
  std::vector<Stamp> stamps;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    stamps.push_back({ops[i]->invoked_at, false, i});
    stamps.push_back({ops[i]->answered_at.value_or(kNever), true, i});
  }
  std::sort(stamps.begin(), stamps.end(), [](const Stamp& a, const Stamp& b) {
    if (a.time != b.time) return a.time < b.time;
    if (a.is_answer != b.is_answer) return !a.is_answer;
    return a.op < b.op;
  });
  std::vector<Event> events(stamps.size() + 1);
  Event* head = &events[0];
  std::vector<Event*> call_of(ops.size());
  std::vector<Event*> answer_of(ops.size());
  for (std::size_t i = 0; i < stamps.size(); ++i) {
    Event* e = &events[i + 1];
    e->is_call = !stamps[i].is_answer;
    e->op = stamps[i].op;
    e->prev = &events[i];
    events[i].next = e;
    (e->is_call ? call_of : answer_of)[e->op] = e;
  }
  for (std::size_t i = 0; i < ops.size(); ++i) {
    call_of[i]->match = answer_of[i];
    answer_of[i]->match = call_of[i];
  }

  std::size_t unanswered_left = 0;
  for (const auto* op : ops) unanswered_left += op->answered_at ? 1 : 0;
  Configuration current{Bits(ops.size()), std::nullopt};
  std::unordered_set<Configuration, ConfigurationHash> seen;
  struct Frame {
    Event* call;
    Value state_before;
  };
  std::vector<Frame> stack;
  std::vector<std::size_t> best_order;
  Event* entry = head->next;
  for (std::size_t steps = 0; unanswered_left > 0; ++steps) {
    if (steps >= max_steps) return {Verdict::GaveUp, key, "search budget exhausted"};
    if (entry != nullptr && entry->is_call) {
      const Operation& op = *ops[entry->op];
      Value next;
      if (step(op, current.state, next)) {
        Configuration candidate{current.linearized, next};
        candidate.linearized.set(entry->op);
        if (seen.insert(candidate).second) {
          stack.push_back({entry, current.state});
          current = std::move(candidate);
          if (op.answered_at) --unanswered_left;
          lift(entry);
          if (stack.size() > best_order.size()) {
            best_order.clear();
            for (const auto& f : stack) best_order.push_back(f.call->op);
          }
          entry = head->next;
          continue;
        }
      }
      entry = entry->next;
      continue;
    }
    // An answer is next (or the list ran out): every operation still in the list must have
    // come before it, and none fits here. Undo the latest choice and try the one after it.
    if (stack.empty()) {
      std::string why = "no order explains the answers; longest valid prefix:";
      for (std::size_t op : best_order) why += "\n    " + describe(*ops[op]);
      why += "\n  operations on this key:";
      for (const auto* op : ops) why += "\n    " + describe(*op);
      return {Verdict::NotLinearizable, key, why};
    }
    Frame frame = stack.back();
    stack.pop_back();
    unlift(frame.call);
    current.linearized.clear(frame.call->op);
    current.state = frame.state_before;
    if (ops[frame.call->op]->answered_at) ++unanswered_left;
    entry = frame.call->next;
  }
  return {Verdict::Linearizable, {}, {}};
}

}  // namespace

CheckResult check_history(const std::vector<Operation>& history, std::size_t max_steps_per_key) {
  std::map<std::string, std::vector<const Operation*>> by_key;
  for (const auto& op : history) by_key[op.key].push_back(&op);
  CheckResult overall;
  for (const auto& [key, ops] : by_key) {
    CheckResult result = check_key(key, ops, max_steps_per_key);
    if (result.verdict == Verdict::NotLinearizable) return result;
    if (result.verdict == Verdict::GaveUp) overall = result;
  }
  return overall;
}

const char* to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::Linearizable:
      return "linearizable";
    case Verdict::NotLinearizable:
      return "not linearizable";
    case Verdict::GaveUp:
      return "gave up";
  }
  return "unknown";
}

}  // namespace synod::sim
