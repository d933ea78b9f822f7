#!/usr/bin/python3
"""The fault harness's checkers on small made-up histories: each must pass a correct one
and catch the violation planted in another. Also synod-lincheck's unknown verdict.

    tests/faults/checkers_test.py path/to/synod-lincheck
"""
import os
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import checkers  # noqa: E402

LINCHECK = None


def op(client, f, key, invoked, completed, outcome="ok", **fields):
    return dict(client=client, node=1, f=f, key=key, invoked=invoked, completed=completed,
                outcome=outcome, **fields)


class Register(unittest.TestCase):
    def check(self, ops, max_steps=100_000, escalation=100):
        with tempfile.TemporaryDirectory() as d:
            return checkers.check_register(ops, LINCHECK, os.path.join(d, "in.tsv"), max_steps,
                                           escalation)

    def test_sequential_history_is_linearizable(self):
        ops = [op(0, "write", "k", 0, 10, value="a", swapped=True),
               op(1, "read", "k", 20, 30, value="a"),
               op(0, "cas", "k", 40, 50, value="b", expected="a", swapped=True),
               op(1, "cas", "k", 60, 70, value="c", expected="a", swapped=False),
               op(1, "read", "k", 80, 90, value="b")]
        self.assertIs(self.check(ops)["valid"], True)

    def test_stale_read_is_caught(self):
        ops = [op(0, "write", "k", 0, 10, value="a", swapped=True),
               op(0, "write", "k", 20, 30, value="b", swapped=True),
               op(1, "read", "k", 40, 50, value="a")]
        result = self.check(ops)
        self.assertIs(result["valid"], False)
        self.assertTrue(any("get" in line for line in result["offending"]))

    def test_indeterminate_write_may_take_effect_later(self):
        ops = [op(0, "write", "k", 0, 10, value="a", swapped=True),
               op(1, "write", "k", 20, 30, outcome="info", value="b"),
               op(2, "read", "k", 40, 50, value="a"),
               op(2, "read", "k", 60, 70, value="b")]
        self.assertIs(self.check(ops)["valid"], True)

    def test_lost_acknowledged_write_is_caught(self):
        ops = [op(0, "write", "k", 0, 10, value="a", swapped=True),
               op(1, "read", "k", 40, 50, value=None)]
        self.assertIs(self.check(ops)["valid"], False)

    @staticmethod
    def costly(key):
        # Many concurrent indeterminate writes: more orders than a budget of 3 steps.
        ops = [op(c, "write", key, 0, 100, outcome="info", value=str(c)) for c in range(8)]
        return ops + [op(9, "read", key, 200, 210, value="3")]

    def test_search_out_of_budget_is_unknown_not_ok(self):
        self.assertEqual(self.check(self.costly("k"), max_steps=3, escalation=1)["valid"], "unknown")
        self.assertEqual(self.check(self.costly("k"), max_steps=3, escalation=2)["valid"], "unknown")

    def test_key_out_of_budget_is_searched_again_with_more(self):
        ops = self.costly("k") + [op(0, "write", "j", 0, 10, value="a", swapped=True),
                                  op(1, "read", "j", 20, 30, value="a")]
        result = self.check(ops, max_steps=3, escalation=100_000)
        self.assertIs(result["valid"], True, result)
        self.assertIn("decided with 100000x the budget: k", result["detail"])
        # A violation on a key that needed more budget is still caught.
        ops[-1] = op(1, "read", "k", 300, 310, value="none of them")
        self.assertIs(self.check(ops, max_steps=3, escalation=100_000)["valid"], False)


class Append(unittest.TestCase):
    def verdicts(self, ops, final_lists, final_reads):
        return {v["checker"]: v["valid"] for v in checkers.check_append(ops, final_lists, final_reads)}

    def good(self):
        ops = [op(0, "append", "l", 0, 10, value="a", position=0),
               op(1, "append", "l", 5, 15, value="b", position=1),
               op(0, "read", "l", 20, 30, value=["a", "b"]),
               op(1, "append", "l", 40, 50, outcome="info", value="c")]
        return ops, {1: {"l": ["a", "b", "c"]}, 2: {"l": ["a", "b", "c"]}}, {"l": ["a", "b", "c"]}

    def test_correct_history_passes_every_check(self):
        self.assertEqual(set(self.verdicts(*self.good()).values()), {True})

    def test_replicas_that_differ_break_agreement(self):
        ops, lists, reads = self.good()
        lists[2]["l"] = ["a", "b", "x"]
        self.assertIs(self.verdicts(ops, lists, reads)["agreement"], False)

    def test_lost_append_breaks_durability(self):
        ops, lists, reads = self.good()
        for n in lists:
            lists[n]["l"] = ["a", "c"]
        reads = {"l": ["a", "c"]}
        v = self.verdicts(ops, lists, reads)
        self.assertIs(v["durability"], False)
        self.assertIs(v["no-holes"], False)  # the read of [a, b] is no prefix of [a, c]

    def test_value_twice_breaks_uniqueness(self):
        ops, lists, reads = self.good()
        for n in lists:
            lists[n]["l"] = ["a", "b", "c", "a"]
        self.assertIs(self.verdicts(ops, lists, {"l": lists[1]["l"]})["uniqueness"], False)

    def test_value_nobody_appended_is_a_hole(self):
        ops, lists, reads = self.good()
        for n in lists:
            lists[n]["l"] = ["a", "b", "c", "ghost"]
        self.assertIs(self.verdicts(ops, lists, {"l": lists[1]["l"]})["no-holes"], False)

    def test_read_going_back_breaks_monotonic_reads(self):
        ops, lists, reads = self.good()
        ops.append(op(2, "read", "l", 35, 38, value=["a"]))
        self.assertIs(self.verdicts(ops, lists, reads)["monotonic-reads"], False)


if __name__ == "__main__":
    LINCHECK = sys.argv.pop(1)
    unittest.main()
