//! Sets the cfgs the core compiles by:
//! - `fused` where the kernels' multiply-add is fused (see `float::FUSED`): the `fma` feature
//!   on aarch64 with NEON (its instruction, no `std` needed: `matrix::kernels::isa::neon`) or
//!   on x86-64 with `std`, whose `f32::mul_add` and CPU detection it needs (`core` has neither
//!   on stable Rust). Bare-metal x86-64 and the Cortex-M ignore the feature: the kernels
//!   multiply, then add.
//! - `link_std` where the core links `std`: the `std` feature, or `fused` on x86-64.
//! - `detect` where the kernels choose their vector unit at run time (`matrix::kernels::isa`):
//!   x86-64 with `std` linked.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(fused)");
    println!("cargo::rustc-check-cfg=cfg(link_std)");
    println!("cargo::rustc-check-cfg=cfg(detect)");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let arch = var("CARGO_CFG_TARGET_ARCH");
    let has_std = var("CARGO_CFG_TARGET_OS") != "none";
    let neon = var("CARGO_CFG_TARGET_FEATURE")
        .split(',')
        .any(|f| f == "neon");
    let fma = std::env::var_os("CARGO_FEATURE_FMA").is_some();
    // x86-64: whether or not the build enables FMA, the kernels run fused where the CPU has it
    // (`matrix::kernels::isa` picks the unit at run time), and `mul_add` computes the same
    // number in software where it does not. aarch64: every core has the instruction.
    let fused_x86 = fma && arch == "x86_64" && has_std;
    let fused = fused_x86 || (fma && arch == "aarch64" && neon);
    if fused {
        println!("cargo::rustc-cfg=fused");
    }
    let link_std = fused_x86 || std::env::var_os("CARGO_FEATURE_STD").is_some();
    if link_std {
        println!("cargo::rustc-cfg=link_std");
    }
    if arch == "x86_64" && has_std && link_std {
        println!("cargo::rustc-cfg=detect");
    }
}
