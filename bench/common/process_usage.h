// CPU time and memory of a process, this one or a child, read from /proc: the network
// benchmark measures its children the same way it measures itself.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

namespace synod::bench {

struct ProcessUsage {
  bool ok = false;   // false when the process is gone (or /proc unreadable)
  double cpu_s = 0;  // user + system time
  double rss_mib = 0;
  double peak_rss_mib = 0;
};

// `pid` 0: this process. CPU time has the kernel's tick resolution (usually 10 ms).
inline ProcessUsage process_usage(pid_t pid = 0) {
  const std::string dir = pid == 0 ? "/proc/self" : "/proc/" + std::to_string(pid);
  ProcessUsage u;
  std::ifstream stat(dir + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return u;
  // The command name, in parentheses, may hold spaces: the fields follow its last ')'.
  const auto close = line.rfind(')');
  if (close == std::string::npos) return u;
  std::istringstream fields(line.substr(close + 2));
  std::string field;
  std::uint64_t utime = 0;
  std::uint64_t stime = 0;
  // Fields 3 (state) to 13 come first; utime and stime are fields 14 and 15.
  for (int i = 3; i < 14; ++i) fields >> field;
  if (!(fields >> utime >> stime)) return u;
  u.cpu_s = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));

  std::ifstream status(dir + "/status");
  while (std::getline(status, line)) {
    std::istringstream in(line);
    std::string key;
    double kib = 0;
    in >> key >> kib;
    if (key == "VmRSS:") u.rss_mib = kib / 1024;
    if (key == "VmHWM:") u.peak_rss_mib = kib / 1024;
  }
  u.ok = true;
  return u;
}

// Resets the peak RSS (VmHWM) of `pid` (0: this process) to its RSS now, so that a later
// reading shows the peak of what follows. False where the kernel refuses.
inline bool reset_peak_rss(pid_t pid = 0) {
  std::ofstream clear(pid == 0 ? "/proc/self/clear_refs"
                               : "/proc/" + std::to_string(pid) + "/clear_refs");
  clear << "5";
  clear.flush();
  return clear.good();
}

}  // namespace synod::bench
