// --report DIR: a benchmark's figures as JSON (report.json) and two plots drawn by gnuplot
// (Debian's gnuplot-nox): the commit latency distribution (latency.svg) and the commits
// per second over the measured window (throughput.svg), beside the data files they plot.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "common/closed_loop.h"

namespace synod::bench {

class Report {
 public:
  explicit Report(std::string program) : program_(std::move(program)) {}

  // How the run was set up ("store": "rocksdb", ...), shown as given.
  void setting(const std::string& name, const std::string& value) {
    settings_.emplace_back(name, value);
  }
  // One measured figure, with its unit ("commits/s", "us", "cpu-us/commit", ...).
  void figure(const std::string& name, double value, const std::string& unit) {
    figures_.push_back({name, value, unit});
  }

  // Writes everything into `dir` (created if missing) and runs gnuplot over it; false with
  // `why` when a file cannot be written or gnuplot fails. The throughput curve covers the
  // whole intervals of the `elapsed_s` measured.
  bool write(const std::string& dir, const ClosedLoop& loop, double elapsed_s, std::string& why) const {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return fail(why, "cannot create " + dir + ": " + ec.message());
    const std::filesystem::path d = dir;

    std::string cdf;  // latency (us) and the fraction of commits at or below it
    std::string buckets = "[";
    std::uint64_t total = 0;
    loop.latency().for_each_bucket([&](std::uint64_t, std::uint64_t n) { total += n; });
    std::uint64_t seen = 0;
    loop.latency().for_each_bucket([&](std::uint64_t upper_ns, std::uint64_t n) {
      seen += n;
      if (buckets.size() > 1) buckets += ',';
      buckets += "[" + std::to_string(upper_ns) + "," + std::to_string(n) + "]";
      cdf += number(static_cast<double>(upper_ns) / 1e3) + " " +
             number(static_cast<double>(seen) / static_cast<double>(total)) + "\n";
    });
    buckets += "]";

    std::vector<std::uint64_t> curve = loop.curve();
    const double interval_s = std::chrono::duration<double>(ClosedLoop::kCurveInterval).count();
    curve.resize(std::min(curve.size(), static_cast<std::size_t>(elapsed_s / interval_s)));
    std::string rates = "[";
    std::string over_time;
    for (std::size_t i = 0; i < curve.size(); ++i) {
      const double rate = static_cast<double>(curve[i]) / interval_s;
      if (i) rates += ',';
      rates += number(rate);
      over_time += number(static_cast<double>(i + 1) * interval_s) + " " + number(rate) + "\n";
    }
    rates += "]";

    std::string json = "{\n  \"program\": \"" + escape(program_) + "\",\n  \"settings\": {";
    for (std::size_t i = 0; i < settings_.size(); ++i) {
      json += std::string(i ? "," : "") + "\n    \"" + escape(settings_[i].first) + "\": \"" +
              escape(settings_[i].second) + "\"";
    }
    json += "\n  },\n  \"figures\": {";
    for (std::size_t i = 0; i < figures_.size(); ++i) {
      json += std::string(i ? "," : "") + "\n    \"" + escape(figures_[i].name) +
              "\": {\"value\": " + number(figures_[i].value) + ", \"unit\": \"" +
              escape(figures_[i].unit) + "\"}";
    }
    json += "\n  },\n  \"latency_ns_buckets\": " + buckets +
            ",\n  \"throughput\": {\"interval_s\": " + number(interval_s) +
            ", \"commits_per_s\": " + rates + "}\n}\n";

    if (!save(d / "report.json", json, why) || !save(d / "latency.dat", cdf, why) ||
        !save(d / "throughput.dat", over_time, why) || !save(d / "plots.gp", script(), why)) {
      return false;
    }
    const std::string command = "cd '" + d.string() + "' && gnuplot plots.gp";
    if (std::system(command.c_str()) != 0) {
      return fail(why, "gnuplot failed in " + dir + " (is gnuplot-nox installed?)");
    }
    return true;
  }

 private:
  struct Figure {
    std::string name;
    double value;
    std::string unit;
  };

  static bool fail(std::string& why, std::string what) {
    why = std::move(what);
    return false;
  }

  static bool save(const std::filesystem::path& path, const std::string& text, std::string& why) {
    std::ofstream out(path, std::ios::trunc);
    out << text;
    out.close();
    return out ? true : fail(why, "cannot write " + path.string());
  }

  static std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
  }

  static std::string escape(const std::string& s) {
    std::string out;
    for (const char c : s) {
      if (c == '"' || c == '\\') out += '\\';
      if (static_cast<unsigned char>(c) >= 0x20) out += c;
    }
    return out;
  }

  std::string script() const {
    std::string setup;
    for (const auto& [name, value] : settings_) {
      setup += (setup.empty() ? "" : ", ") + name + " " + value;
    }
    const auto title = [&](const std::string& what) {
      return "set title \"" + escape(program_ + ": " + what) + "\\n" + escape(setup) + "\" noenhanced\n";
    };
    return "set terminal svg size 900,480 dynamic font 'sans,11'\n"
           "set grid\n"
           "set key off\n"
           "set output 'latency.svg'\n" +
           title("commit latency, cumulative") +
           "set logscale x\n"
           "set xlabel 'latency (us)'\n"
           "set ylabel 'fraction of commits at or below'\n"
           "set yrange [0:1]\n"
           "plot 'latency.dat' using 1:2 with steps lw 2\n"
           "unset logscale x\n"
           "set output 'throughput.svg'\n" +
           title("commits per second over the measured window") +
           "set xlabel 'time (s)'\n"
           "set ylabel 'commits/s'\n"
           "set yrange [0:*]\n"
           "plot 'throughput.dat' using 1:2 with lines lw 2\n";
  }

  std::string program_;
  std::vector<std::pair<std::string, std::string>> settings_;
  std::vector<Figure> figures_;
};

// The report every load benchmark writes with --report: its setup, throughput, latency
// quantiles and CPU per commit (`cpu_s`: CPU seconds of every process of the run during the
// `elapsed_s` measured). Prints where it went, or why it could not; false then.
inline bool write_load_report(const char* program, const LoadOptions& o, const ClosedLoop& loop,
                              double elapsed_s, double cpu_s) {
  Report report(program);
  report.setting("store", o.store);
  report.setting("sync", o.sync ? "on" : "off");
  report.setting("partitions", std::to_string(o.partitions));
  report.setting("payload", std::to_string(o.payload) + " B");
  report.setting("outstanding", std::to_string(o.outstanding));
  report.setting("threads", std::to_string(o.threads));
  report.setting("snapshots", snapshot_mode(o));
  const double commits = static_cast<double>(loop.committed());
  report.figure("throughput", commits / elapsed_s, "commits/s");
  report.figure("committed", commits, "commits");
  report.figure("elapsed", elapsed_s, "s");
  for (const auto& [name, q] : {std::pair{"latency p50", 0.5}, {"latency p99", 0.99},
                                {"latency p99.9", 0.999}, {"latency max", 1.0}}) {
    report.figure(name, static_cast<double>(loop.latency().quantile(q)) / 1e3, "us");
  }
  report.figure("cpu", cpu_s, "s");
  report.figure("cpu per commit", commits > 0 ? cpu_s * 1e6 / commits : 0, "cpu-us/commit");
  std::string why;
  if (!report.write(o.report_dir, loop, elapsed_s, why)) {
    std::fprintf(stderr, "%s: --report: %s\n", program, why.c_str());
    return false;
  }
  std::printf("report:     %s (report.json, latency.svg, throughput.svg)\n", o.report_dir.c_str());
  return true;
}

}  // namespace synod::bench
