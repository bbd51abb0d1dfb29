"""Repository rule: Debian's rules_cc 0.0.4, patched to load under Bazel 4.2 (TOOLCHAIN.md §6.1)."""

_PATCHED = [
    "cc/private/rules_impl/compiler_flag.bzl",
    "cc/private/rules_impl/cc_flags_supplier.bzl",
]

def _debian_rules_cc_impl(rctx):
    src = rctx.path(rctx.attr.path)
    res = rctx.execute(["cp", "-r", str(src) + "/.", "."])
    if res.return_code != 0:
        fail("copying %s failed: %s" % (src, res.stderr))
    for f in _PATCHED:
        rctx.delete(f)
        content = rctx.read(str(src) + "/" + f)
        content = content.replace(', "use_cpp_toolchain")', ")")
        content = content.replace("use_cpp_toolchain()", '["@bazel_tools//tools/cpp:toolchain_type"]')
        rctx.file(f, content, executable = False)

debian_rules_cc = repository_rule(
    implementation = _debian_rules_cc_impl,
    local = True,
    attrs = {"path": attr.string(default = "/usr/share/bazel/rules/cc")},
)
