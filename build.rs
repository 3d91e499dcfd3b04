//! Sets the cfgs the core compiles by:
//! - `fused` where the kernels' multiply-add is fused (see `float::FUSED`): the `fma` feature
//!   on aarch64 with NEON or on x86-64 with SSE2 (every hosted x86-64 target). Both reach the
//!   instruction from `core`: NEON's always (`matrix::kernels::isa::neon`), x86-64's in the
//!   kernels compiled for a unit with FMA, found at run time; elsewhere on x86-64 `libm`'s
//!   `fma` computes the same number. Bare-metal x86-64 (soft-float) and the Cortex-M ignore
//!   the feature: the kernels multiply, then add.
//! - `detect` where the kernels choose their vector unit at run time (`matrix::kernels::isa`,
//!   by `cpuid` from `core`): x86-64 with SSE2, `std` or not.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(fused)");
    println!("cargo::rustc-check-cfg=cfg(detect)");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let arch = var("CARGO_CFG_TARGET_ARCH");
    let features = var("CARGO_CFG_TARGET_FEATURE");
    let has = |feature: &str| features.split(',').any(|f| f == feature);
    let fma = std::env::var_os("CARGO_FEATURE_FMA").is_some();
    // x86-64 with hardware floats (not the soft-float bare-metal targets): whatever the build
    // enables, the kernels pick their unit at run time, and run fused where the CPU has FMA.
    let x86_64 = arch == "x86_64" && has("sse2");
    let fused = fma && (x86_64 || (arch == "aarch64" && has("neon")));
    if fused {
        println!("cargo::rustc-cfg=fused");
    }
    if x86_64 {
        println!("cargo::rustc-cfg=detect");
    }
}
