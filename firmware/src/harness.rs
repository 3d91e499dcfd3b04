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
//!
//! It prints without `core::fmt` (a few integers and strings do not need its 4 KB of flash),
//! and its panic handler prints the panic's place and exits 1.

use core::ptr::{addr_of, addr_of_mut};

use cortex_m::peripheral::{SYST, syst::SystClkSource};
use cortex_m_rt::{ExceptionFrame, exception};
use cortex_m_semihosting::{debug, hio};

/// Images classified.
pub const COUNT: usize = 1000;
/// Pixels in an image.
pub const PIXELS: usize = 784;

/// The true labels of the images.
pub static LABELS: [u8; COUNT] = *include_bytes!(concat!(env!("OUT_DIR"), "/labels.bin"));

#[cfg(not(m0))]
static IMAGES: [u8; COUNT * PIXELS] = *include_bytes!(concat!(env!("OUT_DIR"), "/images.bin"));

/// Twice the nanoseconds per SysTick count at the board's core clock: with `-icount shift=0`,
/// twice the instructions per count.
#[cfg(not(m0))]
const HALF_NS_PER_TICK: u64 = 80; // 25 MHz: 40 ns
#[cfg(m0)]
const HALF_NS_PER_TICK: u64 = 125; // 16 MHz: 62.5 ns

const PAINT: u32 = 0x5AA5_F00D;

unsafe extern "C" {
    /// First free RAM after .data and .bss (cortex-m-rt): the stack grows down towards it.
    static mut __sheap: u32;
    /// The top of the stack (cortex-m-rt).
    static _stack_start: u32;
    /// The start of .data, the first static in RAM (cortex-m-rt).
    static __sdata: u32;
}

/// Fills the unused stack below the current one with a pattern; returns the stack pointer.
fn paint_stack() -> usize {
    let bottom = addr_of_mut!(__sheap) as usize;
    let sp = cortex_m::register::msp::read() as usize;
    let mut addr = bottom;
    while addr + 4 < sp - 64 {
        // SAFETY: [bottom, sp − 64) is RAM that nothing uses yet: above the statics, below the
        // live stack.
        unsafe { core::ptr::write_volatile(addr as *mut u32, PAINT) };
        addr += 4;
    }
    sp
}

/// The lowest stack address ever used: the lowest word the pattern no longer holds.
fn stack_low_water() -> usize {
    let bottom = addr_of_mut!(__sheap) as usize;
    let top = addr_of!(_stack_start) as usize;
    let mut addr = bottom;
    // SAFETY: reads of RAM between the statics and the top of the stack.
    while addr < top && unsafe { core::ptr::read_volatile(addr as *const u32) } == PAINT {
        addr += 4;
    }
    addr
}

/// SysTick counts elapsed while `f` runs (it counts down, 24 bits, and is never near wrapping).
fn ticks<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let start = SYST::get_current();
    let r = f();
    let end = SYST::get_current();
    (r, u64::from(start.wrapping_sub(end) & 0x00FF_FFFF))
}

fn instructions(ticks: u64) -> u64 {
    (ticks * HALF_NS_PER_TICK) >> 1
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

    /// Image `i`.
    fn get(&mut self, i: usize) -> &[u8; PIXELS] {
        #[cfg(not(m0))]
        {
            IMAGES[i * PIXELS..(i + 1) * PIXELS].try_into().unwrap()
        }
        #[cfg(m0)]
        {
            // SAFETY: SYS_SEEK to a byte offset in the file opened above; returns 0 on success.
            let seek = unsafe { cortex_m_semihosting::syscall!(SEEK, self.fd, i * PIXELS) };
            if seek != 0 {
                fail("cannot seek in the host's test image file");
            }
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

/// Pieces of a line: text, or a number in decimal.
enum Piece<'a> {
    Text(&'a str),
    Number(u32),
}

use Piece::{Number as N, Text as T};

/// Prints `pieces` and a newline on the host's stdout.
fn say(pieces: &[Piece]) {
    let Ok(mut out) = hio::hstdout() else {
        return;
    };
    for piece in pieces {
        let _ = match *piece {
            Piece::Text(s) => out.write_all(s.as_bytes()),
            Piece::Number(mut n) => {
                let mut digits = [0u8; 10];
                let mut at = digits.len();
                loop {
                    at -= 1;
                    digits[at] = b'0' + (n % 10) as u8;
                    n /= 10;
                    if n == 0 {
                        break;
                    }
                }
                out.write_all(&digits[at..])
            }
        };
    }
    let _ = out.write_all(b"\n");
}

fn fail(why: &str) -> ! {
    say(&[T("FAILED: "), T(why)]);
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

    // Peak stack of one inference, and of the whole program, measured on the target.
    let first = images.get(0);
    let sp = paint_stack();
    let _ = classify(first);
    let low = stack_low_water();
    // RAM in use at the peak: the statics (from .data to the heap's start) and the stack.
    let statics = addr_of_mut!(__sheap) as usize - addr_of!(__sdata) as usize;
    let (stack, ram) = (sp - low, addr_of!(_stack_start) as usize - low + statics);

    let (mut right, mut identical, mut total) = (0usize, 0usize, 0u64);
    for i in 0..COUNT {
        let image = images.get(i);
        let (class, t) = ticks(|| classify(image));
        total += t;
        right += usize::from(class == usize::from(LABELS[i]));
        if class == usize::from(expected[i]) {
            identical += 1;
        } else {
            say(&[
                T("image "),
                N(i as u32),
                T(": firmware says "),
                N(class as u32),
                T(", host says "),
                N(u32::from(expected[i])),
            ]);
        }
    }
    // The dense figure: an image with no zero pixel, so no step can be skipped.
    let (_, dense) = ticks(|| classify(&[255u8; PIXELS]));
    let (_, calibration) = ticks(|| known_loop(50_000));

    // The mean: the total over 1000 = 8 · 125 (a shift and a 32-bit division).
    let per_inference = ((instructions(total) >> 3) as u32) / 125;
    let (count, right, identical, stack, ram) = (
        COUNT as u32,
        right as u32,
        identical as u32,
        stack as u32,
        ram as u32,
    );
    say(&[
        T("classified "),
        N(count),
        T(" test images: "),
        N(right),
        T(" right"),
    ]);
    say(&[
        T("labels identical to the host's: "),
        N(identical),
        T(" of "),
        N(count),
    ]);
    say(&[
        T("instructions per inference: "),
        N(per_inference),
        T(" (mean over "),
        N(count),
        T(" images)"),
    ]);
    say(&[
        T("instructions per inference, dense (no zero pixel): "),
        N(instructions(dense) as u32),
    ]);
    say(&[T("peak stack of one inference: "), N(stack), T(" bytes")]);
    say(&[
        T("peak RAM of the program (statics and stack): "),
        N(ram),
        T(" bytes"),
    ]);
    say(&[
        T("calibration: a loop of 100001 instructions measured as "),
        N(instructions(calibration) as u32),
    ]);
    say(&[
        T("right="),
        N(right),
        T("/"),
        N(count),
        T(" identical="),
        N(identical),
        T("/"),
        N(count),
        T(" instructions="),
        N(per_inference),
        T(" stack="),
        N(stack),
        T(" ram="),
        N(ram),
    ]);
    if identical == count {
        say(&[T("OK")]);
        exit(true)
    } else {
        fail("labels differ from the host's")
    }
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    say(&[T("HardFault at PC "), N(frame.pc())]);
    exit(false)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    match info.location() {
        Some(at) => say(&[T("panicked at "), T(at.file()), T(":"), N(at.line())]),
        None => say(&[T("panicked")]),
    }
    exit(false)
}
