//! The model file: bit-exact round trips, and refusal of every kind of wrong or damaged file.

use constnn::TwoLayerNet;
use constnn::format::model::{self, ModelError};
use constnn::matrix::Heap;
use constnn::params::{ParamId, Shape};
use rand_core::SeedableRng;

type Small = TwoLayerNet<6, 4, 3>;

fn small(seed: u64) -> Small {
    Small::new(0.5, &mut rand_pcg::Pcg64::seed_from_u64(seed))
}

fn encoded(net: &Small) -> Vec<u8> {
    let mut buf = vec![0u8; model::encoded_len(&net.layers)];
    let n = model::encode(&net.layers, &mut buf).unwrap();
    assert_eq!(n, buf.len());
    buf
}

fn tmpdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("constnn-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn the_file_layout_is_as_documented() {
    let bytes = encoded(&small(1));
    // magic, version 1, dtype f32, 4 tensors; W1 (6, 4), b1 (4), W2 (4, 3), b2 (3).
    assert_eq!(&bytes[..8], b"CNNM\x01\x00\x01\x04");
    assert_eq!(&bytes[8..17], &[2, 6, 0, 0, 0, 4, 0, 0, 0]);
    assert_eq!(&bytes[17..22], &[1, 4, 0, 0, 0]);
    let params = 6 * 4 + 4 + 4 * 3 + 3;
    assert_eq!(bytes.len(), 8 + 9 + 5 + 9 + 5 + 4 * params + 4);
    let crc = u32::from_le_bytes(bytes[bytes.len() - 4..].try_into().unwrap());
    assert_eq!(crc, model::crc32(&bytes[..bytes.len() - 4]));
    // The CRC is the standard one (zlib's check value for "123456789").
    assert_eq!(model::crc32(b"123456789"), 0xCBF4_3926);
}

#[test]
fn save_and_load_round_trip_bit_exactly_through_a_file() {
    let dir = tmpdir("roundtrip");
    let path = dir.join("model.cnnm");
    let mut rng = rand_pcg::Pcg64::seed_from_u64(5);
    let net = TwoLayerNet::<784, 50, 10, f32, Heap>::new(0.01, &mut rng);
    constnn::data::save_model(&net.layers, &path).unwrap();
    let mut back = TwoLayerNet::<784, 50, 10, f32, Heap>::zeros();
    constnn::data::load_model(&mut back.layers, &path).unwrap();
    let bits = |n: &TwoLayerNet<784, 50, 10, f32, Heap>| -> Vec<u32> {
        let mut v: Vec<u32> = n.w1().as_flattened().iter().map(|x| x.to_bits()).collect();
        v.extend(
            n.b1()
                .iter()
                .chain(n.w2().as_flattened())
                .chain(n.b2())
                .map(|x| x.to_bits()),
        );
        v
    };
    assert_eq!(bits(&net), bits(&back));
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 159_080);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn f64_models_round_trip_and_are_refused_by_an_f32_network() {
    let net = TwoLayerNet::<6, 4, 3, f64>::new(0.5, &mut rand_pcg::Pcg64::seed_from_u64(2));
    let mut buf = vec![0u8; model::encoded_len(&net.layers)];
    model::encode(&net.layers, &mut buf).unwrap();
    let mut back = TwoLayerNet::<6, 4, 3, f64>::zeros();
    model::decode_into(&buf, &mut back.layers).unwrap();
    assert_eq!(back.w1(), net.w1());
    assert_eq!(back.b2(), net.b2());
    let e = model::decode_into(&buf, &mut small(0).layers).unwrap_err();
    assert_eq!(
        e,
        ModelError::DtypeMismatch {
            expected: "f32",
            found: 2
        }
    );
}

#[test]
fn validate_refuses_a_dtype_the_format_does_not_have_before_reading_values() {
    let net = small(4);
    let bytes = encoded(&net);
    fn shapes_of<L: constnn::Layer>(_: &L) -> constnn::params::ParamList {
        constnn::layers::param_list::<L>()
    }
    let shapes = shapes_of(&net.layers);
    assert!(model::validate(&bytes, &shapes, 1).is_ok());
    for code in [0u8, 4, 255] {
        let e = model::validate(&bytes, &shapes, code).unwrap_err();
        assert_eq!(e, ModelError::UnknownDtype { code });
        assert!(e.to_string().contains("none the model format has"), "{e}");
    }
}

#[test]
fn a_model_of_another_shape_is_refused_naming_the_tensor() {
    let bytes = encoded(&small(1));
    let mut other = TwoLayerNet::<6, 5, 3>::zeros();
    let e = model::decode_into(&bytes, &mut other.layers).unwrap_err();
    assert_eq!(
        e,
        ModelError::ShapeMismatch {
            tensor: ParamId {
                name: "W",
                index: 1
            },
            expected: Shape::Matrix(6, 5),
            found: Shape::Matrix(6, 4),
        }
    );
    let mut more_classes = TwoLayerNet::<6, 4, 4>::zeros();
    let e = model::decode_into(&bytes, &mut more_classes.layers).unwrap_err();
    assert_eq!(
        e.to_string(),
        "tensor W2 has shape (4, 3) in the file but the network needs (4, 4)"
    );
}

#[test]
fn every_truncation_is_refused_and_leaves_the_network_untouched() {
    let bytes = encoded(&small(1));
    let mut target = small(9);
    let before = encoded(&target);
    for len in 0..bytes.len() {
        let e = model::decode_into(&bytes[..len], &mut target.layers).unwrap_err();
        assert!(
            matches!(e, ModelError::Truncated { found, .. } if found == len),
            "length {len}: {e:?}"
        );
    }
    assert_eq!(encoded(&target), before);
}

#[test]
fn wrong_magic_version_and_trailing_bytes_are_refused() {
    let good = encoded(&small(1));
    let mut t = small(0);
    let mut b = good.clone();
    b[0] = b'X';
    assert!(matches!(
        model::decode_into(&b, &mut t.layers),
        Err(ModelError::BadMagic { .. })
    ));
    let mut b = good.clone();
    b[4] = 3;
    assert_eq!(
        model::decode_into(&b, &mut t.layers),
        Err(ModelError::UnsupportedVersion { found: 3 })
    );
    // Version 2 records start with an element type: a version 1 file relabelled 2 reads its
    // first rank byte (2, for W1's matrix) as W1's element type, f64.
    let mut b = good.clone();
    b[4] = 2;
    let e = model::decode_into(&b, &mut t.layers).unwrap_err();
    assert!(
        matches!(e, ModelError::ElementMismatch { found: 2, .. }),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "tensor W1 holds f64 (element type byte 2) in the file but the network's is f32"
    );
    let mut b = good.clone();
    b.push(0);
    assert_eq!(
        model::decode_into(&b, &mut t.layers),
        Err(ModelError::TrailingBytes {
            expected: good.len(),
            found: good.len() + 1
        })
    );
}

#[test]
fn a_flipped_bit_in_the_weights_is_caught_by_the_checksum() {
    let good = encoded(&small(1));
    let mut t = small(0);
    for at in [40, good.len() / 2, good.len() - 5] {
        let mut b = good.clone();
        b[at] ^= 0x10;
        let e = model::decode_into(&b, &mut t.layers).unwrap_err();
        assert!(matches!(e, ModelError::Checksum { .. }), "byte {at}: {e:?}");
    }
}

#[test]
fn a_nan_weight_is_refused_even_with_a_valid_checksum() {
    let mut net = small(1);
    net.layers.rest.rest.b[2] = f32::NAN;
    let bytes = encoded(&net);
    let e = model::decode_into(&bytes, &mut small(0).layers).unwrap_err();
    assert_eq!(
        e,
        ModelError::NonFinite {
            tensor: ParamId {
                name: "b",
                index: 2
            },
            index: 2
        }
    );
}

#[test]
fn a_failed_write_leaves_the_previous_file_intact_and_no_temporary() {
    let dir = tmpdir("atomic");
    let path = dir.join("model.cnnm");
    constnn::data::save_model(&small(1).layers, &path).unwrap();
    let before = std::fs::read(&path).unwrap();
    // The writer fails half-way through, as a full disk or a crash would.
    let r = constnn::data::write_atomic(&path, |f| {
        std::io::Write::write_all(f, &before[..before.len() / 2])?;
        Err(std::io::Error::other("simulated failure mid-write"))
    });
    assert!(
        r.unwrap_err()
            .to_string()
            .contains("simulated failure mid-write")
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["model.cnnm"]);
    std::fs::remove_dir_all(dir).unwrap();
}
