//! MNIST inference on a Cortex-M4F: the TwoLayerNet trained by `train_mnist`, in flash,
//! classifies the first 1000 test images and checks every label against the host's.
//!
//! Prints the accuracy, instructions per inference (SysTick under `-icount`), the peak stack of
//! one inference (stack painting) and exits 0, or 1 on any mismatch, panic or fault.
#![no_std]
#![no_main]

use core::ptr::{addr_of, addr_of_mut};

use constnn::TwoLayerNet;
use constnn::matrix::{Frozen, argmax};
use cortex_m::peripheral::{SYST, syst::SystClkSource};
use cortex_m_rt::{ExceptionFrame, entry, exception};
use cortex_m_semihosting::{debug, hprintln};
use panic_semihosting as _;

type Net = TwoLayerNet<784, 50, 10, f32, Frozen>;

/// The model, decoded and checked against `Net` when the firmware is built. Immutable, so it
/// stays in flash (.rodata).
static NET: Net = Net::from_model(include_bytes!("../model/mnist-784-50-10.cnnm"));

const COUNT: usize = 1000;
static IMAGES: [u8; COUNT * 784] = *include_bytes!(concat!(env!("OUT_DIR"), "/images.bin"));
static LABELS: [u8; COUNT] = *include_bytes!(concat!(env!("OUT_DIR"), "/labels.bin"));
static EXPECTED: [u8; COUNT] = *include_bytes!(concat!(env!("OUT_DIR"), "/expected.bin"));

/// Instructions per SysTick count: QEMU clocks SysTick from the 25 MHz system clock, and with
/// `-icount shift=0` each instruction takes 1 ns of virtual time, so one count is 40 of them.
const INSTRUCTIONS_PER_TICK: u32 = 40;

const PAINT: u32 = 0x5AA5_F00D;

unsafe extern "C" {
    /// First free RAM after .data and .bss (cortex-m-rt): the stack grows down towards it.
    static mut __sheap: u32;
    /// The top of the stack (cortex-m-rt).
    static _stack_start: u32;
}

/// Fills the unused stack below the current one with a pattern.
fn paint_stack() {
    let bottom = addr_of_mut!(__sheap) as usize;
    let sp = cortex_m::register::msp::read() as usize;
    let mut addr = bottom;
    while addr + 4 < sp - 64 {
        // SAFETY: [bottom, sp − 64) is RAM that nothing uses yet: above the statics, below the
        // live stack.
        unsafe { core::ptr::write_volatile(addr as *mut u32, PAINT) };
        addr += 4;
    }
}

/// Bytes of stack ever used: from the top down to the lowest word the pattern no longer holds.
fn stack_high_water() -> usize {
    let bottom = addr_of_mut!(__sheap) as usize;
    let top = addr_of!(_stack_start) as usize;
    let mut addr = bottom;
    // SAFETY: reads of RAM between the statics and the top of the stack.
    while addr < top && unsafe { core::ptr::read_volatile(addr as *const u32) } == PAINT {
        addr += 4;
    }
    top - addr
}

/// Scales an image like the host (the book's `normalize=True`) and classifies it.
#[inline(never)]
fn classify(pixels: &[u8]) -> usize {
    let mut x = [[0.0f32; 784]; 1];
    for (v, &p) in x[0].iter_mut().zip(pixels) {
        *v = f32::from(p) / 255.0;
    }
    let mut logits = [[0.0f32; 10]; 1];
    NET.predict(&x, &mut logits);
    argmax(&logits[0])
}

/// SysTick counts elapsed while `f` runs (it counts down, 24 bits, and is never near wrapping).
fn ticks(syst: &SYST, f: impl FnOnce() -> usize) -> (usize, u32) {
    let start = SYST::get_current();
    let r = f();
    let end = SYST::get_current();
    let _ = syst;
    (r, start.wrapping_sub(end) & 0x00FF_FFFF)
}

/// A loop of exactly `1 + 2·n` instructions (`mov`, then `subs`/`bne` n times), to check the
/// instructions-per-count calibration.
#[inline(never)]
fn known_loop(n: u32) -> usize {
    // SAFETY: touches only the register it declares.
    unsafe {
        core::arch::asm!(
            "mov {r}, {n}",
            "2:",
            "subs {r}, {r}, #1",
            "bne 2b",
            n = in(reg) n,
            r = out(reg) _,
            options(nomem, nostack),
        );
    }
    0
}

#[entry]
fn main() -> ! {
    let mut core = cortex_m::Peripherals::take().unwrap();
    core.SYST.set_clock_source(SystClkSource::Core);
    core.SYST.set_reload(0x00FF_FFFF);
    core.SYST.clear_current();
    core.SYST.enable_counter();

    // Peak stack of one inference, measured on the target.
    paint_stack();
    let _ = classify(&IMAGES[..784]);
    let stack = stack_high_water();

    let (mut correct, mut mismatches, mut total_ticks) = (0usize, 0usize, 0u64);
    for i in 0..COUNT {
        let (predicted, t) = ticks(&core.SYST, || classify(&IMAGES[i * 784..(i + 1) * 784]));
        total_ticks += u64::from(t);
        if predicted == usize::from(LABELS[i]) {
            correct += 1;
        }
        if predicted != usize::from(EXPECTED[i]) {
            mismatches += 1;
            hprintln!(
                "image {}: firmware says {}, host says {}",
                i,
                predicted,
                EXPECTED[i]
            );
        }
    }
    // The dense figure: an image with no zero pixel, so no step can be skipped.
    let dense = [255u8; 784];
    let (_, dense_ticks) = ticks(&core.SYST, || classify(&dense));

    let (_, calib_ticks) = ticks(&core.SYST, || known_loop(50_000));

    let per_inference = total_ticks * u64::from(INSTRUCTIONS_PER_TICK) / COUNT as u64;
    hprintln!(
        "classified {} test images: {} right ({}.{}%)",
        COUNT,
        correct,
        correct / 10,
        correct % 10
    );
    hprintln!(
        "labels identical to the host's: {} of {}",
        COUNT - mismatches,
        COUNT
    );
    hprintln!(
        "instructions per inference: {} (mean over {} images)",
        per_inference,
        COUNT
    );
    hprintln!(
        "instructions per inference, dense (no zero pixel): {}",
        dense_ticks * INSTRUCTIONS_PER_TICK
    );
    hprintln!("peak stack of one inference: {} bytes", stack);
    hprintln!(
        "calibration: a loop of 100001 instructions measured as {}",
        calib_ticks * INSTRUCTIONS_PER_TICK
    );
    if mismatches == 0 {
        hprintln!("OK");
        debug::exit(debug::EXIT_SUCCESS);
    } else {
        hprintln!("FAILED: {} labels differ from the host's", mismatches);
        debug::exit(debug::EXIT_FAILURE);
    }
    loop {
        cortex_m::asm::wfi();
    }
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    hprintln!("HardFault at PC {:#010x}", frame.pc());
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}
