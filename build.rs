//! Sets `cfg(fused)` where the kernels' multiply-add is one fused instruction (see
//! `float::FUSED`): the `fma` feature, on a CPU built with FMA (x86-64 with `+fma`, or
//! aarch64), and a target with `std`, whose `f32::mul_add` it needs (`core` has none on stable
//! Rust). Bare-metal targets (`target_os = "none"`, e.g. `aarch64-unknown-none`) never link
//! `std`: there the feature is ignored and the kernels multiply, then add.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(fused)");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let arch = var("CARGO_CFG_TARGET_ARCH");
    let features = var("CARGO_CFG_TARGET_FEATURE");
    let has_std = var("CARGO_CFG_TARGET_OS") != "none";
    let fma_cpu = match arch.as_str() {
        "x86_64" => features.split(',').any(|f| f == "fma"),
        "aarch64" => true,
        _ => false,
    };
    if std::env::var_os("CARGO_FEATURE_FMA").is_some() && fma_cpu && has_std {
        println!("cargo::rustc-cfg=fused");
    }
}
