"""A node's metrics as plain Python values, from the C ABI's structured read
(``synod_node_metrics_json``; every metric is listed in README.md, "Metrics").

``Node.metrics()`` maps each metric family's name to its value:

- a counter or gauge without labels: a number (counters are ``int``);
- a histogram without labels: a :class:`Histogram` dict, ``{"buckets": {upper bound:
  cumulative count, ..., math.inf: count}, "sum": float, "count": int}``;
- a family with labels: a dict from the sample's label value (one label) or tuple of label
  values (several, in the family's label order) to the number or histogram above. The
  ``partition`` and ``peer`` labels are ``int`` (as partition and node ids are elsewhere in
  the API); other labels are ``str``. A labelled family with no samples yet is ``{}``.

For example ``m["synod_storage_syncs_total"]``, ``m["synod_partition_term"][1]``,
``m["synod_follower_match_lag"][(1, 3)]``,
``m["synod_proposal_commit_latency_seconds"]["count"]``.
"""

from __future__ import annotations

import json
import math
from typing import Any, Dict, Tuple, TypedDict, Union

__all__ = ["Histogram", "MetricValue", "parse_metrics_json"]

# Labels whose values are node or partition ids.
_INT_LABELS = frozenset({"partition", "peer"})


class Histogram(TypedDict):
    """A histogram's state: cumulative ``buckets`` by upper bound (``math.inf`` last, equal
    to ``count``), the ``sum`` of the observations and their ``count``."""

    buckets: Dict[float, int]
    sum: float
    count: int


LabelKey = Union[int, str, Tuple[Union[int, str], ...]]
MetricValue = Union[int, float, Histogram, Dict[LabelKey, Union[int, float, Histogram]]]


def _label(name: str, value: str) -> Union[int, str]:
    if name in _INT_LABELS:
        try:
            return int(value)
        except ValueError:
            return value
    return value


def _histogram(bounds: list[float], sample: dict[str, Any]) -> Histogram:
    count = int(sample["count"])
    buckets = {float(bound): int(n) for bound, n in zip(bounds, sample["buckets"])}
    buckets[math.inf] = count
    return Histogram(buckets=buckets, sum=float(sample["sum"]), count=count)


def parse_metrics_json(text: str) -> dict[str, MetricValue]:
    """Turns ``synod_node_metrics_json`` output into the dict described in this module."""
    families = json.loads(text)["families"]
    out: dict[str, MetricValue] = {}
    for family in families:
        labels: list[str] = family.get("labels", [])
        is_histogram = family["type"] == "histogram"
        bounds: list[float] = family.get("bounds", [])

        def value(sample: dict[str, Any]) -> Union[int, float, Histogram]:
            if is_histogram:
                return _histogram(bounds, sample)
            v = sample["value"]
            return int(v) if family["type"] == "counter" else v

        samples = family.get("samples", [])
        if not labels:
            if samples:
                out[family["name"]] = value(samples[0])
            continue
        series: dict[LabelKey, Union[int, float, Histogram]] = {}
        for sample in samples:
            values = tuple(_label(name, sample["labels"].get(name, "")) for name in labels)
            series[values[0] if len(values) == 1 else values] = value(sample)
        out[family["name"]] = series
    return out
