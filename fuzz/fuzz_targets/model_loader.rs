//! The model loader on arbitrary bytes: it may refuse them, never panic, and it changes the
//! network only when it accepts the whole file — which then re-encodes to the same bytes.
//!
//! Random mutations almost never keep the CRC-32 right, so half the inputs (first byte odd)
//! get a correct CRC written over their last four bytes: that lets the fuzzer reach the
//! shape, length and value checks behind the checksum.
#![no_main]

use constnn::format::model;
use constnn::quant::{QuantAffine, QuantNet};
use constnn::{Chain, TwoLayerNet};
use libfuzzer_sys::fuzz_target;

type Net = TwoLayerNet<6, 4, 3>;
type Int8 = Chain<QuantAffine<6, 4>, QuantAffine<4, 3>>;

fn encode(net: &Net) -> Vec<u8> {
    let mut buf = vec![0u8; model::encoded_len(&net.layers)];
    model::encode(&net.layers, &mut buf).expect("buffer of encoded_len");
    buf
}

fuzz_target!(|input: &[u8]| {
    let Some((&mode, rest)) = input.split_first() else {
        return;
    };
    let mut data = rest.to_vec();
    if mode & 1 == 1 && data.len() >= 4 {
        let body = data.len() - 4;
        let crc = model::crc32(&data[..body]);
        data[body..].copy_from_slice(&crc.to_le_bytes());
    }
    let mut net = Net::zeros();
    let before = encode(&net);
    match model::decode_into(&data, &mut net.layers) {
        Ok(()) => assert_eq!(encode(&net), data, "an accepted file must round-trip"),
        Err(_) => assert_eq!(encode(&net), before, "a refused file must change nothing"),
    }
    let mut wide = TwoLayerNet::<6, 4, 3, f64>::zeros();
    let _ = model::decode_into(&data, &mut wide.layers);
    // An int8 network: an accepted file round-trips and runs on any input without a panic.
    if let Ok(q) = model::decode_quantized::<Int8>(&data) {
        let mut buf = vec![0u8; model::quantized_len::<Int8>()];
        let n = model::encode_quantized(&q, &mut buf).expect("buffer of quantized_len");
        assert_eq!(
            &buf[..n],
            &data[..],
            "an accepted int8 file must round-trip"
        );
        let x = core::array::from_fn(|i| data.get(i).map_or(0, |&b| b as i8));
        let _ = QuantNet::classify(&q, &x);
    }
});
