// What the benchmark programs share of their command lines, and their data directory.
#pragma once

#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <string>
#include <system_error>
#include <thread>

#include "synod/node/snapshots.h"

namespace synod::bench {

// The load and the nodes' environment. Each program sets its own defaults.
struct LoadOptions {
  std::uint32_t partitions = 1;
  std::size_t payload = 256;
  std::size_t outstanding = 128;
  double duration_s = 10;
  double warmup_s = 2;
  std::size_t threads = std::max(1u, std::thread::hardware_concurrency());
  std::string store = "memory";
  std::string dir;
  bool sync = true;
  // The engine's snapshot policy (common/state_machine.h is the host): a snapshot of each
  // partition every `snapshot_every` entries applied (0: none by policy), keeping
  // `snapshot_keep` entries behind it when the log is compacted.
  std::uint64_t snapshot_every = 50000;
  std::uint64_t snapshot_keep = 1024;
};

inline node::SnapshotPolicy snapshot_policy(const LoadOptions& o) {
  node::SnapshotPolicy policy;
  policy.model = node::StateMachineModel::InMemory;
  policy.every_entries = o.snapshot_every;
  policy.keep_entries = o.snapshot_keep;
  return policy;
}

// The snapshot policy, for the setup line.
inline std::string snapshot_mode(const LoadOptions& o) {
  if (o.snapshot_every == 0) return "snapshots off";
  return "a snapshot every " + std::to_string(o.snapshot_every) + " entries, keeping " +
         std::to_string(o.snapshot_keep);
}

// How the stores sync, for the setup line.
inline const char* sync_mode(const LoadOptions& o) {
  if (!o.sync) return "sync OFF (writes are not made durable)";
  return o.store == "memory" ? "sync on (the default; the memory store has no sync cost)"
                             : "sync on (the default)";
}

// A flag's value, with what the flags' checks need to know of it.
struct FlagValue {
  const char* text = nullptr;
  double number = 0;
  bool numeric = false;  // a number >= 0
  bool whole = false;    // ... without a fraction
};

enum class Parsed { Ok, Bad, Unknown };

// A program's own flags: switches (no value) and flags with a value. Each answers
// Unknown for a flag it does not know.
struct ExtraFlags {
  std::function<Parsed(const std::string& flag)> on_switch = [](const std::string&) {
    return Parsed::Unknown;
  };
  std::function<Parsed(const std::string& flag, const FlagValue& value)> on_value =
      [](const std::string&, const FlagValue&) { return Parsed::Unknown; };
};

// Parses the shared flags into `o` and hands the rest to `extra`. Sets `help` for --help.
// Returns false (after printing why) for anything neither understands.
inline bool parse_options(const char* program, int argc, char** argv, LoadOptions& o,
                          const ExtraFlags& extra, bool& help) {
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      help = true;
      return true;
    }
    if (flag == "--no-sync") {
      o.sync = false;
      continue;
    }
    if (const Parsed s = extra.on_switch(flag); s != Parsed::Unknown) {
      if (s == Parsed::Bad) return false;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s: %s needs a value (see --help)\n", program, flag.c_str());
      return false;
    }
    FlagValue value;
    value.text = argv[++i];
    char* end = nullptr;
    value.number = std::strtod(value.text, &end);
    value.numeric = end != value.text && *end == '\0' && value.number >= 0;
    value.whole = value.numeric &&
                  value.number == static_cast<double>(static_cast<std::uint64_t>(value.number));
    const double v = value.number;
    bool ok = true;
    if (flag == "--partitions") {
      ok = value.whole && v >= 1 && v <= std::numeric_limits<std::uint32_t>::max();
      o.partitions = static_cast<std::uint32_t>(v);
    } else if (flag == "--payload") {
      ok = value.whole;
      o.payload = static_cast<std::size_t>(v);
    } else if (flag == "--outstanding") {
      ok = value.whole && v >= 1;
      o.outstanding = static_cast<std::size_t>(v);
    } else if (flag == "--duration") {
      ok = value.numeric && v > 0;
      o.duration_s = v;
    } else if (flag == "--warmup") {
      ok = value.numeric;
      o.warmup_s = v;
    } else if (flag == "--threads") {
      ok = value.whole && v >= 1;
      o.threads = static_cast<std::size_t>(v);
    } else if (flag == "--store") {
      o.store = value.text;
      ok = o.store == "memory" || o.store == "rocksdb" || o.store == "sqlite";
    } else if (flag == "--dir") {
      o.dir = value.text;
    } else if (flag == "--snapshot-every") {
      ok = value.whole;
      o.snapshot_every = static_cast<std::uint64_t>(v);
    } else if (flag == "--snapshot-keep") {
      ok = value.whole;
      o.snapshot_keep = static_cast<std::uint64_t>(v);
    } else if (const Parsed p = extra.on_value(flag, value); p != Parsed::Unknown) {
      ok = p == Parsed::Ok;
    } else {
      std::fprintf(stderr, "%s: unknown option %s (see --help)\n", program, flag.c_str());
      return false;
    }
    if (!ok) {
      std::fprintf(stderr, "%s: bad value for %s: %s\n", program, flag.c_str(), value.text);
      return false;
    }
  }
  return true;
}

// The durable stores need a directory: unless the command line named one, a fresh
// temporary directory, removed with its contents when this goes.
class DataDirectory {
 public:
  DataDirectory() = default;
  DataDirectory(const DataDirectory&) = delete;
  DataDirectory& operator=(const DataDirectory&) = delete;
  ~DataDirectory() {
    if (temporary_.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(temporary_, ec);
  }

  // Fills in o.dir when a durable store needs one; false (after printing why) on failure.
  bool prepare(const char* program, LoadOptions& o) {
    if (o.store == "memory" || !o.dir.empty()) return true;
    std::string path =
        (std::filesystem::temp_directory_path() / (std::string(program) + "-XXXXXX")).string();
    if (mkdtemp(path.data()) == nullptr) {
      std::fprintf(stderr, "%s: mkdtemp: %s\n", program, std::strerror(errno));
      return false;
    }
    temporary_ = o.dir = path;
    return true;
  }

 private:
  std::string temporary_;
};

}  // namespace synod::bench
