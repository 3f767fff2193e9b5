# The client daemon an institution runs. Build from the repository root:
#   docker build -f deploy/docker/client.Dockerfile -t epgfn-client .
# Run with the client-<id> folder of a kit from deploy/provision.sh:
#   docker run --rm -v "$PWD/kit/client-a:/etc/epgfn/kit:ro" \
#     -v epgfn-client-a:/var/lib/epgfn -e EPGFN_SERVER=fed.example.org:50051 \
#     epgfn-client --server=fed.example.org:50051 --client_id=a \
#     --reward=client:index=0,count=3
# The entry point supplies the kit's TLS files and the state directory; the
# arguments say which server, who this client is and its private reward.
# It exits 0 once it holds the global model. See deploy/README.md.

# ---- builder: the same setup script and Bazel build as on a workstation.
FROM debian:12 AS builder
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src
COPY deploy/setup.sh deploy/setup.sh
RUN bash deploy/setup.sh && apt-get install -y -qq --no-install-recommends \
      ca-certificates && rm -rf /var/lib/apt/lists/*
COPY . .
RUN bazel build -c opt --jobs=4 //client:epgfn_client \
      //client:epgfn_health_probe && \
    mkdir -p /out/bin && \
    cp bazel-bin/client/epgfn_client bazel-bin/client/epgfn_health_probe \
      /out/bin/ && \
    bash deploy/docker/runtime_packages.sh /out/bin/epgfn_client \
      /out/bin/epgfn_health_probe >/out/runtime-packages.txt && \
    bazel shutdown

# ---- runtime: the shared libraries the binaries load, no compiler. For
# --device=cuda, build on a CUDA base and LibTorch with CUDA instead.
FROM debian:12-slim
ENV DEBIAN_FRONTEND=noninteractive
COPY --from=builder /out/runtime-packages.txt /tmp/runtime-packages.txt
RUN apt-get update -qq && \
    xargs -a /tmp/runtime-packages.txt apt-get install -y -qq \
      --no-install-recommends && \
    rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt && \
    useradd --system --uid 10001 --user-group --home-dir /var/lib/epgfn \
      --shell /usr/sbin/nologin epgfn && \
    install -d -o epgfn -g epgfn -m 700 /var/lib/epgfn && \
    install -d -m 755 /etc/epgfn/kit
COPY --from=builder /out/bin/epgfn_client /out/bin/epgfn_health_probe \
     /usr/local/bin/
USER 10001:10001
VOLUME ["/var/lib/epgfn"]
# Healthy while the federation server answers its health service through
# this client's mutual TLS identity (set EPGFN_SERVER to enable the check).
ENV EPGFN_SERVER=
HEALTHCHECK --interval=60s --timeout=15s --start-period=30s --retries=3 \
  CMD [ -z "${EPGFN_SERVER}" ] || /usr/local/bin/epgfn_health_probe \
      --server="${EPGFN_SERVER}" --tls_ca=/etc/epgfn/kit/ca.pem \
      --tls_cert=/etc/epgfn/kit/client.pem \
      --tls_key=/etc/epgfn/kit/client.key --timeout_seconds=10
ENTRYPOINT ["/usr/local/bin/epgfn_client", \
            "--tls_ca=/etc/epgfn/kit/ca.pem", \
            "--tls_cert=/etc/epgfn/kit/client.pem", \
            "--tls_key=/etc/epgfn/kit/client.key", \
            "--state_dir=/var/lib/epgfn"]
