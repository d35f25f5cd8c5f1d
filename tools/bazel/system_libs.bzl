"""System libraries from Debian 12 packages, as Bazel repositories.

The single place that names system paths. Packages are installed by ./bazelw.
"""

_BORINGSSL = """
cc_library(
    name = "boringssl",
    hdrs = glob(["include/android/openssl/*.h"]),
    includes = ["include/android"],
    linkopts = [
        "-L/usr/lib/x86_64-linux-gnu/android",
        "-lssl",
        "-lcrypto",
        "-Wl,-rpath,/usr/lib/x86_64-linux-gnu/android",
    ],
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

def system_libs():
    native.new_local_repository(name = "boringssl", path = "/usr", build_file_content = _BORINGSSL)
    # Headers of these live in /usr/include, which the compiler searches by default.
    native.new_local_repository(name = "googletest", path = "/usr/include/gtest", build_file_content = _GTEST)
    native.new_local_repository(name = "benchmark", path = "/usr/include/benchmark", build_file_content = _BENCHMARK)
    native.new_local_repository(name = "asio", path = "/usr/include/asio", build_file_content = _ASIO)
    native.new_local_repository(name = "libuv", path = "/usr/include/uv", build_file_content = _LIBUV)
    native.new_local_repository(name = "cli11", path = "/usr/include/CLI", build_file_content = _CLI11)
    native.new_local_repository(name = "nlohmann_json", path = "/usr/include/nlohmann", build_file_content = _NLOHMANN_JSON)
