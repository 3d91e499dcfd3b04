//! Sets `cfg(fused)` where the kernels' multiply-add is fused (see `float::FUSED`): the `fma`
//! feature, on x86-64 or aarch64, and a target with `std`, whose `f32::mul_add` it needs
//! (`core` has none on stable Rust). Bare-metal targets (`target_os = "none"`, e.g.
//! `aarch64-unknown-none`) never link `std`: there the feature is ignored and the kernels
//! multiply, then add. Sets `cfg(detect)` where the kernels choose their vector unit at run
//! time (`matrix::kernels::isa`): x86-64 with `std` linked.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(fused)");
    println!("cargo::rustc-check-cfg=cfg(detect)");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let arch = var("CARGO_CFG_TARGET_ARCH");
    let has_std = var("CARGO_CFG_TARGET_OS") != "none";
    // x86-64: whether or not the build enables FMA, the kernels run fused where the CPU has it
    // (`matrix::kernels::isa` picks the unit at run time), and `mul_add` computes the same
    // number in software where it does not.
    let fma_cpu = matches!(arch.as_str(), "x86_64" | "aarch64");
    let fused = std::env::var_os("CARGO_FEATURE_FMA").is_some() && fma_cpu && has_std;
    if fused {
        println!("cargo::rustc-cfg=fused");
    }
    // Run-time choice of the vector unit (`matrix::kernels::isa`): x86-64 with `std` linked
    // (for its CPU detection), which `fused` or the `std` feature brings.
    let std_linked = fused || std::env::var_os("CARGO_FEATURE_STD").is_some();
    if arch == "x86_64" && has_std && std_linked {
        println!("cargo::rustc-cfg=detect");
    }
}
