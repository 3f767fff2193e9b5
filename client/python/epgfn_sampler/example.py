"""Asks an epgfn server for samples and prints them, e.g.

    python3 -m epgfn_sampler.example --server=localhost:50051 \
        --ca=ca.pem --token_file=sampler.token --num_samples=10

One line per object: the state integers, the description and log p_T(x)
(NaN unless --log_probability_samples > 0), tab-separated. Exits 1 with a
one-line message on any error.
"""

import argparse
import collections
import sys

from epgfn_sampler import SamplerClient, SamplerError


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m epgfn_sampler.example",
        description="Draw objects from an epgfn server's global model.")
    parser.add_argument("--server", required=True, help="host:port")
    parser.add_argument("--ca", help="PEM of the CA of the server certificate")
    parser.add_argument("--cert", help="client certificate (mutual TLS)")
    parser.add_argument("--key", help="client key (mutual TLS)")
    parser.add_argument("--token_file", help="file holding a sampler token")
    parser.add_argument("--server_name",
                        help="name to check the server certificate against")
    parser.add_argument("--insecure", action="store_true",
                        help="plaintext (testing only)")
    parser.add_argument("--num_samples", type=int, default=10)
    parser.add_argument("--model_version", type=int, default=0,
                        help="0: the latest")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--log_probability_samples", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        with SamplerClient.connect(
                args.server, ca_file=args.ca, cert_file=args.cert,
                key_file=args.key, token_file=args.token_file,
                server_name=args.server_name,
                insecure=args.insecure) as sampler:
            models = sampler.list_models()
            print(f"# environment {models.environment}; versions "
                  f"{[v.version for v in models.versions]}")
            result = sampler.sample(
                args.num_samples, model_version=args.model_version,
                seed=args.seed,
                log_probability_samples=args.log_probability_samples)
    except SamplerError as error:
        print(f"epgfn_sampler: {error}", file=sys.stderr)
        return 1
    for obj in result.objects:
        print("\t".join([" ".join(str(v) for v in obj.state),
                         obj.description, f"{obj.log_probability:.6g}"]))
    counts = collections.Counter(obj.description for obj in result.objects)
    print(f"# model version {result.model_version}: {len(result.objects)} "
          f"objects, {len(counts)} distinct; most frequent: "
          f"{counts.most_common(3)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
