#!/usr/bin/env bash
# The kernels' tests on an emulated AVX-512 CPU, for a machine without one (the AMD Zen 3 of
# several sessions): Bochs 2.7 (Debian's) emulating a Skylake-X boots Debian's Linux kernel with
# an initramfs holding the library's test binary, built static, and runs the AVX-512 unit's
# checks alone (`CONSTNN_UNITS=avx512`, which fails if the emulated CPU has no AVX-512). Every
# floating-point operation is emulated in software: the kernels' tests take some minutes where
# they take a second natively. Correctness only: an emulator's timings mean nothing.
#
#   bash bench/avx512_emulated.sh [TEST FILTER]     (default: matrix::kernels::tests::)
#
# EXTRA_RUSTFLAGS are added to the test binary's build: `-C target-cpu=skylake-avx512` checks a
# build tuned for Intel's AVX-512 servers, whose tuning prefers 256-bit vectors (the emulated
# CPU is a Skylake-X, so that build's instructions all run on it).
#
# Installs Debian's bochs, its BIOS images, isolinux, genisoimage and busybox-static if missing
# (apt-get), and downloads the kernel package linux-image-amd64 depends on, into
# target/avx512-emulated. Exits non-zero unless the tests ran and passed.
set -euo pipefail
cd "$(dirname "$0")/.."
filter=${1:-matrix::kernels::tests::}
work=target/avx512-emulated

missing=()
for package in bochs bochsbios vgabios isolinux syslinux-common genisoimage busybox-static; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

rm -rf "$work/root" "$work/iso"
mkdir -p "$work/root/bin" "$work/root/proc" "$work/root/dev" "$work/iso/isolinux"
if [ ! -f "$work/vmlinuz" ]; then
  package=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
  (cd "$work" && apt-get download "$package" 2>/dev/null && dpkg-deb -x "$package"_*.deb kernel)
  cp "$work"/kernel/boot/vmlinuz-* "$work/vmlinuz"
fi
cp "$work/vmlinuz" "$work/iso/vmlinuz"

# The library's tests, linked statically (glibc's static libraries come with libc6-dev); with
# `--target`, RUSTFLAGS leave the build scripts alone.
binary=$(RUSTFLAGS="-C target-feature=+crt-static ${EXTRA_RUSTFLAGS:-}" \
  cargo test --release --lib --target x86_64-unknown-linux-gnu --no-run 2>&1 \
  | sed -n 's/.*Executable unittests src\/lib.rs (\(.*\))$/\1/p')
[ -n "$binary" ] || { echo "no test binary"; exit 1; }
strip -o "$work/root/bin/tests" "$binary"
cp /bin/busybox "$work/root/bin/busybox"
cat >"$work/root/init" <<EOF
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t devtmpfs dev /dev
echo "=== AVX-512 here: \$(/bin/busybox grep -m1 -o 'avx512[a-z]*' /proc/cpuinfo | /bin/busybox tr '\n' ' ')"
CONSTNN_UNITS=avx512 /bin/tests --test-threads 1 '$filter'
echo "=== tests exited with \$?"
/bin/busybox poweroff -f
EOF
chmod +x "$work/root/init"
(cd "$work/root" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1 >../iso/initrd.img)

# Bochs 2.7 reports the compacted XSAVE area's size wrongly (CPUID 0xd, 1), and Linux then turns
# XSAVE, and with it AVX, off: `clearcpuid` drops XSAVEC and XSAVES (bits 10·32 + 1 and + 3),
# so that Linux uses the standard layout, whose size Bochs reports right.
cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$work/iso/isolinux/"
cat >"$work/iso/isolinux/isolinux.cfg" <<'EOF'
DEFAULT linux
PROMPT 0
LABEL linux
  KERNEL /vmlinuz
  APPEND initrd=/initrd.img console=ttyS0 quiet panic=-1 clearcpuid=321,323
EOF
genisoimage -quiet -o "$work/boot.iso" -b isolinux/isolinux.bin -c isolinux/boot.cat \
  -no-emul-boot -boot-load-size 4 -boot-info-table -R "$work/iso"

cat >"$work/bochsrc" <<EOF
megs: 512
cpu: model=corei7_skylake_x, count=1
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
ata0-master: type=cdrom, path=$work/boot.iso, status=inserted
boot: cdrom
display_library: rfb, options="timeout=0"
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
com1: enabled=1, mode=file, dev=$work/serial.txt
log: $work/bochs.log
clock: sync=none
EOF
# Debian's Bochs starts in its debugger: `c` runs the machine until it powers off.
printf 'c\nquit\n' >"$work/debugger"
rm -f "$work/serial.txt"
echo "booting the emulated Skylake-X (the kernel takes about two minutes; then the tests)"
timeout 7200 bochs -q -f "$work/bochsrc" -rc "$work/debugger" >"$work/bochs.out" 2>&1 || true
sed -n '/=== AVX-512 here/,$p' "$work/serial.txt" | grep -v '^\[' || true
grep -q '^=== AVX-512 here: avx512f' "$work/serial.txt" || { echo "no AVX-512 in the emulated CPU"; exit 1; }
grep -q '^=== tests exited with 0' "$work/serial.txt"
