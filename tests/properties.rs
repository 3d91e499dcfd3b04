//! Property tests of the parsers: arbitrary bytes never panic, every valid encoding round-trips,
//! and every truncation of a valid file is refused.

use constnn::TwoLayerNet;
use constnn::format::idx::{Images, Labels};
use constnn::format::model::{self, ModelError};
use proptest::prelude::*;

type Net = TwoLayerNet<5, 3, 2>;

fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        v.extend_from_slice(&d.to_be_bytes());
    }
    v.extend_from_slice(data);
    v
}

/// Images files: (count, rows, cols, pixels) with a small total.
fn images_file() -> impl Strategy<Value = (u32, u32, u32, Vec<u8>)> {
    (0u32..6, 1u32..5, 1u32..5).prop_flat_map(|(n, r, c)| {
        let len = (n * r * c) as usize;
        (
            Just(n),
            Just(r),
            Just(c),
            proptest::collection::vec(any::<u8>(), len),
        )
    })
}

/// A network of random finite weights.
fn network() -> impl Strategy<Value = Net> {
    proptest::collection::vec(-1e6f32..1e6, 5 * 3 + 3 + 3 * 2 + 2).prop_map(|v| {
        let mut net = Net::zeros();
        let mut it = v.into_iter();
        constnn::Layer::for_each_tensor_mut(&mut net.layers, |_, _, values| {
            for x in values {
                *x = it.next().unwrap();
            }
        });
        net
    })
}

fn encode(net: &Net) -> Vec<u8> {
    let mut buf = vec![0u8; model::encoded_len(&net.layers)];
    model::encode(&net.layers, &mut buf).unwrap();
    buf
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn idx_parsers_never_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = Images::parse(&bytes);
        let _ = Labels::parse(&bytes, 10);
    }

    #[test]
    fn idx_parsers_never_panic_on_arbitrary_headers(dims in proptest::collection::vec(any::<u32>(), 0..5), rank in any::<u8>(), tail in proptest::collection::vec(any::<u8>(), 0..32)) {
        let mut bytes = idx(&dims, &tail);
        bytes[3] = rank;
        let _ = Images::parse(&bytes);
        let _ = Labels::parse(&bytes, 10);
    }

    #[test]
    fn every_valid_images_file_round_trips((n, r, c, pixels) in images_file()) {
        let bytes = idx(&[n, r, c], &pixels);
        let images = Images::parse(&bytes).unwrap();
        prop_assert_eq!(images.len(), n as usize);
        prop_assert_eq!(images.dims(), (r as usize, c as usize));
        prop_assert_eq!(images.as_bytes(), &pixels[..]);
        for i in 0..n as usize {
            let per = (r * c) as usize;
            prop_assert_eq!(images.get(i).unwrap(), &pixels[i * per..(i + 1) * per]);
        }
    }

    #[test]
    fn every_valid_labels_file_round_trips(labels in proptest::collection::vec(0u8..10, 0..40)) {
        let bytes = idx(&[labels.len() as u32], &labels);
        prop_assert_eq!(Labels::parse(&bytes, 10).unwrap().as_slice(), &labels[..]);
    }

    #[test]
    fn every_truncation_of_a_valid_idx_file_is_refused((n, r, c, pixels) in images_file()) {
        let bytes = idx(&[n, r, c], &pixels);
        for len in 0..bytes.len() {
            prop_assert!(Images::parse(&bytes[..len]).is_err(), "length {}", len);
        }
    }

    #[test]
    fn the_model_loader_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut net = Net::zeros();
        let _ = model::decode_into(&bytes, &mut net.layers);
    }

    #[test]
    fn the_model_loader_never_panics_on_damaged_models(net in network(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut bytes = encode(&net);
        let i = at.index(bytes.len());
        bytes[i] = byte;
        let mut target = Net::zeros();
        if model::decode_into(&bytes, &mut target.layers).is_ok() {
            // Only a byte written back unchanged can leave the file valid.
            prop_assert_eq!(bytes, encode(&net));
        }
    }

    #[test]
    fn every_model_round_trips_bit_exactly(net in network()) {
        let bytes = encode(&net);
        let mut back = Net::zeros();
        model::decode_into(&bytes, &mut back.layers).unwrap();
        prop_assert_eq!(encode(&back), bytes);
        prop_assert_eq!(back.w1(), net.w1());
    }

    #[test]
    fn every_truncation_of_a_model_is_refused(net in network()) {
        let bytes = encode(&net);
        let mut target = Net::zeros();
        for len in 0..bytes.len() {
            let e = model::decode_into(&bytes[..len], &mut target.layers).unwrap_err();
            let truncated = matches!(e, ModelError::Truncated { .. });
            prop_assert!(truncated, "length {}: {:?}", len, e);
        }
        let zeros = Net::zeros();
        prop_assert_eq!(target.w1(), zeros.w1());
    }
}
