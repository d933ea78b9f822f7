package io.synod;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;

/**
 * One reading of a node's metrics (README.md, "Metrics"), from {@link RaftNode#metrics()}:
 * every metric family by name, each with its samples. A counter's or gauge's sample has a
 * {@link Sample#value() value}; a histogram's has cumulative {@link Sample#buckets()
 * buckets} (one per {@link Family#bounds() bound}), a {@link Sample#count() count} and a
 * {@link Sample#sum() sum}. Labelled families have a sample per label set (for example
 * {@code partition}, {@code peer}); {@link #value(String, String...)} and {@link
 * #sample(String, String...)} find one by its labels:
 *
 * <pre>{@code
 * Metrics m = node.metrics();
 * double term = m.value("synod_partition_term", "partition", "1");
 * long commits = m.sample("synod_proposal_commit_latency_seconds").count();
 * }</pre>
 *
 * <p>The same metrics as Prometheus text: {@link RaftNode#metricsText()}.
 */
public final class Metrics {
  /** A family's kind. */
  public enum Type {
    COUNTER,
    GAUGE,
    HISTOGRAM
  }

  /**
   * One sample. Counters and gauges: {@code value}; histograms: {@code buckets} (cumulative
   * count of observations at or below each bound of the family), {@code count} and {@code
   * sum}, with {@code value} equal to {@code count}.
   */
  public record Sample(Map<String, String> labels, double value, List<Long> buckets, long count,
                       double sum) {}

  /**
   * A metric family: its name, help text, type, unit ("", "seconds" or "bytes"), label
   * names, the finite upper bounds of a histogram's buckets (empty otherwise) and its
   * samples, ordered by label values.
   */
  public record Family(String name, String help, Type type, String unit, List<String> labels,
                       List<Double> bounds, List<Sample> samples) {}

  private final long node;
  private final Map<String, Family> families;

  private Metrics(long node, Map<String, Family> families) {
    this.node = node;
    this.families = Collections.unmodifiableMap(families);
  }

  /** The node these metrics are of. */
  public long node() {
    return node;
  }

  /** Every family by name, in name order. */
  public Map<String, Family> families() {
    return families;
  }

  /**
   * The family {@code name}.
   *
   * @throws NoSuchElementException there is none
   */
  public Family family(String name) {
    Family family = families.get(name);
    if (family == null) {
      throw new NoSuchElementException("no metric family " + name);
    }
    return family;
  }

  /**
   * The sample of family {@code name} with the labels given as name, value pairs (all of
   * the family's labels; none for an unlabelled family).
   *
   * @throws NoSuchElementException no such family or sample
   * @throws IllegalArgumentException an odd number of label arguments
   */
  public Sample sample(String name, String... labels) {
    if (labels.length % 2 != 0) {
      throw new IllegalArgumentException("labels come as name, value pairs");
    }
    Map<String, String> wanted = new LinkedHashMap<>();
    for (int i = 0; i < labels.length; i += 2) {
      wanted.put(labels[i], labels[i + 1]);
    }
    return find(name, wanted).orElseThrow(
        () -> new NoSuchElementException("no sample of " + name + " with labels " + wanted));
  }

  /** The value of a counter or gauge sample (see {@link #sample(String, String...)}). */
  public double value(String name, String... labels) {
    return sample(name, labels).value();
  }

  private Optional<Sample> find(String name, Map<String, String> labels) {
    return family(name).samples().stream().filter(s -> s.labels().equals(labels)).findFirst();
  }

  @SuppressWarnings("unchecked")
  private static <T> T as(Object value) {
    return (T) value;
  }

  private static double number(Object value) {
    if (value instanceof Long l) {
      // Counters are unsigned 64-bit integers.
      return l >= 0 ? l : Double.parseDouble(Long.toUnsignedString(l));
    }
    return ((Number) value).doubleValue();
  }

  /** Reads synod_node_metrics_json. */
  static Metrics parse(String json) {
    Map<String, Object> root = as(JsonReader.parse(json));
    long node = ((Number) root.get("node")).longValue();
    Map<String, Family> families = new LinkedHashMap<>();
    for (Object f : JsonReader.list(root.get("families"))) {
      Map<String, Object> family = as(f);
      Type type = Type.valueOf(((String) family.get("type")).toUpperCase(java.util.Locale.ROOT));
      List<String> labels = new ArrayList<>();
      for (Object l : JsonReader.list(family.get("labels"))) {
        labels.add((String) l);
      }
      List<Double> bounds = new ArrayList<>();
      for (Object b : JsonReader.list(family.get("bounds"))) {
        bounds.add(number(b));
      }
      List<Sample> samples = new ArrayList<>();
      for (Object s : JsonReader.list(family.get("samples"))) {
        Map<String, Object> sample = as(s);
        Map<String, String> sampleLabels = new LinkedHashMap<>();
        Map<String, Object> given = as(sample.getOrDefault("labels", Map.of()));
        for (Map.Entry<String, Object> e : given.entrySet()) {
          sampleLabels.put(e.getKey(), (String) e.getValue());
        }
        if (type == Type.HISTOGRAM) {
          List<Long> buckets = new ArrayList<>();
          for (Object b : JsonReader.list(sample.get("buckets"))) {
            buckets.add(((Number) b).longValue());
          }
          long count = ((Number) sample.get("count")).longValue();
          samples.add(new Sample(Collections.unmodifiableMap(sampleLabels), count,
                                 Collections.unmodifiableList(buckets), count,
                                 number(sample.get("sum"))));
        } else {
          double value = number(sample.get("value"));
          samples.add(new Sample(Collections.unmodifiableMap(sampleLabels), value, List.of(),
                                 0, 0));
        }
      }
      String name = (String) family.get("name");
      families.put(name, new Family(name, (String) family.getOrDefault("help", ""), type,
                                    (String) family.getOrDefault("unit", ""),
                                    Collections.unmodifiableList(labels),
                                    Collections.unmodifiableList(bounds),
                                    Collections.unmodifiableList(samples)));
    }
    return new Metrics(node, families);
  }
}
