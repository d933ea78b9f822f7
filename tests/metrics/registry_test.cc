#include "synod/metrics/registry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace synod::metrics {
namespace {

const FamilySnapshot& find(const std::vector<FamilySnapshot>& all, const std::string& name) {
  for (const FamilySnapshot& f : all) {
    if (f.name == name) return f;
  }
  throw std::out_of_range("no family " + name);
}

TEST(Registry, ReadsTheUnitFromTheName) {
  Registry r;
  r.counter("sent_bytes_total", "h");
  r.counter("sent_total", "h");
  r.gauge("lag_seconds", "h");
  r.histogram("batch_bytes", "h", {1});
  r.histogram("batch_entries", "h", {1});
  r.duration_histogram("fsync_seconds", "h", {1});
  const auto all = r.snapshot();
  EXPECT_EQ(find(all, "sent_bytes_total").unit, Unit::kBytes);
  EXPECT_EQ(find(all, "sent_total").unit, Unit::kNone);
  EXPECT_EQ(find(all, "lag_seconds").unit, Unit::kSeconds);
  EXPECT_EQ(find(all, "batch_bytes").unit, Unit::kBytes);
  EXPECT_EQ(find(all, "batch_entries").unit, Unit::kNone);
  EXPECT_EQ(find(all, "fsync_seconds").unit, Unit::kSeconds);
  EXPECT_EQ(unit_name(Unit::kSeconds), "seconds");
  EXPECT_EQ(type_name(Type::kHistogram), "histogram");
}

TEST(Registry, RefusesNamesAgainstTheGrammarOrTheConventions) {
  Registry r;
  EXPECT_THROW(r.counter("9lives_total", "h"), std::invalid_argument);
  EXPECT_THROW(r.counter("has-dash_total", "h"), std::invalid_argument);
  EXPECT_THROW(r.counter("", "h"), std::invalid_argument);
  EXPECT_THROW(r.counter("proposals", "h"), std::invalid_argument);  // no _total
  EXPECT_THROW(r.gauge("depth_total", "h"), std::invalid_argument);  // _total not a counter
  EXPECT_THROW(r.counter("busy_seconds_total", "h"), std::invalid_argument);
  EXPECT_THROW(r.histogram("fsync_seconds", "h", {1}), std::invalid_argument);
  EXPECT_THROW(r.duration_histogram("fsync", "h", {1}), std::invalid_argument);
  EXPECT_NO_THROW(r.gauge("ns:sub_system:depth", "h"));  // colons are allowed
}

TEST(Registry, RefusesBadLabelNames) {
  Registry r;
  EXPECT_THROW(r.counter("a_total", "h", {"1st"}), std::invalid_argument);
  EXPECT_THROW(r.counter("b_total", "h", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(r.counter("c_total", "h", {"with:colon"}), std::invalid_argument);
  EXPECT_THROW(r.counter("d_total", "h", {"peer", "peer"}), std::invalid_argument);
  EXPECT_THROW(r.histogram("e_bytes", "h", {1}, {"le"}), std::invalid_argument);
  EXPECT_NO_THROW(r.gauge("f", "h", {"le"}));  // only a histogram owns le
}

TEST(Registry, RefusesBadBounds) {
  Registry r;
  EXPECT_THROW(r.histogram("a_bytes", "h", {}), std::invalid_argument);
  EXPECT_THROW(r.histogram("b_bytes", "h", {2, 1}), std::invalid_argument);
  EXPECT_THROW(r.histogram("c_bytes", "h", {1, 1}), std::invalid_argument);
  EXPECT_THROW(r.histogram("d_bytes", "h", {-1}), std::invalid_argument);
  EXPECT_THROW(r.histogram("e_bytes", "h", {1.5}), std::invalid_argument);
  EXPECT_THROW(r.histogram("f_bytes", "h", {std::numeric_limits<double>::infinity()}),
               std::invalid_argument);
  EXPECT_THROW(r.histogram("g_bytes", "h", {1e20}), std::invalid_argument);
  EXPECT_THROW(r.duration_histogram("h_seconds", "h", {1e-10}), std::invalid_argument);
  EXPECT_NO_THROW(r.duration_histogram("i_seconds", "h", {0, 1e-9, 0.1, 0.3}));
}

TEST(Registry, TheSameDescriptionGivesTheSameFamilyAnotherIsRefused) {
  Registry r;
  auto& a = r.counter("x_total", "help", {"partition"});
  EXPECT_EQ(&r.counter("x_total", "help", {"partition"}), &a);
  EXPECT_THROW(r.counter("x_total", "other help", {"partition"}), std::invalid_argument);
  EXPECT_THROW(r.counter("x_total", "help", {"peer"}), std::invalid_argument);
  auto& h = r.histogram("y_bytes", "help", {1, 2});
  EXPECT_EQ(&r.histogram("y_bytes", "help", {1, 2}), &h);
  EXPECT_THROW(r.histogram("y_bytes", "help", {1, 3}), std::invalid_argument);
  r.gauge("z", "help");
  EXPECT_THROW(r.double_gauge("z", "help"), std::invalid_argument);  // same type word, other kind
}

TEST(Registry, RefusesAFamilyWhoseSeriesAnotherFamilyPrints) {
  Registry r;
  r.histogram("batch_bytes", "h", {1});
  EXPECT_THROW(r.gauge("batch_bytes_count", "h"), std::invalid_argument);
  EXPECT_THROW(r.gauge("batch_bytes_sum", "h"), std::invalid_argument);
  r.gauge("queue_bucket", "h");
  EXPECT_THROW(r.histogram("queue", "h", {1}), std::invalid_argument);
}

TEST(Family, SeriesPerLabelSetCreatedOnceAndRemovable) {
  Registry r;
  auto& f = r.counter("msgs_total", "h", {"partition", "peer"});
  Counter& a = f.with({"3", "2"});
  EXPECT_EQ(&f.with({"3", "2"}), &a);
  EXPECT_NE(&f.with({"3", "1"}), &a);
  a.add(7);
  EXPECT_THROW(f.with({"3"}), std::invalid_argument);
  EXPECT_THROW(f.get(), std::invalid_argument);

  auto samples = find(r.snapshot(), "msgs_total").samples;
  ASSERT_EQ(samples.size(), 2u);  // ordered by values: ("3","1") then ("3","2")
  EXPECT_EQ(samples[1].labels, (std::vector<Label>{{"partition", "3"}, {"peer", "2"}}));
  EXPECT_EQ(samples[1].counter, 7u);
  EXPECT_EQ(samples[0].counter, 0u);

  EXPECT_TRUE(f.remove({"3", "1"}));
  EXPECT_FALSE(f.remove({"3", "1"}));
  samples = find(r.snapshot(), "msgs_total").samples;
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].labels[1].value, "2");
}

TEST(Family, AnUnlabelledFamilyHasItsSeriesFromTheStart) {
  Registry r;
  r.counter("elections_total", "h");
  r.counter("labelled_total", "h", {"peer"});
  const auto all = r.snapshot();
  ASSERT_EQ(find(all, "elections_total").samples.size(), 1u);
  EXPECT_TRUE(find(all, "elections_total").samples[0].labels.empty());
  EXPECT_TRUE(find(all, "labelled_total").samples.empty());
}

TEST(Registry, SnapshotIsOrderedByNameAndRegistriesAreIndependent) {
  Registry one;
  Registry two;
  one.gauge("b", "h");
  one.gauge("a", "h");
  one.counter("c_total", "h").get().add(1);
  two.counter("c_total", "h").get().add(5);
  const auto all = one.snapshot();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].name, "a");
  EXPECT_EQ(all[1].name, "b");
  EXPECT_EQ(all[2].name, "c_total");
  EXPECT_EQ(all[2].samples[0].counter, 1u);
  EXPECT_EQ(two.snapshot()[0].samples[0].counter, 5u);
}

TEST(Collector, ValuesAreReadAtScrapeTime) {
  Registry r;
  std::uint64_t syncs = 3;
  double lag = 0.5;
  int calls = 0;
  r.counter_collector("syncs_total", "Syncs.", {}, [&](CounterSink& out) {
    ++calls;
    out.add({}, syncs);
  });
  r.gauge_collector("lag", "Lag.", {"peer"}, [&](GaugeSink& out) {
    out.add({"2"}, lag);
    out.add({"1"}, -lag);
  });
  EXPECT_EQ(calls, 0);  // nothing runs until a scrape
  syncs = 4;
  auto all = r.snapshot();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(find(all, "syncs_total").type, Type::kCounter);
  EXPECT_EQ(find(all, "syncs_total").samples.at(0).counter, 4u);
  const auto& lags = find(all, "lag").samples;
  ASSERT_EQ(lags.size(), 2u);
  EXPECT_EQ(lags[0].labels, (std::vector<Label>{{"peer", "1"}}));
  EXPECT_EQ(lags[0].gauge, -0.5);
  EXPECT_EQ(lags[1].gauge, 0.5);
}

TEST(Collector, RefusesWrongArityDuplicatesAndASecondCollector) {
  Registry r;
  r.gauge_collector("wrong_arity", "h", {"peer"}, [](GaugeSink& out) { out.add({}, 1); });
  EXPECT_THROW(r.snapshot(), std::invalid_argument);

  Registry r2;
  r2.gauge_collector("twice", "h", {"peer"}, [](GaugeSink& out) {
    out.add({"1"}, 1);
    out.add({"1"}, 2);
  });
  EXPECT_THROW(r2.snapshot(), std::invalid_argument);

  Registry r3;
  r3.counter_collector("c_total", "h", {}, [](CounterSink&) {});
  EXPECT_THROW(r3.counter_collector("c_total", "h", {}, [](CounterSink&) {}),
               std::invalid_argument);
  EXPECT_THROW(r3.counter("c_total", "h"), std::invalid_argument);
  EXPECT_THROW(r3.counter_collector("d_seconds_total", "h", {}, [](CounterSink&) {}),
               std::invalid_argument);
}

TEST(ExponentialBounds, MultipliesFromTheStart) {
  EXPECT_EQ(exponential_bounds(1, 2, 4), (std::vector<double>{1, 2, 4, 8}));
  EXPECT_THROW(exponential_bounds(0, 2, 4), std::invalid_argument);
  EXPECT_THROW(exponential_bounds(1, 1, 4), std::invalid_argument);
  // Usable as duration bounds: 100us doubling lands on whole nanoseconds.
  Registry r;
  EXPECT_NO_THROW(r.duration_histogram("l_seconds", "h", exponential_bounds(0.0001, 2, 16)));
}

TEST(ConcurrentRegistry, ThreadsRegisterAndLookUpTheSameSeries) {
  Registry r;
  constexpr int kThreads = 4;
  constexpr int kPartitions = 50;
  std::vector<std::vector<Counter*>> seen(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int p = 0; p < kPartitions; ++p) {
        auto& f = r.counter("proposals_total", "h", {"partition"});
        Counter& c = f.with({std::to_string(p)});
        c.add();
        seen[t].push_back(&c);
        r.snapshot();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int t = 1; t < kThreads; ++t) EXPECT_EQ(seen[t], seen[0]);
  const auto samples = r.snapshot().at(0).samples;
  ASSERT_EQ(samples.size(), static_cast<std::size_t>(kPartitions));
  for (const Sample& s : samples) EXPECT_EQ(s.counter, static_cast<std::uint64_t>(kThreads));
}

}  // namespace
}  // namespace synod::metrics
