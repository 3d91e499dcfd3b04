//! The int8 MNIST network: within a tenth of a point of the f32 one on all 10 000 test images,
//! every output equal to a straightforward reference written here, the model file the firmware
//! embeds reproduced byte for byte, and bad files refused by name.

use std::path::Path;
use std::sync::OnceLock;

use constnn::data::{self, Part, Split};
use constnn::format::model::{self, ModelError};
use constnn::matrix::Heap;
use constnn::quant::fixed::{
    multiply_by_quantized_multiplier, quantize_multiplier, rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
};
use constnn::quant::{self, QuantAffine, QuantNet, QuantParams};
use constnn::{Chain, TwoLayerNet, include_model};
use rand_core::{Rng, SeedableRng};

type Net = TwoLayerNet<784, 50, 10, f32, Heap>;
type Int8 = QuantNet<Chain<QuantAffine<784, 50>, QuantAffine<50, 10>>>;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist");
const F32_MODEL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/firmware/model/mnist-784-50-10.cnnm"
);
const INT8_MODEL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/firmware/model/mnist-784-50-10-int8.cnnm"
);

/// The int8 model compiled in, as the firmware has it.
static EMBEDDED: Int8 = include_model!(Int8, "../firmware/model/mnist-784-50-10-int8.cnnm");

fn test_set() -> &'static Split<784> {
    static TEST: OnceLock<Split<784>> = OnceLock::new();
    TEST.get_or_init(|| data::load_mnist_part(Path::new(DATA), Part::Test).unwrap())
}

/// `train_mnist`'s model (seed 0) and its quantisation on the first 1000 training images, as
/// `quantize` makes it.
fn models() -> &'static (Box<Net>, Box<Int8>) {
    static MODELS: OnceLock<(Box<Net>, Box<Int8>)> = OnceLock::new();
    MODELS.get_or_init(|| {
        let mut net = Box::new(Net::zeros());
        data::load_model(&mut net.layers, Path::new(F32_MODEL)).unwrap();
        let train = data::load_mnist_part(Path::new(DATA), Part::Train).unwrap();
        let q = Box::new(quant::quantize(&*net, &train.images(0..1000)).unwrap());
        (net, q)
    })
}

/// A pixel byte as the int8 input: scale 1/255, zero point −128.
fn int8_image(pixels: &[u8; 784]) -> [i8; 784] {
    pixels.map(|p| (i16::from(p) - 128) as i8)
}

// ---- the reference: TFLite's arithmetic written out in wide integers, no shortcuts ----

/// `round(a · b / 2³¹)` with ties upwards (what the nudged, truncating C division gives),
/// saturated.
fn ref_high_mul(a: i32, b: i32) -> i32 {
    let p = i128::from(a) * i128::from(b);
    let r = (p + (1 << 30)).div_euclid(1 << 31);
    r.clamp(i128::from(i32::MIN), i128::from(i32::MAX)) as i32
}

/// `x / 2^e` rounded to nearest, ties away from zero.
fn ref_divide_pot(x: i32, e: u32) -> i32 {
    if e == 0 {
        return x;
    }
    let (x, half) = (i64::from(x), 1i64 << (e - 1));
    let r = if x >= 0 {
        (x + half) >> e
    } else {
        -((-x + half) >> e)
    };
    r as i32
}

fn ref_requantize(acc: i64, multiplier: i32, shift: i32) -> i32 {
    let acc = acc.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
    let shifted = if shift > 0 {
        (i64::from(acc) << shift).clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
    } else {
        acc
    };
    ref_divide_pot(
        ref_high_mul(shifted, multiplier),
        if shift > 0 { 0 } else { (-shift) as u32 },
    )
}

/// One layer by the book: every input, offsets from the zero point, wide sums, then the clamp.
#[allow(clippy::needless_range_loop)] // the formula's indices, written as the formula is
fn ref_layer<const I: usize, const O: usize>(l: &QuantAffine<I, O>, x: &[i8; I]) -> [i8; O] {
    let mut out = [0i8; O];
    for j in 0..O {
        let mut acc = i64::from(l.b[j]);
        for i in 0..I {
            acc += (i64::from(x[i]) - i64::from(l.input.zero_point)) * i64::from(l.w[i][j]);
        }
        let v = i32::from(l.output.zero_point) + ref_requantize(acc, l.multiplier[j], l.shift[j]);
        let low = if l.relu {
            i32::from(l.output.zero_point)
        } else {
            -128
        };
        out[j] = v.clamp(low, 127) as i8;
    }
    out
}

#[test]
fn the_int8_network_is_within_a_tenth_of_a_point_of_the_f32_one_on_all_test_images() {
    let (net, q) = models();
    let test = test_set();
    let images = test.images(0..test.len());
    let mut f32_classes = vec![0; images.len()];
    net.classify(&images, &mut f32_classes).unwrap();
    let right = |classes: &mut dyn Iterator<Item = usize>| {
        classes
            .zip(test.labels())
            .filter(|(c, l)| *c == usize::from(**l))
            .count()
    };
    let f32_right = right(&mut f32_classes.iter().copied());
    let int8_right = right(&mut test.pixels().iter().map(|p| q.classify(&int8_image(p))));
    assert_eq!(f32_right, 9704, "train_mnist's model, seed 0");
    assert!(int8_right >= 9694, "int8: {int8_right} of 10 000");
    assert_eq!(Int8::WEIGHT_BYTES, 39_700 + 60 * 12);
}

#[test]
fn every_int8_output_equals_the_reference_on_every_test_image() {
    let (_, q) = models();
    let (first, second) = (&q.layers.first, &q.layers.rest);
    for (n, pixels) in test_set().pixels().iter().enumerate() {
        let x = int8_image(pixels);
        let hidden = ref_layer(first, &x);
        let expected = ref_layer(second, &hidden);
        let mut h = [0i8; 50];
        first.forward(&x, &mut h);
        assert_eq!(h, hidden, "hidden layer, test image {n}");
        let mut scores = [0i8; 10];
        q.predict(&x, &mut scores);
        assert_eq!(scores, expected, "scores, test image {n}");
    }
}

#[test]
fn the_quantised_input_of_a_pixel_is_its_byte_less_128() {
    let (_, q) = models();
    assert_eq!(
        q.input_params(),
        QuantParams {
            scale: 1.0 / 255.0,
            zero_point: -128
        }
    );
    let test = test_set();
    for i in 0..100 {
        assert_eq!(
            q.quantize_input(&test.image(i)),
            int8_image(&test.pixels()[i])
        );
    }
    for p in 0..=255u8 {
        let x = data::scale(p);
        assert_eq!(i16::from(q.input_params().quantize(x)), i16::from(p) - 128);
    }
}

#[test]
fn quantising_the_firmware_model_reproduces_the_int8_file_it_embeds() {
    let (_, q) = models();
    let mut buf =
        vec![0u8; model::quantized_len::<Chain<QuantAffine<784, 50>, QuantAffine<50, 10>>>()];
    let n = model::encode_quantized(q, &mut buf).unwrap();
    let file = std::fs::read(INT8_MODEL).unwrap();
    assert!(
        buf[..n] == file[..],
        "{INT8_MODEL} is not the quantisation of {F32_MODEL}: regenerate it with \
         `cargo run --release --example quantize -- --model {F32_MODEL} --out DIR`"
    );
    // The file's layout: version 2, dtype int8, 12 tensors.
    assert_eq!(&file[..8], b"CNNM\x02\x00\x03\x0c");
    let loaded: Int8 = data::load_quantized(Path::new(INT8_MODEL)).unwrap();
    assert!(loaded == **q && EMBEDDED == **q);
}

#[test]
fn the_fixed_point_arithmetic_equals_the_reference() {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(7);
    let edges = [
        i32::MIN,
        i32::MIN + 1,
        -1 << 30,
        -3,
        -2,
        -1,
        0,
        1,
        2,
        3,
        1 << 30,
        i32::MAX,
    ];
    let mut values: Vec<i32> = edges.to_vec();
    values.extend((0..300).map(|_| rng.next_u32() as i32));
    values.extend((0..300).map(|_| (rng.next_u32() % 140_000) as i32 - 70_000));
    for &a in &values {
        for &b in edges.iter().chain(&values[..40]) {
            assert_eq!(
                saturating_rounding_doubling_high_mul(a, b),
                ref_high_mul(a, b),
                "{a}·{b}"
            );
        }
        for e in 0..=31 {
            assert_eq!(
                rounding_divide_by_pot(a, e),
                ref_divide_pot(a, e),
                "{a}/2^{e}"
            );
        }
        for shift in [-31, -12, -5, -1, 0, 1, 7, 30] {
            let m = (1 << 30) + (rng.next_u32() >> 2) as i32; // [2³⁰, 2³¹)
            assert_eq!(
                multiply_by_quantized_multiplier(a, m, shift),
                ref_requantize(i64::from(a), m, shift),
                "{a}·{m}·2^({shift}−31)"
            );
        }
    }
    // Ties: the high multiply rounds them upwards, the shift away from zero.
    assert_eq!(saturating_rounding_doubling_high_mul(1 << 30, 1), 1); // 0.5
    assert_eq!(saturating_rounding_doubling_high_mul(-1 << 30, 1), 0); // −0.5
    assert_eq!(
        (rounding_divide_by_pot(5, 1), rounding_divide_by_pot(-5, 1)),
        (3, -3)
    );
    assert_eq!(
        saturating_rounding_doubling_high_mul(i32::MIN, i32::MIN),
        i32::MAX
    );
    // Shifts out of range are taken as the nearer end, never a panic or a wrapped shift.
    for &a in &values[..50] {
        let m = 1_500_000_000;
        assert_eq!(
            multiply_by_quantized_multiplier(a, m, 40),
            multiply_by_quantized_multiplier(a, m, 30)
        );
        assert_eq!(
            multiply_by_quantized_multiplier(a, m, -40),
            multiply_by_quantized_multiplier(a, m, -31)
        );
        assert_eq!(rounding_divide_by_pot(a, 40), rounding_divide_by_pot(a, 31));
    }
    // A multiplier and its shift stand for the real one to within 2⁻³¹ relative.
    for m in [1e-9, 0.0003, 0.25, 0.5, 0.7, 1.0, 1.5, 3.0e8] {
        let (q, shift) = quantize_multiplier(m).unwrap();
        assert!((1 << 30..=i32::MAX).contains(&q), "{m}: {q}");
        let back = f64::from(q) * 2f64.powi(shift - 31);
        assert!(((back - m) / m).abs() <= 2f64.powi(-31), "{m}: {back}");
    }
    assert_eq!(quantize_multiplier(0.0), Some((0, 0)));
    assert_eq!(quantize_multiplier(1e-12), Some((0, 0)));
    assert_eq!(quantize_multiplier(2f64.powi(31)), None);
    assert_eq!(quantize_multiplier(-1.0), None);
    assert_eq!(quantize_multiplier(f64::NAN), None);
}

/// The int8 model's bytes with `f` applied and the CRC-32 made right again.
fn patched(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut b = std::fs::read(INT8_MODEL).unwrap();
    f(&mut b);
    let n = b.len() - 4;
    let crc = model::crc32(&b[..n]);
    b[n..].copy_from_slice(&crc.to_le_bytes());
    b
}

#[test]
fn bad_int8_model_files_are_refused_naming_the_problem() {
    let good = std::fs::read(INT8_MODEL).unwrap();
    let decode =
        |b: &[u8]| model::decode_quantized::<Chain<QuantAffine<784, 50>, QuantAffine<50, 10>>>(b);
    assert!(decode(&good).is_ok());
    // Records: 8-byte header, then (element, rank, dims) per tensor: W is 10 bytes, vectors 6.
    let data = 8 + 2 * (10 + 5 * 6);
    let (b1, m1, s1, z1, sc1) = (
        data + 784 * 50,
        data + 784 * 50 + 200,
        data + 784 * 50 + 400,
        data + 784 * 50 + 600,
        data + 784 * 50 + 612,
    );
    let _ = b1;
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            patched(|b| b[s1 + 4..s1 + 8].copy_from_slice(&31i32.to_le_bytes())),
            "tensor shift1 element 1: a requantisation shift is outside -31..=30",
        ),
        (
            patched(|b| b[m1..m1 + 4].copy_from_slice(&(-5i32).to_le_bytes())),
            "tensor multiplier1 element 0: a requantisation multiplier is negative",
        ),
        (
            patched(|b| b[z1 + 4..z1 + 8].copy_from_slice(&200i32.to_le_bytes())),
            "tensor zero_points1 element 1: a zero point is outside -128..=127",
        ),
        (
            patched(|b| b[z1 + 8..z1 + 12].copy_from_slice(&2i32.to_le_bytes())),
            "tensor zero_points1 element 2: the ReLU flag is neither 0 nor 1",
        ),
        (
            patched(|b| b[sc1..sc1 + 4].copy_from_slice(&(-1.0f32).to_le_bytes())),
            "tensor scales1 element 0: a scale is not positive and finite",
        ),
        (
            patched(|b| b[sc1 + 4..sc1 + 8].copy_from_slice(&f32::NAN.to_le_bytes())),
            "tensor scales1 element 1 is NaN or infinite",
        ),
        (
            // W1's element type byte says i32.
            patched(|b| b[8] = 4),
            "tensor W1 holds i32 (element type byte 4) in the file but the network's is i8",
        ),
    ];
    for (bytes, message) in cases {
        let e = decode(&bytes).unwrap_err();
        assert_eq!(e.to_string(), message);
    }
    // Read directly, too few bytes are an error, not a panic.
    let short = QuantAffine::<784, 50>::from_bytes(&good[data..data + 100]).unwrap_err();
    assert_eq!(short.problem, "fewer bytes than the layer's tensors take");
    let e = decode(&good[..good.len() - 1]).unwrap_err();
    assert!(matches!(e, ModelError::Truncated { .. }), "{e}");
    let mut flipped = good.clone();
    flipped[data + 5] ^= 1;
    assert!(matches!(decode(&flipped), Err(ModelError::Checksum { .. })));
    // A model of another shape, or the f32 model, is refused before any value is read.
    let e = model::decode_quantized::<Chain<QuantAffine<784, 40>, QuantAffine<40, 10>>>(&good)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "tensor W1 has shape (784, 50) in the file but the network needs (784, 40)"
    );
    let f32_file = std::fs::read(F32_MODEL).unwrap();
    assert_eq!(
        decode(&f32_file).unwrap_err().to_string(),
        "model file holds f32 (dtype byte 1) but the network is int8"
    );
    let mut net = Net::zeros();
    assert_eq!(
        model::decode_into(&good, &mut net.layers)
            .unwrap_err()
            .to_string(),
        "model file holds int8 (dtype byte 3) but the network is f32"
    );
    assert_eq!(model::file_dtype(&good), Some(3));
    assert_eq!(model::file_dtype(&f32_file), Some(1));
}

#[test]
fn quantize_refuses_what_it_cannot_quantise() {
    let (net, _) = models();
    let none: &[[f32; 784]] = &[];
    assert_eq!(
        quant::quantize(&**net, none).unwrap_err().to_string(),
        "no calibration inputs to take ranges from"
    );
    let mut rows = vec![[0.5f32; 784]; 3];
    rows[2][7] = f32::NAN;
    assert_eq!(
        quant::quantize(&**net, &rows).unwrap_err().to_string(),
        "calibration input 2 holds a NaN or infinite value"
    );
}

/// The fuzzer's int8 seed is a valid model of its network, so that fuzzing starts inside the
/// value checks rather than at the header.
#[test]
fn the_fuzzers_int8_seed_is_a_valid_model() {
    let seed = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fuzz/seeds/model_loader/valid_int8_6_4_3"
    ))
    .unwrap();
    let q = model::decode_quantized::<Chain<QuantAffine<6, 4>, QuantAffine<4, 3>>>(&seed).unwrap();
    assert!(q.layers.first.relu && !q.layers.rest.relu);
    assert_eq!(q.layers.rest.output.zero_point, 5);
}
