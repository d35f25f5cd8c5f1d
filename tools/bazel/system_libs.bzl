"""System libraries from Debian 12 packages, as Bazel repositories.

The single place that names system paths. Packages are installed by ./bazelw.
Each repository is declared only if the workspace has not declared one of that name already
(see repositories.bzl): a consumer can bring its own @boringssl, @asio, @libuv...
"""

# BoringSSL with upstream BoringSSL's target names (:ssl, :crypto), so that a BoringSSL built
# from source can take its place; :boringssl is both, for this project's tests and tools.
_BORINGSSL = """
cc_library(
    name = "crypto",
    hdrs = glob(["include/android/openssl/*.h"]),
    includes = ["include/android"],
    linkopts = [
        "-L/usr/lib/x86_64-linux-gnu/android",
        "-lcrypto",
        "-Wl,-rpath,/usr/lib/x86_64-linux-gnu/android",
    ],
    visibility = ["//visibility:public"],
)
cc_library(
    name = "ssl",
    linkopts = [
        "-L/usr/lib/x86_64-linux-gnu/android",
        "-lssl",
        "-lcrypto",
        "-Wl,-rpath,/usr/lib/x86_64-linux-gnu/android",
    ],
    deps = [":crypto"],
    visibility = ["//visibility:public"],
)
alias(
    name = "boringssl",
    actual = ":ssl",
    visibility = ["//visibility:public"],
)
"""

_GTEST = """
cc_library(
    name = "gtest",
    linkopts = ["-lgmock", "-lgtest", "-lpthread"],
    visibility = ["//visibility:public"],
)
cc_library(
    name = "gtest_main",
    linkopts = ["-lgmock", "-lgtest_main", "-lgtest", "-lpthread"],
    visibility = ["//visibility:public"],
)
"""

_BENCHMARK = """
cc_library(
    name = "benchmark",
    linkopts = ["-lbenchmark", "-lpthread"],
    visibility = ["//visibility:public"],
)
"""

_ASIO = """
cc_library(
    name = "asio",
    defines = ["ASIO_STANDALONE", "ASIO_NO_DEPRECATED"],
    linkopts = ["-lpthread"],
    visibility = ["//visibility:public"],
)
"""

_LIBUV = """
cc_library(
    name = "libuv",
    linkopts = ["-luv"],
    visibility = ["//visibility:public"],
)
"""

# Header-only; used by examples/ only (the core has no such dependency).
_CLI11 = """
cc_library(
    name = "cli11",
    visibility = ["//visibility:public"],
)
"""

_NLOHMANN_JSON = """
cc_library(
    name = "nlohmann_json",
    visibility = ["//visibility:public"],
)
"""

# Certificate compression (RFC 8879) in the core: brotli's and zlib's usual target names.
_BROTLI = """
cc_library(
    name = "brotlienc",
    linkopts = ["-lbrotlienc", "-lbrotlicommon"],
    visibility = ["//visibility:public"],
)
cc_library(
    name = "brotlidec",
    linkopts = ["-lbrotlidec", "-lbrotlicommon"],
    visibility = ["//visibility:public"],
)
"""

_ZLIB = """
cc_library(
    name = "zlib",
    linkopts = ["-lz"],
    visibility = ["//visibility:public"],
)
"""

# The Redis client of store/redis (optional; the core and transports never use it).
_HIREDIS = """
cc_library(
    name = "hiredis",
    linkopts = ["-lhiredis"],
    visibility = ["//visibility:public"],
)
"""

def _maybe_new_local(name, path, build_file_content):
    if not native.existing_rule(name):
        native.new_local_repository(name = name, path = path, build_file_content = build_file_content)

def system_libs():
    _maybe_new_local("boringssl", "/usr", _BORINGSSL)

    # Headers of these live in /usr/include, which the compiler searches by default.
    _maybe_new_local("googletest", "/usr/include/gtest", _GTEST)
    _maybe_new_local("benchmark", "/usr/include/benchmark", _BENCHMARK)
    _maybe_new_local("asio", "/usr/include/asio", _ASIO)
    _maybe_new_local("libuv", "/usr/include/uv", _LIBUV)
    _maybe_new_local("cli11", "/usr/include/CLI", _CLI11)
    _maybe_new_local("nlohmann_json", "/usr/include/nlohmann", _NLOHMANN_JSON)
    _maybe_new_local("brotli", "/usr/include/brotli", _BROTLI)
    _maybe_new_local("zlib", "/usr/include", _ZLIB)
    _maybe_new_local("hiredis", "/usr/include/hiredis", _HIREDIS)
