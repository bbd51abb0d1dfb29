"""Repository rule exposing the data folder (never committed) to tests as @rnnprune_data.

The folder is $RNNPRUNE_DATA when set, else ../shared/data relative to the workspace root when it
exists. Files are symlinked, not copied. When no folder is found the repository is empty and the
tests that need real data skip with a message naming both places looked at.
"""

_FILES = [
    "ptb/ptb.train.txt",
    "ptb/ptb.valid.txt",
    "ptb/ptb.test.txt",
    "squad/dev-v1.1.json",
    "glove/glove.6B.100d.first100.txt.gz",
    "glove/glove.6B.300d.first100.txt.gz",
]

def _data_repository_impl(rctx):
    root = rctx.os.environ.get("RNNPRUNE_DATA", "")
    if not root:
        root = str(rctx.path(Label("@//:WORKSPACE")).dirname.dirname) + "/shared/data"
    found = []
    for f in _FILES:
        p = rctx.path(root + "/" + f)
        if p.exists:
            rctx.symlink(p, f)
            found.append(f)
    rctx.file("WHERE", "%s\n" % root)
    rctx.file("BUILD", """
package(default_visibility = ["//visibility:public"])
exports_files(["WHERE"])
filegroup(name = "ptb", srcs = glob(["ptb/*.txt"]))
filegroup(name = "squad", srcs = glob(["squad/*.json"]))
filegroup(name = "glove", srcs = glob(["glove/*.gz"]))
filegroup(name = "all", srcs = [":ptb", ":squad", ":glove", "WHERE"])
""")

data_repository = repository_rule(
    implementation = _data_repository_impl,
    local = True,
    environ = ["RNNPRUNE_DATA"],
)
