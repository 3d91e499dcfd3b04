#!/usr/bin/env python3
"""The innermost loops of the kernels in a built binary, and what each step costs.

For reading the code the compiler made where a benchmark cannot run: another CPU's unit (the
AVX-512 copy on a machine without it), or a VM without performance counters. For every function
whose symbol contains PATTERN, each innermost loop (a backward jump with no other inside it) with
at least MIN_FMA multiply-adds is listed with its instruction count and what costs on the way:

  fma      fused multiply-adds (`vfmadd…`), vector width of the widest one
  bcast    broadcasts reading memory (`vbroadcastss (%rax),%ymm0`)
  reg-bc   broadcasts from a register (`vmovss` then `vbroadcastss %xmm0,%ymm0`): on Zen 3 a
           4 × 24 step ran 1.6× as long so (PERFORMANCE.md); on Intel they take port 5
  embedded broadcasts folded into a multiply-add (`{1to16}`, AVX-512)
  stack    vector loads and stores on the stack (a spilled accumulator), and other ones (a
           pointer or a bound reloaded every step)

Usage (x86-64, GNU objdump):
  cargo bench --bench kernels --no-run
  python3 bench/loops.py target/release/deps/kernels-<hash> avx512 [MIN_FMA] [-v] [--check]

`-v` prints each loop's instructions. `--check` exits 1 if any listed loop has a vector load or
store on the stack, or if no loop is listed (a renamed function must not pass unread): CI reads
the units' own tiles so, whose sums must stay in registers, on a machine that may lack the unit
(a compiler's change once put f64's AVX-512 tile's sums on the stack, 5× slower, unseen by the
tests, which check values). Symbols look like
`constnn::matrix::kernels::isa::avx2_fma::wide_tile` (mangled): `avx2_fma9wide_tile` selects
that function, `avx512` every function of the AVX-512 copy.
"""
import re
import signal
import subprocess
import sys


def functions(binary, pattern):
    """The mangled names of the functions whose symbol contains `pattern`."""
    out = subprocess.run(["nm", binary], capture_output=True, text=True, check=True).stdout
    return sorted({f[2] for f in (l.split() for l in out.splitlines()) if len(f) == 3 and pattern in f[2]})


def instructions(binary, symbol):
    """[(address, text)] of one function."""
    out = subprocess.run(
        ["objdump", "-d", "--no-show-raw-insn", binary, "--disassemble=" + symbol],
        capture_output=True, text=True, check=True,
    ).stdout
    found = []
    for line in out.splitlines():
        m = re.match(r"\s+([0-9a-f]+):\s+(\S.*)", line)
        if m:
            found.append((int(m.group(1), 16), m.group(2).strip()))
    return found


def jump_target(text):
    m = re.match(r"j\w+\s+([0-9a-f]+)\b", text)
    return int(m.group(1), 16) if m else None


def innermost_loops(code):
    """Slices of `code` from a backward jump's target to the jump, holding no other such loop."""
    index = {a: i for i, (a, _) in enumerate(code)}
    spans = []
    for i, (a, t) in enumerate(code):
        target = jump_target(t)
        if target is not None and target <= a and target in index:
            spans.append((index[target], i))
    inner = [s for s in spans if not any(o != s and s[0] <= o[0] and o[1] <= s[1] for o in spans)]
    return [code[s : e + 1] for s, e in inner]


def is_fma(text):
    return text.startswith(("vfmadd", "vfnmadd"))


def describe(loop):
    texts = [t for _, t in loop]
    fma = [t for t in texts if is_fma(t)]
    width = max((512 if "%zmm" in t else 256 if "%ymm" in t else 128) for t in fma) if fma else 0
    bcast = [t for t in texts if re.match(r"v(p?broadcast\w+)\s", t)]
    reg = [t for t in bcast if re.match(r"v\S+\s+%xmm", t)]
    stack = [t for t in texts if "(%rsp)" in t and t.startswith("v")]
    gpr = [t for t in texts if "(%rsp)" in t and not t.startswith("v")]
    embedded = [t for t in texts if "{1to" in t]
    return len(stack), (
        f"{len(texts)} instructions, {len(fma)} fma ({width}-bit), {len(bcast) - len(reg)} bcast "
        f"from memory, {len(reg)} reg-bc, {len(embedded)} embedded bcast, {len(stack)} vector "
        f"stack ops, {len(gpr)} other stack ops"
    )


def main(argv):
    verbose = "-v" in argv
    check = "--check" in argv
    args = [a for a in argv if a not in ("-v", "--check")]
    if len(args) < 2:
        sys.exit(__doc__)
    binary, pattern = args[0], args[1]
    min_fma = int(args[2]) if len(args) > 2 else 8
    listed = spilled = 0
    for symbol in functions(binary, pattern):
        name = subprocess.run(["c++filt", symbol], capture_output=True, text=True).stdout.strip()
        for loop in innermost_loops(instructions(binary, symbol)):
            if sum(is_fma(t) for _, t in loop) < min_fma:
                continue
            stack, text = describe(loop)
            listed += 1
            spilled += stack > 0
            print(f"{name} @ {loop[0][0]:x}: {text}")
            if verbose:
                for a, t in loop:
                    print(f"    {a:x}  {t}")
    if check and (listed == 0 or spilled > 0):
        sys.exit(f"{pattern}: {listed} loops listed, {spilled} with vectors on the stack")


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet under `| head`
    main(sys.argv[1:])
