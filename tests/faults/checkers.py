"""Checkers of a recorded history. Each returns a verdict:
  {"checker": name, "valid": True | False | "unknown", "detail": text,
   "offending": [operations or descriptions]}
"unknown" is never a pass: the run fails on it as on False.
"""
import bisect
import subprocess

MAX_SHOWN = 12


def verdict(name, problems, detail_ok, unknown=False):
    if problems:
        return {"checker": name, "valid": False, "detail": f"{len(problems)} violation(s)",
                "offending": problems[:MAX_SHOWN]}
    return {"checker": name, "valid": "unknown" if unknown else True, "detail": detail_ok,
            "offending": []}


# -- register: per-key linearizability by synod-lincheck (the simulator's checker) -------

def _hex(value):
    return "-" if value is None else value.encode().hex()


def lincheck_input(ops):
    """The operations synod-lincheck must see: every ok and info write and CAS, every ok
    read. Failed operations had no effect; failed reads say nothing."""
    lines = []
    for op in ops:
        if op["outcome"] == "fail" or (op["f"] == "read" and op["outcome"] != "ok"):
            continue
        answered = str(op["completed"]) if op["outcome"] == "ok" else "-"
        if op["f"] == "read":
            fields = ["get", _hex(op["key"]), "-", "-", _hex(op["value"]), "0"]
        elif op["f"] == "write":
            fields = ["put", _hex(op["key"]), "-", _hex(op["value"]), "-", "0"]
        else:
            swapped = "1" if op.get("swapped") else "0"
            fields = ["cas", _hex(op["key"]), _hex(op["expected"]), _hex(op["value"]), "-", swapped]
        lines.append("\t".join([str(op["client"])] + fields + [str(op["invoked"]), answered]))
    return "\n".join(lines) + "\n"


def _lincheck(lincheck, ops, max_steps):
    """synod-lincheck's exit status and its output after the verdict line."""
    r = subprocess.run([lincheck, "--max-steps", str(max_steps)], input=lincheck_input(ops),
                       capture_output=True, text=True, timeout=1800)
    first, _, rest = r.stdout.partition("\n")
    expected = {0: "linearizable", 1: "not-linearizable", 3: "unknown"}
    if expected.get(r.returncode) != first:
        return 2, f"synod-lincheck failed (exit {r.returncode}): {r.stderr.strip()}"
    return r.returncode, rest.strip()


def check_register(ops, lincheck, input_path, max_steps, escalation=100):
    """Every key linearizable. A key whose search runs out of `max_steps` is searched again
    alone with `escalation` times the budget (many indeterminate writes on one key make
    its search costly), and is unknown only if that runs out too."""
    with open(input_path, "w") as f:
        f.write(lincheck_input(ops))
    counted = sum(1 for op in ops if op["f"] in ("write", "cas"))
    summary = (f"{len(ops)} operations ({counted} writes and CAS, "
               f"{sum(1 for op in ops if op['outcome'] == 'info')} indeterminate)")
    escalated = []
    pending = ops
    while True:
        status, rest = _lincheck(lincheck, pending, max_steps)
        key = rest.split(":", 1)[0][len("key "):] if rest.startswith("key ") else None
        if status != 3 or escalation <= 1 or key is None or key in escalated:
            break
        of_key = [op for op in pending if op["key"] == key]
        status, rest = _lincheck(lincheck, of_key, max_steps * escalation)
        if status != 0:
            break
        escalated.append(key)
        pending = [op for op in pending if op["key"] != key]
    if escalated:
        summary += (f"; {len(escalated)} key(s) decided with {escalation}x the budget: "
                    + ", ".join(escalated))
    if status == 0:
        return verdict("linearizable", [], summary)
    if status == 1:
        return {"checker": "linearizable", "valid": False, "detail": "not linearizable",
                "offending": rest.split("\n")}
    detail = "the search ran out of budget: " + rest if status == 3 else rest
    return {"checker": "linearizable", "valid": "unknown", "detail": detail, "offending": []}


# -- append: the replicated lists ---------------------------------------------------------

def check_append(ops, final_lists, final_reads):
    """`final_lists`: node id -> key -> the list that node applied, read locally once the
    cluster was healed and had caught up; `final_reads`: key -> a linearizable read made
    then (no entry if it failed)."""
    appends = [op for op in ops if op["f"] == "append"]
    reads = [op for op in ops if op["f"] == "read" and op["outcome"] == "ok"]
    keys = sorted({op["key"] for op in ops} | {k for lists in final_lists.values() for k in lists})

    # Agreement: every node applied the same sequence, which the final read also shows.
    agreement = []
    reference = {}
    for key in keys:
        versions = {f"node {n}": lists.get(key, []) for n, lists in sorted(final_lists.items())}
        if final_reads.get(key) is not None:
            versions["final read"] = final_reads[key]
        reference[key] = final_reads.get(key) or max(versions.values(), key=len, default=[])
        distinct = {tuple(v) for v in versions.values()}
        if len(distinct) > 1:
            longest = max(len(v) for v in versions.values())
            at = next(i for i in range(longest)
                      if len({tuple(v[i:i + 1]) for v in versions.values()}) > 1)
            agreement.append(f"key {key}: replicas differ from position {at}: " + "; ".join(
                f"{who} has {len(v)} values, [{at}]={v[at] if at < len(v) else 'nothing'}"
                for who, v in versions.items()))

    # Durability: every acknowledged append is in the final list, where it was acknowledged.
    durability = []
    for op in appends:
        if op["outcome"] != "ok":
            continue
        final = reference[op["key"]]
        pos = op["position"]
        if pos >= len(final) or final[pos] != op["value"]:
            where = final.index(op["value"]) if op["value"] in final else None
            durability.append(dict(op, problem=f"acknowledged at position {pos}, finally "
                                   + (f"at {where}" if where is not None else "absent")))

    # Uniqueness: no value twice in a list, no position acknowledged to two values.
    uniqueness = []
    for key in keys:
        final = reference[key]
        if len(set(final)) != len(final):
            dup = sorted({v for v in final if final.count(v) > 1})
            uniqueness.append(f"key {key}: final list holds {dup[:5]} more than once")
    for op in reads:
        if len(set(op["value"])) != len(op["value"]):
            uniqueness.append(dict(op, value=f"{len(op['value'])} values", problem="duplicate values in a read"))
    by_position = {}
    for op in appends:
        if op["outcome"] == "ok":
            other = by_position.setdefault((op["key"], op["position"]), op)
            if other["value"] != op["value"]:
                uniqueness.append(f"key {op['key']} position {op['position']} acknowledged to "
                                  f"{other['value']} and {op['value']}")

    # No holes: every read is a prefix of the final list (no position ever held another
    # value, nothing missing in the middle), every value was appended by some client, and
    # a client's acknowledged appends sit in the order it made them.
    holes = []
    attempted = {(op["key"], op["value"]) for op in appends if op["outcome"] != "fail"}
    for key in keys:
        phantom = [v for v in reference[key] if (key, v) not in attempted]
        if phantom:
            holes.append(f"key {key}: values nobody appended: {phantom[:5]}")
    for op in reads:
        final = reference[op["key"]]
        if op["value"] != final[:len(op["value"])]:
            at = next((i for i, v in enumerate(op["value"]) if i >= len(final) or final[i] != v),
                      len(op["value"]))
            holes.append(dict(op, value=f"{len(op['value'])} values",
                              problem=f"not a prefix of the final list: differs at position {at}"))
    last_position = {}
    for op in sorted((op for op in appends if op["outcome"] == "ok"), key=lambda o: o["invoked"]):
        k = (op["client"], op["key"])
        if k in last_position and op["position"] <= last_position[k]:
            holes.append(dict(op, problem=f"position {op['position']} after this client's "
                                          f"earlier append at {last_position[k]}"))
        last_position[k] = max(op["position"], last_position.get(k, -1))

    # Monotonic reads: a read sees at least what any read that ended before it began saw,
    # and every append acknowledged before it began.
    monotonic = []
    for key in keys:
        seen = sorted((op["completed"], len(op["value"]), "a read of")
                      for op in reads if op["key"] == key)
        seen += sorted((op["completed"], op["position"] + 1, "an append acknowledged at")
                       for op in appends if op["key"] == key and op["outcome"] == "ok")
        seen.sort()
        times = [s[0] for s in seen]
        best = []
        for s in seen:
            best.append(max(best[-1], s[1:], key=lambda b: b[0]) if best else s[1:])
        for op in reads:
            if op["key"] != key:
                continue
            i = bisect.bisect_left(times, op["invoked"])
            if i and best[i - 1][0] > len(op["value"]):
                need, what = best[i - 1]
                monotonic.append(dict(op, value=f"{len(op['value'])} values",
                                      problem=f"after {what} {need} values had ended"))

    n_ok = sum(1 for op in appends if op["outcome"] == "ok")
    return [
        verdict("agreement", agreement, f"{len(final_lists)} replicas agree on {len(keys)} lists"),
        verdict("durability", durability, f"all {n_ok} acknowledged appends present"),
        verdict("uniqueness", uniqueness, "no value twice, no position acknowledged twice"),
        verdict("no-holes", holes, f"{len(reads)} reads are prefixes of the final lists"),
        verdict("monotonic-reads", monotonic, "no read went back"),
    ]
