"""SamplerClient: connect over TLS (optionally mutual TLS and a bearer token),
draw samples, list the published model versions."""

import math
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import grpc

try:  # Summaries use numpy arrays when numpy is installed (python3-numpy).
    import numpy
except ImportError:  # pragma: no cover - depends on the install
    numpy = None

try:
    from epgfn_sampler.proto import sampler_pb2, sampler_pb2_grpc
except ImportError as error:  # pragma: no cover - depends on the install
    raise ImportError(
        "epgfn_sampler's gRPC stubs are missing: build them with "
        "`bazel build //client/python:sampler_stubs` or run "
        "client/python/gen_stubs.sh (needs protobuf-compiler and "
        "protobuf-compiler-grpc)") from error


class SamplerError(Exception):
    """Any failure of the sampler client. `code` is the grpc.StatusCode when
    the server (or the gRPC runtime) answered with one, else None."""

    def __init__(self, message: str, code: Optional[grpc.StatusCode] = None):
        super().__init__(message)
        self.code = code


class SamplerConfigError(SamplerError, ValueError):
    """Bad arguments or unreadable credential files; nothing was sent."""


class SamplerUnavailableError(SamplerError):
    """The server could not be reached, or the TLS handshake failed."""


class SamplerAuthError(SamplerError):
    """The server refused the caller (UNAUTHENTICATED / PERMISSION_DENIED)."""


class SamplerRequestError(SamplerError):
    """The server refused the request itself (e.g. INVALID_ARGUMENT for a
    num_samples above its cap, NOT_FOUND for a version that does not
    exist)."""


class SampledObject(NamedTuple):
    # The raw terminal state (environment-specific integers).
    state: Tuple[int, ...]
    # Human-readable form, e.g. "(3,5)" or a Newick tree.
    description: str
    # Estimate of log p_T(x) under the model; NaN unless asked for.
    log_probability: float


class SampleResult(NamedTuple):
    model_version: int
    objects: List[SampledObject]

    @property
    def log_probabilities(self) -> List[float]:
        return [obj.log_probability for obj in self.objects]

    @property
    def states(self) -> List[Tuple[int, ...]]:
        """The raw terminal states as plain tuples of ints."""
        return [obj.state for obj in self.objects]

    def to_numpy(self) -> dict:
        """{"states": int64 [n, state_dim], "log_probabilities": float64 [n]}
        as numpy arrays; needs numpy (Debian: python3-numpy)."""
        try:
            import numpy
        except ImportError as error:
            raise ImportError(
                "SampleResult.to_numpy() needs numpy (Debian: python3-numpy; "
                "pip: epgfn-sampler[numpy])") from error
        return {
            "states": numpy.array(self.states, dtype=numpy.int64).reshape(
                len(self.objects), -1),
            "log_probabilities": numpy.array(self.log_probabilities,
                                             dtype=numpy.float64),
        }


class ModelVersion(NamedTuple):
    version: int
    client_ids: Tuple[str, ...]
    published_unix_seconds: int


class ModelList(NamedTuple):
    environment: str
    versions: List[ModelVersion]


class TopObject(NamedTuple):
    state: Tuple[int, ...]
    description: str
    # Occurrences among the summarized objects, their fraction and its Monte
    # Carlo standard error.
    count: int
    frequency: float
    frequency_standard_error: float
    # Importance-sampled estimate of log p_T(x) under the model, and p_T(x).
    log_probability: float
    probability: float


class MarginalTable(NamedTuple):
    """P(feature (r, c)) for the cells of a rows x columns table, e.g.
    P(x_r = c) for a grid or P(r -> c) for a DAG. `probabilities` and
    `standard_errors` are numpy arrays of shape (rows, columns) when numpy
    is installed, else lists of rows."""
    name: str
    row_labels: Tuple[str, ...]
    column_labels: Tuple[str, ...]
    probabilities: object
    standard_errors: object

    def get(self, row: str, column: str) -> Tuple[float, float]:
        """(probability, standard error) of the cell named by its labels."""
        r = self.row_labels.index(row)
        c = self.column_labels.index(column)
        return (float(self.probabilities[r][c]),
                float(self.standard_errors[r][c]))


class Summary(NamedTuple):
    model_version: int
    num_objects: int
    num_distinct: int
    log_probability_samples: int
    top_objects: List[TopObject]
    tables: List[MarginalTable]
    # Text summaries by name, e.g. texts["majority_rule_consensus"]: a Newick
    # tree with clade support values.
    texts: Dict[str, str]

    def table(self, prefix: str) -> MarginalTable:
        """The first table whose name starts with `prefix` (e.g. "edge")."""
        for table in self.tables:
            if table.name.startswith(prefix):
                return table
        raise KeyError(f"no table named {prefix!r}...; have "
                       f"{[t.name for t in self.tables]}")


def _matrix(values, rows: int, columns: int):
    if numpy is not None:
        return numpy.array(values, dtype=float).reshape(rows, columns)
    values = list(values)
    return [values[r * columns:(r + 1) * columns] for r in range(rows)]


_AUTH_CODES = (grpc.StatusCode.UNAUTHENTICATED,
               grpc.StatusCode.PERMISSION_DENIED)


def _read_file(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as error:
        raise SamplerConfigError(
            f"cannot read {what} {path}: {error.strerror}") from error


def _translate(error: grpc.RpcError, what: str) -> SamplerError:
    code = error.code() if hasattr(error, "code") else None
    details = error.details() if hasattr(error, "details") else str(error)
    message = f"{what} failed: {code.name if code else 'ERROR'}: {details}"
    if code == grpc.StatusCode.UNAVAILABLE:
        return SamplerUnavailableError(message, code)
    if code in _AUTH_CODES:
        return SamplerAuthError(message, code)
    return SamplerRequestError(message, code)


class SamplerClient:
    """A connection to one epgfn server's Sampler service. Thread-safe (one
    gRPC channel); close it, or use it as a context manager."""

    def __init__(self, channel: grpc.Channel, token: Optional[str] = None,
                 timeout_seconds: float = 300.0):
        """Wraps an existing channel; most callers want connect()."""
        self._channel = channel
        self._stub = sampler_pb2_grpc.SamplerStub(channel)
        self._metadata: Sequence[Tuple[str, str]] = (
            (("authorization", f"Bearer {token}"),) if token else ())
        self._timeout = timeout_seconds

    @classmethod
    def connect(cls, server: str, ca_file: Optional[str] = None,
                cert_file: Optional[str] = None,
                key_file: Optional[str] = None,
                token: Optional[str] = None,
                token_file: Optional[str] = None,
                server_name: Optional[str] = None,
                insecure: bool = False,
                connect_timeout_seconds: float = 10.0,
                timeout_seconds: float = 300.0) -> "SamplerClient":
        """Opens a channel to `server` ("host:port") and waits until it is
        ready (TLS handshake done).

        ca_file: PEM of the CA that signed the server certificate (None: the
            system roots). cert_file/key_file: this caller's certificate and
            key, for servers that require mutual TLS. token/token_file: a
            sampler token, sent as `authorization: Bearer <token>` on every
            call (the file holds the token alone; surrounding whitespace is
            ignored). server_name: the name to check the server certificate
            against when it differs from the host in `server`. insecure:
            plaintext (testing only; excludes the TLS files).
        """
        if not server or ":" not in server:
            raise SamplerConfigError(
                f"server must be host:port, got {server!r}")
        if token is not None and token_file is not None:
            raise SamplerConfigError("give token or token_file, not both")
        if token_file is not None:
            token = _read_file(token_file, "token file").decode(
                "utf-8", "replace").strip()
            if not token:
                raise SamplerConfigError(f"token file {token_file} is empty")
        if (cert_file is None) != (key_file is None):
            raise SamplerConfigError(
                "mutual TLS needs both cert_file and key_file")
        options = []
        if insecure:
            if ca_file or cert_file or server_name:
                raise SamplerConfigError(
                    "insecure excludes the TLS options")
            channel = grpc.insecure_channel(server)
        else:
            credentials = grpc.ssl_channel_credentials(
                root_certificates=(_read_file(ca_file, "CA file")
                                   if ca_file else None),
                private_key=(_read_file(key_file, "key file")
                             if key_file else None),
                certificate_chain=(_read_file(cert_file, "certificate file")
                                   if cert_file else None))
            if server_name:
                options.append(("grpc.ssl_target_name_override", server_name))
            channel = grpc.secure_channel(server, credentials, options)
        try:
            grpc.channel_ready_future(channel).result(
                timeout=connect_timeout_seconds)
        except grpc.FutureTimeoutError:
            channel.close()
            raise SamplerUnavailableError(
                f"cannot connect to {server} within "
                f"{connect_timeout_seconds:g} s (server down, wrong address, "
                "or the TLS handshake failed: check the CA, the server name "
                "and, under mutual TLS, the client certificate)",
                grpc.StatusCode.UNAVAILABLE) from None
        return cls(channel, token=token, timeout_seconds=timeout_seconds)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "SamplerClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def sample(self, num_samples: int, model_version: int = 0,
               seed: Optional[int] = None,
               log_probability_samples: int = 0,
               aggregate: str = "") -> SampleResult:
        """Draws `num_samples` objects from a published global model.

        aggregate: a named aggregate of the federation config ("" or
        "default": the default product of every client).

        model_version: 0 for the latest. seed: the same seed returns the same
        objects (None: fresh randomness). log_probability_samples: backward
        trajectories per object for the log p_T estimate (0: skip it; the
        objects' log_probability is then NaN).
        """
        if not isinstance(num_samples, int) or num_samples < 1:
            raise SamplerConfigError(
                f"num_samples must be a positive int, got {num_samples!r}")
        if model_version < 0:
            raise SamplerConfigError(
                f"model_version must be >= 0, got {model_version}")
        if log_probability_samples < 0:
            raise SamplerConfigError("log_probability_samples must be >= 0")
        request = sampler_pb2.SampleRequest(
            num_samples=num_samples, model_version=model_version,
            log_probability_samples=log_probability_samples,
            aggregate=aggregate)
        if seed is not None:
            if not 0 <= seed < 2**64:
                raise SamplerConfigError("seed must lie in [0, 2^64)")
            request.use_seed = True
            request.seed = seed
        objects: List[SampledObject] = []
        version = 0
        try:
            for batch in self._stub.Sample(request, timeout=self._timeout,
                                           metadata=self._metadata):
                version = batch.model_version
                for obj in batch.objects:
                    objects.append(SampledObject(
                        tuple(obj.state), obj.description,
                        obj.log_probability
                        if log_probability_samples > 0 else math.nan))
        except grpc.RpcError as error:
            raise _translate(error, "Sample") from None
        if len(objects) != num_samples:
            raise SamplerError(
                f"Sample returned {len(objects)} objects, asked for "
                f"{num_samples}")
        return SampleResult(version, objects)

    def list_models(self, aggregate: str = "") -> ModelList:
        """The environment and every published version of the aggregate
        ("": the default one)."""
        try:
            response = self._stub.ListModels(
                sampler_pb2.ListModelsRequest(aggregate=aggregate), timeout=self._timeout,
                metadata=self._metadata)
        except grpc.RpcError as error:
            raise _translate(error, "ListModels") from None
        return ModelList(response.environment, [
            ModelVersion(v.version, tuple(v.client_ids),
                         v.published_unix_seconds)
            for v in response.versions
        ])

    def summarize(self, num_samples: int = 0, model_version: int = 0,
                  seed: Optional[int] = None,
                  log_probability_samples: int = 0, top_objects: int = 0,
                  objects: Optional[Sequence[Sequence[int]]] = None,
                  variable_names: Optional[Sequence[str]] = None,
                  aggregate: str = "") -> Summary:
        """Posterior summaries computed on the server: of `num_samples`
        objects it draws, or of `objects` (raw states, e.g. the `state` of
        SampledObjects) when given. Returns the top objects with their
        frequency and importance-sampled p_T (log_probability_samples
        backward trajectories each; 0: the server's default), the feature
        marginals with standard errors (grids: per coordinate; multisets:
        item counts; sequences: per position; DAGs: edge probabilities;
        trees: clade frequencies) and text summaries (trees: the
        majority-rule consensus in Newick). variable_names label the
        environment's variables (e.g. the DAG's nodes). aggregate: as in
        sample().
        """
        if objects is None:
            if not isinstance(num_samples, int) or num_samples < 1:
                raise SamplerConfigError(
                    "give num_samples (a positive int) or objects")
        elif num_samples:
            raise SamplerConfigError("give num_samples or objects, not both")
        if model_version < 0 or log_probability_samples < 0 or top_objects < 0:
            raise SamplerConfigError(
                "model_version, log_probability_samples and top_objects "
                "must be >= 0")
        request = sampler_pb2.SummarizeRequest(
            num_samples=num_samples, model_version=model_version,
            log_probability_samples=log_probability_samples,
            top_objects=top_objects, variable_names=list(variable_names or ()),
            aggregate=aggregate)
        for state in objects or ():
            request.objects.add(state=[int(v) for v in state])
        if seed is not None:
            if not 0 <= seed < 2**64:
                raise SamplerConfigError("seed must lie in [0, 2^64)")
            request.use_seed = True
            request.seed = seed
        try:
            response = self._stub.Summarize(request, timeout=self._timeout,
                                            metadata=self._metadata)
        except grpc.RpcError as error:
            raise _translate(error, "Summarize") from None
        tables = []
        for t in response.tables:
            rows, columns = len(t.row_labels), len(t.column_labels)
            if len(t.probabilities) != rows * columns or len(
                    t.standard_errors) != rows * columns:
                raise SamplerError(f"malformed table {t.name!r} in the "
                                   "Summarize answer")
            tables.append(MarginalTable(
                t.name, tuple(t.row_labels), tuple(t.column_labels),
                _matrix(t.probabilities, rows, columns),
                _matrix(t.standard_errors, rows, columns)))
        return Summary(
            response.model_version, response.num_objects,
            response.num_distinct, response.log_probability_samples,
            [TopObject(tuple(o.state), o.description, o.count, o.frequency,
                       o.frequency_standard_error, o.log_probability,
                       o.probability) for o in response.top_objects],
            tables, {text.name: text.text for text in response.texts})
