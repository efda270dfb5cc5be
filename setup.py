"""Build of lossfuse's compiled kernels: every build flag and the debug switch.

Three kernel modules are built from the same Cython source (src/lossfuse/_kernels/*.pxi):

* ``lossfuse._kernels._baseline`` -- the target's baseline instruction set (SSE2 on x86-64),
  runs on any CPU of the architecture;
* ``lossfuse._kernels._avx2`` -- x86-64 only, compiled with ``-mavx2 -mfma``;
* ``lossfuse._kernels._avx512`` -- x86-64 only, AVX-512 (F, DQ, BW, VL) on 512-bit vectors,
  where the compiler has it (else left out, with a warning).

``lossfuse/_kernels/__init__.py`` imports the widest one the running CPU supports.  A fourth,
small module, ``lossfuse._kernels._pool``, is the process's thread pool (pthreads; no
OpenMP), which the three share.

No ``-march=native``: a wheel built here runs on every x86-64.

Environment:

* ``LOSSFUSE_DEBUG=1``   Cython bounds, wraparound and initialization checks back on, ``-O1 -g``
  and C asserts: the build the test suite runs once more in CI.
"""

import os
import platform
import sys
import tempfile
import warnings

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

DEBUG = os.environ.get("LOSSFUSE_DEBUG", "0") not in ("", "0")
X86_64 = platform.machine().lower() in ("x86_64", "amd64")
KERNELS = "src/lossfuse/_kernels"

DIRECTIVES = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": True,
    "embedsignature": True,
}
# -ffp-contract=off: no FMA contraction by the compiler.  The kernels write their fused
# multiply-adds out (`_fma` in pointwise.pxi), so the AVX2 and AVX-512 modules round
# identically; the SSE2 baseline rounds those twice (see pointwise.pxi).
# -fno-math-errno: sqrt becomes an instruction (vectorizable); NaN and inf semantics are kept.
# A release build has no debug information (-g0 overrides the interpreter's -g) and is
# stripped at link time; LOSSFUSE_DEBUG=1 keeps both.
FLAGS = (["-O1", "-g", "-UNDEBUG"] if DEBUG else ["-O3", "-g0"]) + [
    "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math"]
AVX512_FLAGS = ["-mavx512f", "-mavx512dq", "-mavx512bw", "-mavx512vl",
                "-mprefer-vector-width=512"]
ISA_FLAGS = {"_baseline": [], "_avx2": ["-mavx2", "-mfma"],
             "_avx512": ["-mavx2", "-mfma"] + AVX512_FLAGS}
ISA_FLAGS["_pool"] = []

# GCC's inliner stops when the translation unit has grown by --param inline-unit-growth
# (default 40%).  The fused kernels are many functions, and the budget runs out before the
# exp/log1p losses (binary_cross_entropy) are inlined into their loops -- which then cannot
# be vectorized (measured: 1.9x instead of 14x NumPy).  A larger budget fixes that.  Likewise
# a single inline function may not exceed max-inline-insns-single (200 at -O3): tweedie's
# pointwise body (exp, log and y * exp on vectors) is larger, and a call in the loop kept it
# scalar (measured: 0.3x NumPy).  The exact deviances (poisson, gamma, tweedie) are larger
# still, and their callers exceed the growth allowed for large functions: without the last
# three the deviance is a call in the loop, which then runs scalar (measured: 20x slower).
INLINE_FLAGS = ["--param", "inline-unit-growth=1000", "--param", "max-inline-insns-single=6000",
                "--param", "large-function-growth=1000", "--param", "large-function-insns=100000",
                "--param", "large-stack-frame-growth=10000"]
TRIVIAL = "int main(void) { return 0; }\n"


def _compiles_with(compiler, flags, src):
    """True if `compiler` builds and links the program `src` with `flags`."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "probe.c")
        with open(path, "w") as f:
            f.write(src)
        try:
            objs = compiler.compile([path], output_dir=tmp, extra_postargs=flags)
            compiler.link_executable(objs, "probe", output_dir=tmp, extra_postargs=flags)
        except Exception:
            return False
    return True


class BuildExt(build_ext):
    """Cythonizes the kernels (once per build, into the build directory: the generated C is
    no source of the package) and compiles the modules side by side."""

    def finalize_options(self):
        super().finalize_options()
        if self.parallel is None:          # the modules compile side by side
            self.parallel = os.cpu_count() or 1
        self.force = True                   # never reuse objects of the other (debug) mode

    def build_extensions(self):
        from Cython.Build import cythonize   # a build requirement, not a run-time one
        import numpy
        inline = []
        if self.compiler.compiler_type == "unix" and _compiles_with(
                self.compiler, ["-Werror"] + INLINE_FLAGS, TRIVIAL):
            inline = INLINE_FLAGS
        avx512 = [e for e in self.extensions if e.name.endswith("_avx512")]
        if avx512 and not _compiles_with(self.compiler, ISA_FLAGS["_avx512"], TRIVIAL):
            warnings.warn("lossfuse: the C compiler cannot target AVX-512; that build is left "
                          "out (the AVX2 one serves those CPUs).")
            self.extensions = [e for e in self.extensions if e not in avx512]
        generated = cythonize(
            self.extensions, compiler_directives=DIRECTIVES, force=True, quiet=True,
            nthreads=self.parallel, include_path=["src"],
            build_dir=os.path.join(self.build_temp, "cython"))
        c_sources = {e.name: e.sources for e in generated}
        for ext in self.extensions:
            ext.sources = c_sources[ext.name]
        msvc = self.compiler.compiler_type == "msvc"
        for ext in self.extensions:
            name = ext.name.rpartition(".")[2]
            ext.include_dirs += [numpy.get_include(), KERNELS]
            if msvc:       # the baseline and the pool only (see `modules`); precise FP model
                ext.extra_compile_args += (["/Od", "/Zi"] if DEBUG else ["/O2"]) + ["/fp:precise"]
            else:
                ext.extra_compile_args += FLAGS + ISA_FLAGS[name] + (
                    inline if name != "_pool" else [])
            if sys.platform != "win32":
                ext.extra_link_args += ["-pthread"]
            if not DEBUG and sys.platform.startswith("linux"):
                ext.extra_link_args += ["-s"]      # strip at link time
        super().build_extensions()


def _git_commit():
    """The commit of the sources being built, when they are a git checkout (else None): the
    kernels record it (``lossfuse bench``'s machine information)."""
    import subprocess
    here = os.path.dirname(os.path.abspath(__file__))
    try:        # this directory's own checkout, not one it happens to lie in (an sdist's)
        done = subprocess.run(["git", "rev-parse", "--show-toplevel", "HEAD"],
                              capture_output=True, text=True, timeout=10, cwd=here)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = done.stdout.split()
    if done.returncode != 0 or len(lines) != 2 or not os.path.samefile(lines[0], here):
        return None
    commit = lines[1]
    return commit if len(commit) == 40 and commit.isalnum() else None


COMMIT = _git_commit()


def extension(name):
    macros = [("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")]
    if COMMIT:
        macros.append(("LOSSFUSE_GIT_COMMIT", f'"{COMMIT}"'))
    return Extension(f"lossfuse._kernels.{name}", [f"{KERNELS}/{name}.pyx"],
                     define_macros=macros)


modules = ["_pool", "_baseline"] + (["_avx2", "_avx512"] if X86_64 and sys.platform != "win32"
                                       else [])
setup(
    ext_modules=[extension(m) for m in modules],
    cmdclass={"build_ext": BuildExt},
)
