#!/usr/bin/env python3
"""Builds BoGo's runner, runs it against our shim, and judges the results.

Usage: ./bazelw run //tests/bogo:run [-- [--json=PATH] [--workers=N] [--test=GLOBS]
                                        [--timeout=SECONDS] [RUNNER FLAGS...]]

Prints "bogo: N passed, N failed, N unimplemented, N disabled" and writes the runner's JSON
results to --json (default: $TMPDIR/bogo-results.json). Exits non-zero when a test fails
that tests/bogo/expected_failures.txt does not list, or when the runner cannot run.

The runner comes from BoringSSL's tree copied in ../shared/bogo (next to the repository
root; $BOGO_DIR overrides), built with its build.sh (Debian's Go, offline).
"""
import fnmatch
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def runfile(rel):
    """Path of a file of this target's runfiles (Bazel py_binary layout)."""
    for base in (os.environ.get("RUNFILES_DIR"), os.path.abspath(sys.argv[0]) + ".runfiles"):
        if base:
            p = os.path.join(base, "sansio_tls", rel)
            if os.path.exists(p):
                return p
    p = os.path.join(HERE, os.path.basename(rel))
    if os.path.exists(p):
        return p
    sys.exit("bogo: cannot find %s in the runfiles" % rel)


def find_bogo_dir():
    candidates = []
    if os.environ.get("BOGO_DIR"):
        candidates.append(os.environ["BOGO_DIR"])
    root = os.environ.get("BUILD_WORKSPACE_DIRECTORY", os.getcwd())
    # CI: shared/ is a sibling of the repository; a worktree under wt/ is one level deeper.
    candidates += [os.path.join(root, "..", "shared", "bogo"),
                   os.path.join(root, "..", "..", "shared", "bogo")]
    for c in candidates:
        if os.path.exists(os.path.join(c, "build.sh")):
            return os.path.abspath(c)
    sys.exit("bogo: BoGo sources not found (tried %s); set BOGO_DIR" % ", ".join(candidates))


def load_expected_failures(path):
    """Lines 'GLOB reason...'; '#' starts a comment line. Every entry needs a reason."""
    entries = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 1)
            if len(parts) < 2:
                sys.exit("bogo: %s:%d: entry without a reason" % (path, n))
            entries.append((parts[0], parts[1]))
    return entries


def matches(name, globs):
    return any(fnmatch.fnmatchcase(name, g) for g in globs)


def run_runner(runner, shim, workdir, args, json_path, timeout):
    """Runs the runner in its own process group; on timeout the group (runner and shims)
    is killed and the run fails."""
    cmd = [runner, "-shim-path=" + shim, "-allow-unimplemented", "-pipe",
           "-json-output=" + json_path] + args
    proc = subprocess.Popen(cmd, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, errors="replace", start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        print(out[-4000:])
        sys.exit("bogo: the runner did not finish within %d s" % timeout)
    return proc.returncode, out


def main():
    json_out = os.path.join(tempfile.gettempdir(), "bogo-results.json")
    workers = "2"
    timeout = 900
    test_globs = None
    extra = []
    for a in sys.argv[1:]:
        if a.startswith("--json="):
            json_out = os.path.abspath(a[len("--json="):])
        elif a.startswith("--workers="):
            workers = a[len("--workers="):]
        elif a.startswith("--timeout="):
            timeout = int(a[len("--timeout="):])
        elif a.startswith("--test="):
            test_globs = a[len("--test="):]
        else:
            extra.append(a)

    shim = runfile("tests/bogo/shim")
    config_path = runfile("tests/bogo/config.json")
    expected = load_expected_failures(runfile("tests/bogo/expected_failures.txt"))
    with open(config_path) as f:
        config = json.load(f)
    disabled_globs = list(config.get("DisabledTests", {}))
    for g, reason in config.get("DisabledTests", {}).items():
        if not reason.strip():
            sys.exit("bogo: config.json: disabled %s has no reason" % g)

    bogo_dir = find_bogo_dir()
    workdir = tempfile.mkdtemp(prefix="bogo-")
    try:
        build = subprocess.run([os.path.join(bogo_dir, "build.sh"), workdir],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if build.returncode != 0:
            print(build.stdout)
            sys.exit("bogo: building the runner failed")
        runner = os.path.join(workdir, "runner")

        selection = ["-test=" + test_globs] if test_globs else []
        # Every test name (a shim that answers the probe and implements nothing), to count
        # the disabled ones.
        lister = os.path.join(workdir, "list-shim.sh")
        with open(lister, "w") as f:
            f.write('#!/bin/sh\n[ "$1" = -is-handshaker-supported ] && { echo No; exit 0; }\nexit 89\n')
        os.chmod(lister, 0o755)
        all_json = os.path.join(workdir, "all.json")
        rc, out = run_runner(runner, lister, workdir,
                             ["-include-disabled", "-num-workers=" + workers] + selection, all_json,
                             timeout)
        if rc != 0:
            print(out)
            sys.exit("bogo: listing the tests failed")
        with open(all_json) as f:
            all_names = list(json.load(f)["tests"])
        disabled = [n for n in all_names if matches(n, disabled_globs)]

        rc, out = run_runner(runner, shim, workdir,
                             ["-shim-config=" + config_path, "-num-workers=" + workers] +
                             selection + extra, json_out, timeout)
        try:
            with open(json_out) as f:
                results = json.load(f)["tests"]
        except (OSError, ValueError, KeyError):
            print(out)
            sys.exit("bogo: the runner wrote no results (exit %d)" % rc)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    passed, failed, unimplemented = [], [], []
    for name, r in sorted(results.items()):
        actual = r.get("actual")
        if actual == "PASS":
            passed.append(name)
        elif actual == "SKIP":
            unimplemented.append(name)
        else:
            failed.append(name)
    expected_globs = [g for g, _ in expected]
    unexplained = [n for n in failed if not matches(n, expected_globs)]
    stale = [g for g in expected_globs if not any(fnmatch.fnmatchcase(n, g) for n in failed)
             and any(fnmatch.fnmatchcase(n, g) for n in passed)]

    # The runner prints every failure in full; show those not explained.
    if unexplained:
        blocks = out.split("FAILED (")
        for b in blocks[1:]:
            name = b.split(")", 1)[0]
            if name in unexplained:
                print("FAILED (" + b.rstrip()[:4000])
                print()
        print("bogo: unexplained failures (%d):" % len(unexplained))
        for n in unexplained:
            print("  " + n)
    if stale:
        print("bogo: expected-failure entries that now pass (remove them): " + " ".join(stale))
    print("bogo: results in %s" % json_out)
    print("bogo: %d passed, %d failed, %d unimplemented, %d disabled" %
          (len(passed), len(failed), len(unimplemented), len(disabled)))
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
