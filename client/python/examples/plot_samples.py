"""Plots samples of the federated posterior with matplotlib (an example; the
package itself needs neither numpy nor matplotlib).

    python3 examples/plot_samples.py --server=localhost:50051 --ca=ca.pem \
        --token_file=sampler.token --num_samples=2000 --output=samples.png

A 2-D hypergrid's samples become a heatmap of visit frequencies; any other
environment a bar chart of the most frequent objects. Needs Debian's
python3-numpy and python3-matplotlib.
"""

import argparse
import collections

import matplotlib

matplotlib.use("Agg")  # files, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from epgfn_sampler import SamplerClient  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", default="localhost:50051")
    parser.add_argument("--ca")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--token_file")
    parser.add_argument("--insecure", action="store_true")
    parser.add_argument("--num_samples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", default="samples.png")
    args = parser.parse_args()
    with SamplerClient.connect(args.server, ca_file=args.ca,
                               cert_file=args.cert, key_file=args.key,
                               token_file=args.token_file,
                               insecure=args.insecure) as sampler:
        result = sampler.sample(args.num_samples, seed=args.seed)
    arrays = result.to_numpy()
    states = arrays["states"]
    fig, ax = plt.subplots(figsize=(7, 5))
    if states.shape[1] == 2 and all(
            o.description.startswith("(") for o in result.objects[:1]):
        side = int(states.max()) + 1
        counts = np.zeros((side, side))
        np.add.at(counts, (states[:, 1], states[:, 0]), 1)
        image = ax.imshow(counts / len(states), origin="lower")
        fig.colorbar(image, ax=ax, label="sample frequency")
        ax.set_xlabel("x (grid coordinate)")
        ax.set_ylabel("y (grid coordinate)")
    else:
        top = collections.Counter(
            o.description for o in result.objects).most_common(10)
        ax.bar(range(len(top)), [n / len(states) for _, n in top],
               label=f"{len(states)} samples")
        ax.set_xticks(range(len(top)), [d for d, _ in top], rotation=40,
                      ha="right", fontsize=8)
        ax.set_xlabel("object")
        ax.set_ylabel("sample frequency")
        ax.legend()
    ax.set_title(f"Samples of global model v{result.model_version}")
    fig.tight_layout()
    fig.savefig(args.output, dpi=120)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
