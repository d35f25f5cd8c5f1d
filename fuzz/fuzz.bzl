"""sansio_fuzz_test: one fuzz target, two builds.

With --config=fuzz (which sets --define=sansio_fuzz=1) the target is a libFuzzer binary:
    ./bazelw run //fuzz:NAME --config=fuzz -- [libFuzzer flags] [CORPUS_DIR...]
Otherwise it is a plain cc_test whose main (replay_main.cc) runs LLVMFuzzerTestOneInput over
every file of fuzz/corpus/NAME, so `./bazelw test //...` replays each corpus.
"""

def sansio_fuzz_test(name, srcs, deps = [], dict = None, size = "small", **kwargs):
    corpus = "corpus/" + name
    native.filegroup(
        name = name + "_corpus",
        srcs = native.glob([corpus + "/**"]),
    )
    data = [":" + name + "_corpus"]
    if dict:
        data.append(dict)
    native.cc_test(
        name = name,
        srcs = srcs,
        deps = deps + [":fuzz_support"] + select({
            ":fuzzing": [],
            "//conditions:default": [":replay_main"],
        }),
        linkopts = select({
            ":fuzzing": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        args = select({
            ":fuzzing": [],
            "//conditions:default": ["fuzz/" + corpus],
        }),
        # One binary: the RAND_bytes replacement must sit in the executable, and libFuzzer
        # wants every instrumented object linked in.
        linkstatic = True,
        data = data,
        size = size,
        tags = ["fuzz_target"],
        **kwargs
    )
