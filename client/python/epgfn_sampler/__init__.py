"""Python client for the epgfn Sampler service (proto/sampler.proto).

    from epgfn_sampler import SamplerClient

    with SamplerClient.connect("localhost:50051", ca_file="ca.pem",
                               token_file="sampler.token") as sampler:
        result = sampler.sample(100, seed=7, log_probability_samples=16)
        for obj in result.objects:
            print(obj.description, obj.log_probability)

Built on Debian's python3-grpcio and python3-protobuf; the gRPC stubs are
generated from proto/ (see client/python/README.md).
"""

from epgfn_sampler.client import (
    MarginalTable,
    ModelList,
    ModelVersion,
    SampledObject,
    SampleResult,
    SamplerAuthError,
    SamplerClient,
    SamplerConfigError,
    SamplerError,
    SamplerRequestError,
    SamplerUnavailableError,
    Summary,
    TopObject,
)

__all__ = [
    "MarginalTable",
    "ModelList",
    "ModelVersion",
    "SampledObject",
    "SampleResult",
    "SamplerAuthError",
    "SamplerClient",
    "SamplerConfigError",
    "SamplerError",
    "SamplerRequestError",
    "SamplerUnavailableError",
    "Summary",
    "TopObject",
]
