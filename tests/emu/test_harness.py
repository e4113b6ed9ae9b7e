"""The run judge (harness.judge) on made-up serial logs: a guest's results must all reach
the log, as many as its plan announces."""
import os
import sys
import types
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def run(lines):
    return types.SimpleNamespace(name="t", lines=lines, exit_status=None, timed_out=False,
                                 elapsed=1.0)


def verdicts(lines):
    return {name: st for name, st, _diag in harness.judge(run(lines), expect_exit=False)}


class Plan(unittest.TestCase):
    def test_complete(self):
        v = verdicts(["[g] ok 1 - cpu: a", "[g] ok 2 - cpu: b # SKIP why", "[g] 1..2",
                      "moat: 1 passed, 0 failed, 1 skipped"])
        self.assertEqual(v["t: run: [g] results-complete"], "ok")
        self.assertEqual(v["t: run: summary-matches-tap"], "ok")

    def test_refused_skip_missing(self):
        # the guest reported a skip whose reason held a second '#': moat refused it, so the
        # log has one result fewer than the plan announces
        v = verdicts(["[g] ok 1 - cpu: a", "[g] # reporting 'cpu: b # SKIP x # y' failed: -22",
                      "[g] 1..2", "moat: 1 passed, 0 failed, 0 skipped"])
        self.assertEqual(v["t: run: [g] results-complete"], "fail")
        self.assertEqual(v["t: run: summary-matches-tap"], "ok")  # the summary alone misses it

    def test_results_after_plan_not_counted(self):
        v = verdicts(["[a] ok 1 - cpu: a", "[b] ok 1 - cpu: a", "[a] 1..1",
                      "[a] not ok 2 - attack: ram-edge-stopped",
                      "moat: 2 passed, 1 failed, 0 skipped"])
        self.assertEqual(v["t: run: [a] results-complete"], "ok")
        self.assertEqual(v["t: [a] attack: ram-edge-stopped"], "fail")
        self.assertNotIn("t: run: [b] results-complete", v)


if __name__ == "__main__":
    unittest.main(verbosity=2)
