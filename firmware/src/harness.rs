//! What every inference firmware shares: the first 1000 MNIST test images, counting
//! instructions, the peak stack, the report and the exit code.
//!
//! Instructions are counted with SysTick under QEMU's `-icount shift=0`, where each instruction
//! takes 1 ns of virtual time and SysTick counts the board's core clock: one count is 40
//! instructions on mps2-an386 (25 MHz), 62.5 on the micro:bit (16 MHz). A loop of a known
//! number of instructions checks the conversion on every run.
//!
//! On the Cortex-M4F board the images are in flash. The micro:bit's 256 KB of flash cannot hold
//! 784 KB of them, so there each image is read from the host's copy by semihosting (`SYS_READ`)
//! into a buffer, outside the counted time.

use core::ptr::{addr_of, addr_of_mut};

use cortex_m::peripheral::{SYST, syst::SystClkSource};
use cortex_m_rt::{ExceptionFrame, exception};
use cortex_m_semihosting::{debug, hprintln};

/// Images classified.
pub const COUNT: usize = 1000;
/// Pixels in an image.
pub const PIXELS: usize = 784;

/// The true labels of the images.
pub static LABELS: [u8; COUNT] = *include_bytes!(concat!(env!("OUT_DIR"), "/labels.bin"));

#[cfg(not(m0))]
static IMAGES: [u8; COUNT * PIXELS] = *include_bytes!(concat!(env!("OUT_DIR"), "/images.bin"));

/// Nanoseconds per SysTick count at the board's core clock; with `-icount shift=0`, the
/// instructions per count.
#[cfg(not(m0))]
const NS_PER_TICK: (u64, u64) = (40, 1); // 25 MHz
#[cfg(m0)]
const NS_PER_TICK: (u64, u64) = (125, 2); // 16 MHz: 62.5 ns

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

/// SysTick counts elapsed while `f` runs (it counts down, 24 bits, and is never near wrapping).
fn ticks<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let start = SYST::get_current();
    let r = f();
    let end = SYST::get_current();
    (r, u64::from(start.wrapping_sub(end) & 0x00FF_FFFF))
}

fn instructions(ticks: u64) -> u64 {
    ticks * NS_PER_TICK.0 / NS_PER_TICK.1
}

/// A loop of exactly `1 + 2·n` instructions (`movs`, then `subs`/`bne` n times), to check the
/// instructions-per-count conversion.
#[inline(never)]
fn known_loop(n: u32) {
    // SAFETY: touches only the registers it declares.
    unsafe {
        core::arch::asm!(
            "movs {r}, {n}",
            "2:",
            "subs {r}, {r}, #1",
            "bne 2b",
            n = in(reg) n,
            r = out(reg) _,
            options(nomem, nostack),
        );
    }
}

/// Where the images come from: flash, or the host by semihosting.
struct Images {
    #[cfg(m0)]
    fd: usize,
    #[cfg(m0)]
    buf: [u8; PIXELS],
}

impl Images {
    fn open() -> Self {
        #[cfg(not(m0))]
        {
            Images {}
        }
        #[cfg(m0)]
        {
            const PATH: &str = concat!(env!("OUT_DIR"), "/images.bin\0");
            // SAFETY: SYS_OPEN with a NUL-terminated path, mode 1 ("rb"), and its length.
            let fd =
                unsafe { cortex_m_semihosting::syscall!(OPEN, PATH.as_ptr(), 1, PATH.len() - 1) };
            if fd == usize::MAX {
                fail("cannot open the test images on the host by semihosting");
            }
            Images {
                fd,
                buf: [0; PIXELS],
            }
        }
    }

    /// Image `i` (images are read in order on the micro:bit).
    fn get(&mut self, i: usize) -> &[u8; PIXELS] {
        #[cfg(not(m0))]
        {
            IMAGES[i * PIXELS..(i + 1) * PIXELS].try_into().unwrap()
        }
        #[cfg(m0)]
        {
            let _ = i;
            // SAFETY: SYS_READ into a buffer of the length given; returns the bytes not read.
            let left = unsafe {
                cortex_m_semihosting::syscall!(READ, self.fd, self.buf.as_mut_ptr(), PIXELS)
            };
            if left != 0 {
                fail("the host's test image file is short");
            }
            &self.buf
        }
    }
}

fn fail(why: &str) -> ! {
    hprintln!("FAILED: {}", why);
    exit(false)
}

fn exit(ok: bool) -> ! {
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {
        cortex_m::asm::wfi();
    }
}

/// Classifies the images with `classify`, checks every label against the host's (`expected`),
/// prints the figures and exits: 0 if every label is the host's, 1 otherwise.
///
/// The last line is `right=R/1000 identical=N/1000 instructions=I stack=S`.
pub fn run(expected: &[u8; COUNT], classify: impl Fn(&[u8; PIXELS]) -> usize) -> ! {
    let mut core = cortex_m::Peripherals::take().unwrap();
    core.SYST.set_clock_source(SystClkSource::Core);
    core.SYST.set_reload(0x00FF_FFFF);
    core.SYST.clear_current();
    core.SYST.enable_counter();
    let mut images = Images::open();

    // Peak stack of one inference, measured on the target.
    let first = *images.get(0);
    paint_stack();
    let _ = classify(&first);
    let stack = stack_high_water();

    let (mut right, mut identical, mut total) = (0usize, 0usize, 0u64);
    for i in 0..COUNT {
        let image = if i == 0 { &first } else { images.get(i) };
        let (class, t) = ticks(|| classify(image));
        total += t;
        right += usize::from(class == usize::from(LABELS[i]));
        if class == usize::from(expected[i]) {
            identical += 1;
        } else {
            hprintln!(
                "image {}: firmware says {}, host says {}",
                i,
                class,
                expected[i]
            );
        }
    }
    // The dense figure: an image with no zero pixel, so no step can be skipped.
    let (_, dense) = ticks(|| classify(&[255u8; PIXELS]));
    let (_, calibration) = ticks(|| known_loop(50_000));

    let per_inference = instructions(total) / COUNT as u64;
    hprintln!(
        "classified {} test images: {} right ({}.{}%)",
        COUNT,
        right,
        right / 10,
        right % 10
    );
    hprintln!("labels identical to the host's: {} of {}", identical, COUNT);
    hprintln!(
        "instructions per inference: {} (mean over {} images)",
        per_inference,
        COUNT
    );
    hprintln!(
        "instructions per inference, dense (no zero pixel): {}",
        instructions(dense)
    );
    hprintln!("peak stack of one inference: {} bytes", stack);
    hprintln!(
        "calibration: a loop of 100001 instructions measured as {}",
        instructions(calibration)
    );
    hprintln!(
        "right={}/{} identical={}/{} instructions={} stack={}",
        right,
        COUNT,
        identical,
        COUNT,
        per_inference,
        stack
    );
    if identical == COUNT {
        hprintln!("OK");
        exit(true)
    } else {
        fail("labels differ from the host's")
    }
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    hprintln!("HardFault at PC {:#010x}", frame.pc());
    exit(false)
}
