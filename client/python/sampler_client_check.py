"""Checks epgfn_sampler against a live server that has published a model of
the 4x4 hypergrid (run by sampler_client_test.sh):

    sampler_client_check.py SERVER CA CERT KEY TOKEN_FILE|- METRICS_ADDRESS|-
"""

import math
import os
import re
import sys
import tempfile
import unittest
import urllib.request

from epgfn_sampler import (SamplerAuthError, SamplerClient,
                           SamplerConfigError, SamplerRequestError,
                           SamplerUnavailableError)

SERVER, CA, CERT, KEY, TOKEN_FILE, METRICS = sys.argv[1:7]
TOKEN_FILE = None if TOKEN_FILE == "-" else TOKEN_FILE
METRICS = None if METRICS == "-" else METRICS
SIDE = 4


def connect(**overrides):
    arguments = dict(ca_file=CA, cert_file=CERT, key_file=KEY,
                     token_file=TOKEN_FILE)
    arguments.update(overrides)
    return SamplerClient.connect(SERVER, **arguments)


class SamplerClientTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.sampler = connect()

    @classmethod
    def tearDownClass(cls):
        cls.sampler.close()

    def test_list_models(self):
        models = self.sampler.list_models()
        self.assertIn("hypergrid", models.environment)
        self.assertEqual([v.version for v in models.versions], [1])
        self.assertEqual(models.versions[0].client_ids, ("client-0",))
        self.assertGreater(models.versions[0].published_unix_seconds, 0)

    def test_samples_are_grid_points_with_log_probabilities(self):
        result = self.sampler.sample(200, seed=11, log_probability_samples=8)
        self.assertEqual(result.model_version, 1)
        self.assertEqual(len(result.objects), 200)
        estimates = {}
        for obj in result.objects:
            self.assertEqual(len(obj.state), 2)
            for coordinate in obj.state:
                self.assertTrue(0 <= coordinate < SIDE, obj)
            self.assertEqual(obj.description,
                             "(%d,%d)" % (obj.state[0], obj.state[1]))
            self.assertTrue(math.isfinite(obj.log_probability), obj)
            self.assertLess(obj.log_probability, 0.5, obj)
            estimates[obj.state] = obj.log_probability
        # A probability estimate per distinct object: over at most 16 grid
        # points they cannot add up to much more than 1.
        self.assertLess(sum(math.exp(lp) for lp in estimates.values()), 1.5)
        self.assertEqual(result.log_probabilities,
                         [obj.log_probability for obj in result.objects])

    def test_without_log_probabilities_they_are_nan(self):
        result = self.sampler.sample(5)
        self.assertEqual(len(result.objects), 5)
        self.assertTrue(all(math.isnan(lp) for lp in result.log_probabilities))

    def test_a_seed_repeats_the_objects(self):
        first = self.sampler.sample(50, seed=3)
        second = self.sampler.sample(50, seed=3, model_version=1)
        self.assertEqual(first.objects, second.objects)

    def test_refused_requests_raise_request_errors(self):
        with self.assertRaises(SamplerRequestError) as refused:
            self.sampler.sample(1, model_version=99)
        self.assertEqual(refused.exception.code.name, "NOT_FOUND")
        with self.assertRaises(SamplerRequestError) as refused:
            self.sampler.sample(10**9)
        self.assertEqual(refused.exception.code.name, "INVALID_ARGUMENT")
        with self.assertRaises(SamplerConfigError):
            self.sampler.sample(0)

    def test_bad_configuration_is_refused_before_connecting(self):
        with self.assertRaises(SamplerConfigError):
            connect(ca_file="/nonexistent/ca.pem")
        with self.assertRaises(SamplerConfigError):
            connect(key_file=None)
        with self.assertRaises(SamplerConfigError):
            SamplerClient.connect("no-port")

    def test_a_server_nobody_listens_on_is_unavailable(self):
        with self.assertRaises(SamplerUnavailableError):
            SamplerClient.connect("127.0.0.1:1", ca_file=CA, cert_file=CERT,
                                  key_file=KEY, connect_timeout_seconds=2)

    def test_summarize_matches_the_same_seeded_samples(self):
        # Summarize draws through Sample, so the same seed gives the same
        # objects: its counts and marginals must be exactly theirs.
        samples = self.sampler.sample(400, seed=2)
        summary = self.sampler.summarize(
            400, seed=2, top_objects=3, variable_names=["row", "column"])
        self.assertEqual(summary.model_version, 1)
        self.assertEqual(summary.num_objects, 400)
        counts = {}
        for obj in samples.objects:
            counts[obj.state] = counts.get(obj.state, 0) + 1
        self.assertEqual(summary.num_distinct, len(counts))
        self.assertEqual(len(summary.top_objects), 3)
        self.assertEqual([o.count for o in summary.top_objects],
                         sorted(counts.values(), reverse=True)[:3])
        for top in summary.top_objects:
            self.assertEqual(top.count, counts[top.state])
            self.assertAlmostEqual(top.frequency, top.count / 400)
            self.assertAlmostEqual(
                top.frequency_standard_error,
                math.sqrt(top.frequency * (1 - top.frequency) / 400))
            self.assertTrue(0 < top.probability < 1, top)
            self.assertAlmostEqual(math.log(top.probability),
                                   top.log_probability)
        table = summary.table("coordinate")
        self.assertEqual(table.row_labels, ("row", "column"))
        self.assertEqual(table.column_labels, ("0", "1", "2", "3"))
        try:
            import numpy
        except ImportError:
            numpy = None
        if numpy is not None:
            self.assertIsInstance(table.probabilities, numpy.ndarray)
            self.assertEqual(table.probabilities.shape, (2, SIDE))
            self.assertEqual(table.standard_errors.shape, (2, SIDE))
        for r, name in enumerate(table.row_labels):
            for value in range(SIDE):
                expected = sum(1 for obj in samples.objects
                               if obj.state[r] == value) / 400
                p, se = table.get(name, str(value))
                self.assertAlmostEqual(p, expected)
                self.assertAlmostEqual(
                    se, math.sqrt(expected * (1 - expected) / 400))
        self.assertEqual(summary.texts, {})

        given = self.sampler.summarize(
            objects=[obj.state for obj in samples.objects], top_objects=3)
        self.assertEqual([o.state for o in given.top_objects],
                         [o.state for o in summary.top_objects])
        self.assertEqual(given.tables[0].get("x0", "1"), table.get("row", "1"))

    def test_refused_summaries_raise_request_errors(self):
        with self.assertRaises(SamplerRequestError) as refused:
            self.sampler.summarize(10, model_version=99)
        self.assertEqual(refused.exception.code.name, "NOT_FOUND")
        with self.assertRaises(SamplerRequestError) as refused:
            self.sampler.summarize(10**9)
        self.assertEqual(refused.exception.code.name, "INVALID_ARGUMENT")
        with self.assertRaises(SamplerRequestError) as refused:
            self.sampler.summarize(objects=[(0, 9)])  # off the 4x4 grid
        self.assertEqual(refused.exception.code.name, "INVALID_ARGUMENT")
        with self.assertRaises(SamplerConfigError):
            self.sampler.summarize()
        with self.assertRaises(SamplerConfigError):
            self.sampler.summarize(5, objects=[(0, 0)])

    @unittest.skipUnless(TOKEN_FILE, "the server has no sampler token auth")
    def test_a_wrong_token_is_refused(self):
        with tempfile.NamedTemporaryFile("w", delete=False) as wrong:
            wrong.write("not-the-token\n")
        try:
            with connect(token_file=wrong.name) as sampler:
                with self.assertRaises(SamplerAuthError):
                    sampler.sample(1)
                with self.assertRaises(SamplerAuthError) as refused:
                    sampler.summarize(1)
                self.assertEqual(refused.exception.code.name,
                                 "UNAUTHENTICATED")
        finally:
            os.unlink(wrong.name)

    @unittest.skipUnless(METRICS, "no metrics endpoint")
    def test_metrics_count_the_federation_and_the_sampler(self):
        self.sampler.sample(7, seed=1)
        with self.assertRaises(SamplerRequestError):
            self.sampler.sample(1, model_version=99)
        with urllib.request.urlopen(f"http://{METRICS}/metrics",
                                    timeout=10) as response:
            self.assertEqual(response.status, 200)
            self.assertIn("text/plain", response.headers["Content-Type"])
            text = response.read().decode()

        # Series by name and label set: the exposition's label order is the
        # library's (prometheus-cpp sorts them), not part of the format.
        def parse(series):
            name, _, labels = series.partition("{")
            return name, frozenset(re.findall(r'(\w+)="([^"]*)"', labels))

        samples = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                series, _, number = line.rpartition(" ")
                samples[parse(series)] = float(number)

        def value(series):
            self.assertIn(parse(series), samples,
                          f"{series} missing from:\n{text}")
            return samples[parse(series)]

        self.assertEqual(
            value('epgfn_uploads_accepted_total{client="client-0"}'), 1)
        self.assertEqual(value("epgfn_published_version"), 1)
        self.assertEqual(
            value('epgfn_aggregation_runs_total{result="published"}'), 1)
        self.assertGreaterEqual(value("epgfn_samples_served_total"), 7)
        self.assertGreaterEqual(
            value('epgfn_rpc_requests_total{service="epgfn.v1.Sampler",'
                  'method="Sample",code="OK"}'), 1)
        self.assertGreaterEqual(
            value('epgfn_rpc_requests_total{service="epgfn.v1.Sampler",'
                  'method="Sample",code="NOT_FOUND"}'), 1)
        self.assertGreaterEqual(
            value('epgfn_rpc_duration_seconds_count{'
                  'service="epgfn.v1.Sampler",method="Sample"}'), 1)
        self.assertEqual(value("epgfn_aggregation_running"), 0)
        self.assertGreater(value("epgfn_aggregation_iteration"), 0)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
