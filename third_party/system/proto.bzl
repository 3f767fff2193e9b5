"""C++ code generation from .proto files with the system protoc.

proto_library/cc_proto_library need @com_google_protobuf, which cannot be
fetched in this offline build, so this macro runs the Debian `protoc` (and
`grpc_cpp_plugin`) in a genrule instead.

Imports are resolved from the workspace root (`--proto_path=.`), so a .proto
imports another as `import "proto/model.proto";` and the generated headers are
included as "proto/model.pb.h".

    load("//third_party/system:proto.bzl", "epgfn_cc_proto")

    epgfn_cc_proto(
        name = "model_cc_proto",
        srcs = ["model.proto"],
    )

    epgfn_cc_proto(
        name = "federation_cc_grpc",
        srcs = ["federation.proto"],
        grpc = True,
        deps = [":model_cc_proto"],
    )

Each call creates:
  <name>       cc_library with the generated code (link against it);
  <name>_srcs  filegroup of this target's .proto files and, transitively, those
               of its deps, so that a dependent's protoc run can read them;
  <name>_gen   the genrule that runs protoc.
"""

def _srcs_label(dep):
    """The `<name>_srcs` filegroup created by the epgfn_cc_proto call `dep`."""
    if ":" in dep:
        return dep + "_srcs"

    # "//proto" is shorthand for "//proto:proto".
    return "%s:%s_srcs" % (dep, dep.rsplit("/", 1)[-1])

def epgfn_cc_proto(name, srcs, deps = [], grpc = False, visibility = None):
    """C++ (and optionally gRPC) code for `srcs`, as a cc_library `name`.

    Args:
      name: name of the cc_library; by convention `<stem>_cc_proto`, or
        `<stem>_cc_grpc` when grpc = True.
      srcs: .proto files of this package.
      deps: other epgfn_cc_proto targets whose .proto files `srcs` import.
      grpc: also generate gRPC service stubs (.grpc.pb.h/.grpc.pb.cc).
      visibility: visibility of the cc_library and of the `_srcs` filegroup.
    """
    for src in srcs:
        if not src.endswith(".proto"):
            fail("epgfn_cc_proto: %s is not a .proto file" % src)
    stems = [src[:-len(".proto")] for src in srcs]

    hdrs = [stem + ".pb.h" for stem in stems]
    cc_srcs = [stem + ".pb.cc" for stem in stems]
    if grpc:
        hdrs += [stem + ".grpc.pb.h" for stem in stems]
        cc_srcs += [stem + ".grpc.pb.cc" for stem in stems]

    dep_srcs = [_srcs_label(dep) for dep in deps]

    native.filegroup(
        name = name + "_srcs",
        srcs = srcs + dep_srcs,
        visibility = visibility,
    )

    flags = ["--proto_path=.", "--cpp_out=$(GENDIR)"]
    find_plugin = []
    if grpc:
        flags += [
            "--grpc_out=$(GENDIR)",
            "--plugin=protoc-gen-grpc=\"$${plugin}\"",
        ]
        find_plugin = [
            "plugin=$$(which grpc_cpp_plugin) || " +
            "{ echo 'grpc_cpp_plugin not found on PATH (Debian package " +
            "protobuf-compiler-grpc)' >&2; exit 1; };",
        ]

    native.genrule(
        name = name + "_gen",
        # The imported .proto files only need to be present in the execroot;
        # protoc is given this target's own files.
        srcs = srcs + dep_srcs,
        outs = hdrs + cc_srcs,
        cmd = " ".join(
            find_plugin + ["protoc"] + flags +
            ["$(location %s)" % src for src in srcs],
        ),
        message = "Generating C++ code from " + ", ".join(srcs),
        visibility = ["//visibility:private"],
    )

    cc_deps = ["//third_party/system:protobuf"]
    if grpc:
        cc_deps.append("//third_party/system:grpc")

    native.cc_library(
        name = name,
        srcs = cc_srcs,
        hdrs = hdrs,
        deps = cc_deps + deps,
        visibility = visibility,
    )
