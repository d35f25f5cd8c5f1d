"""sansio_tls_dependencies(): the external repositories @sansio_tls builds with.

In a consumer's WORKSPACE:

    local_repository(name = "sansio_tls", path = "...")   # or http_archive, git_repository
    load("@sansio_tls//tools/bazel:repositories.bzl", "sansio_tls_dependencies")
    sansio_tls_dependencies()

Declares only the repositories the workspace has not declared before the call, so a consumer
brings its own by declaring it first:
- @boringssl with targets :ssl and :crypto (upstream BoringSSL's names; the default is
  Debian's android-libboringssl-dev, see system_libs.bzl);
- @asio (:asio, standalone Asio), @libuv (:libuv), @brotli (:brotlienc, :brotlidec) and @zlib
  (:zlib) for the core's certificate compression;
- @googletest, @benchmark (only this project's own tests and benchmarks use them);
- @rules_cc, @rules_java, @remote_coverage_tools: offline stand-ins for Bazel 4.2.3 (README.md
  in this folder); a workspace with network access may declare the real ones instead.
Nothing is fetched until a target needs it.
"""

load("//tools/bazel:system_libs.bzl", "system_libs")

def _local_folder_impl(rctx):
    # The folder is named relative to this file's repository, whatever name the consumer gave it.
    folder = rctx.path(rctx.attr._anchor).dirname.get_child(rctx.attr.folder)
    for child in folder.readdir():
        rctx.symlink(child, child.basename)

# A repository whose files are those of a folder next to this file (a local_repository whose
# path is relative to @sansio_tls instead of to the consumer's workspace).
_local_folder = repository_rule(
    implementation = _local_folder_impl,
    attrs = {
        "folder": attr.string(mandatory = True),
        "_anchor": attr.label(default = Label("//tools/bazel:repositories.bzl")),
    },
    local = True,
)

def sansio_tls_dependencies():
    for name in ["rules_cc", "rules_java", "remote_coverage_tools"]:
        if not native.existing_rule(name):
            _local_folder(name = name, folder = name)
    system_libs()
