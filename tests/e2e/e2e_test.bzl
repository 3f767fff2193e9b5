"""The end-to-end tests' rule: real server and client processes over TLS."""

# What every end-to-end test runs: the daemons, the certificates' script and
# the shell functions of e2e_lib.sh.
_COMMON_DATA = [
    ":e2e_lib",
    "//client:epgfn_client",
    "//deploy:gen_certs.sh",
    "//server:epgfn_server",
]

def e2e_test(name, srcs, data = [], tags = [], **kwargs):
    """A large sh_test with the common data, run alone (tags "exclusive").

    Each starts several processes that train with LibTorch: next to other
    tests on two cores it would be slower and its timings meaningless.

    Args:
      name: the test's name.
      srcs: its script.
      data: what it needs besides the common data.
      tags: tags besides "exclusive".
      **kwargs: passed to sh_test (args, ...).
    """
    native.sh_test(
        name = name,
        size = "large",
        srcs = srcs,
        data = _COMMON_DATA + data,
        tags = ["exclusive"] + tags,
        **kwargs
    )
