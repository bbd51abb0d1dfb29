"""rnnprune_fuzzer: a libFuzzer binary, built only with --config=fuzz (clang; see .bazelrc)."""

load("@rules_cc//cc:defs.bzl", "cc_binary")

def rnnprune_fuzzer(name, srcs, deps, **kwargs):
    """A libFuzzer target `name` with its seed corpus in corpus/`name`/.

    Tagged "manual" and "fuzz": wildcards (`bazel test //...`, built with gcc) skip it, and
    tools/fuzz.sh finds every fuzzer with `bazel query 'attr(tags, "\\bfuzz\\b", //fuzz:*)'`.
    The sources are compiled with --config=fuzz's -fsanitize=fuzzer-no-link,...; linking with
    -fsanitize=fuzzer adds libFuzzer's main().
    """
    cc_binary(
        name = name,
        srcs = srcs,
        deps = deps,
        linkopts = ["-fsanitize=fuzzer"],
        tags = ["manual", "fuzz"],
        **kwargs
    )
