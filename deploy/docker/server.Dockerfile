# The federation server. Build from the repository root:
#   docker build -f deploy/docker/server.Dockerfile -t epgfn-server .
# Run with the server folder of a kit from deploy/provision.sh:
#   docker run -d -p 50051:50051 -v "$PWD/kit/server:/etc/epgfn/kit:ro" \
#     -v epgfn-state:/var/lib/epgfn -e EPGFN_SERVER_NAME=fed.example.org \
#     epgfn-server
# (EPGFN_SERVER_NAME: a DNS name of the server certificate, which the health
# check verifies while it connects to 127.0.0.1.) See deploy/README.md.

# ---- builder: the same setup script and Bazel build as on a workstation.
FROM debian:12 AS builder
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src
COPY deploy/setup.sh deploy/setup.sh
RUN bash deploy/setup.sh && apt-get install -y -qq --no-install-recommends \
      ca-certificates && rm -rf /var/lib/apt/lists/*
COPY . .
RUN bazel build -c opt --jobs=4 //server:epgfn_server \
      //client:epgfn_health_probe && \
    mkdir -p /out/bin && \
    cp bazel-bin/server/epgfn_server bazel-bin/client/epgfn_health_probe \
      /out/bin/ && \
    bash deploy/docker/runtime_packages.sh /out/bin/epgfn_server \
      /out/bin/epgfn_health_probe >/out/runtime-packages.txt && \
    bazel shutdown

# ---- runtime: the shared libraries the binaries load, no compiler.
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
COPY --from=builder /out/bin/epgfn_server /out/bin/epgfn_health_probe \
     /usr/local/bin/
USER 10001:10001
VOLUME ["/var/lib/epgfn"]
EXPOSE 50051 9464
ENV EPGFN_SERVER_NAME=localhost
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD /usr/local/bin/epgfn_health_probe --server=127.0.0.1:50051 \
      --tls_server_name="${EPGFN_SERVER_NAME}" \
      --tls_ca=/etc/epgfn/kit/ca.pem --tls_cert=/etc/epgfn/kit/server.pem \
      --tls_key=/etc/epgfn/kit/server.key --timeout_seconds=5
ENTRYPOINT ["/usr/local/bin/epgfn_server"]
CMD ["--listen=0.0.0.0:50051", "--state_dir=/var/lib/epgfn", \
     "--config=/etc/epgfn/kit/federation.textproto", \
     "--tls_cert=/etc/epgfn/kit/server.pem", \
     "--tls_key=/etc/epgfn/kit/server.key", \
     "--tls_client_ca=/etc/epgfn/kit/ca.pem", \
     "--sampler_tokens_file=/etc/epgfn/kit/sampler_tokens.txt", \
     "--metrics_listen=0.0.0.0:9464"]
