//! The IDX reader on the real MNIST files and on every kind of malformed input.

use crate::examples_common as common;

use constnn::format::idx::{IdxError, Images, LabeledImages, Labels};
use std::path::Path;

fn data(name: &str) -> Vec<u8> {
    common::read_idx_file(&Path::new(common::DEFAULT_DATA_DIR).join(format!("{name}.gz"))).unwrap()
}

/// An IDX file of unsigned bytes with these dimensions and data.
fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        v.extend_from_slice(&d.to_be_bytes());
    }
    v.extend_from_slice(data);
    v
}

#[test]
fn first_training_label_is_5_and_first_test_label_is_7() {
    let train = data("train-labels-idx1-ubyte");
    let test = data("t10k-labels-idx1-ubyte");
    assert_eq!(Labels::parse(&train, 10).unwrap().get(0), Some(5));
    assert_eq!(Labels::parse(&test, 10).unwrap().get(0), Some(7));
}

#[test]
fn label_histograms_match_the_published_counts() {
    let count = |bytes: &[u8]| {
        let mut h = [0usize; 10];
        for &l in Labels::parse(bytes, 10).unwrap().as_slice() {
            h[usize::from(l)] += 1;
        }
        h
    };
    assert_eq!(
        count(&data("train-labels-idx1-ubyte")),
        [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    );
    assert_eq!(
        count(&data("t10k-labels-idx1-ubyte")),
        [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    );
}

#[test]
fn the_image_files_are_60000_and_10000_images_of_28x28_paired_with_labels() {
    let (ti, tl) = (
        data("train-images-idx3-ubyte"),
        data("train-labels-idx1-ubyte"),
    );
    let train =
        LabeledImages::new(Images::parse(&ti).unwrap(), Labels::parse(&tl, 10).unwrap()).unwrap();
    assert_eq!(train.len(), 60_000);
    assert_eq!(train.images().dims(), (28, 28));
    train.images().require_pixels(784).unwrap();
    // The first image (a 5) has ink near its centre and none in the corner.
    let (img, label) = train.get(0).unwrap();
    assert_eq!(label, 5);
    assert_eq!(img[0], 0);
    assert!(img.iter().filter(|p| **p > 128).count() > 100);
    assert!(train.get(60_000).is_none());
    let test = data("t10k-images-idx3-ubyte");
    assert_eq!(Images::parse(&test).unwrap().len(), 10_000);
}

#[test]
fn wrong_magic_is_refused() {
    let mut f = idx(&[1], &[3]);
    f[1] = 0x42;
    assert_eq!(
        Labels::parse(&f, 10),
        Err(IdxError::BadMagic { found: [0, 0x42] })
    );
}

#[test]
fn a_non_byte_element_type_is_refused() {
    let mut f = idx(&[1], &[3]);
    f[2] = 0x0D; // float
    assert_eq!(
        Labels::parse(&f, 10),
        Err(IdxError::UnsupportedType { found: 0x0D })
    );
}

#[test]
fn a_labels_file_given_as_images_is_refused_by_its_rank() {
    let f = idx(&[2], &[3, 4]);
    assert_eq!(
        Images::parse(&f),
        Err(IdxError::WrongRank {
            expected: 3,
            found: 1
        })
    );
}

#[test]
fn a_truncated_header_is_refused() {
    let f = idx(&[2, 28, 28], &[]);
    for len in 0..16 {
        let e = Images::parse(&f[..len]).unwrap_err();
        assert!(
            matches!(e, IdxError::TooShort { needed: 16, found } if found == len),
            "{len}: {e:?}"
        );
    }
}

#[test]
fn truncated_data_and_trailing_bytes_are_refused() {
    let full = idx(&[2, 2, 2], &[1, 2, 3, 4, 5, 6, 7, 8]);
    assert!(Images::parse(&full).is_ok());
    assert_eq!(
        Images::parse(&full[..full.len() - 1]),
        Err(IdxError::LengthMismatch {
            declared: 8,
            found: 7
        })
    );
    let mut long = full.clone();
    long.push(0);
    assert_eq!(
        Images::parse(&long),
        Err(IdxError::LengthMismatch {
            declared: 8,
            found: 9
        })
    );
}

#[test]
fn declared_counts_that_do_not_match_the_bytes_are_refused() {
    // Claims four billion images but holds one.
    let f = idx(&[4_000_000_000, 28, 28], &[0; 784]);
    let e = Images::parse(&f).unwrap_err();
    assert!(
        matches!(
            e,
            IdxError::LengthMismatch { found: 784, .. } | IdxError::SizeOverflow
        ),
        "{e:?}"
    );
}

#[test]
fn dimensions_whose_product_overflows_are_refused() {
    let f = idx(&[u32::MAX, u32::MAX, u32::MAX], &[]);
    let e = Images::parse(&f).unwrap_err();
    if usize::BITS == 64 {
        assert_eq!(e, IdxError::SizeOverflow);
    }
}

#[test]
fn a_set_of_no_images_is_refused_as_empty() {
    let images = idx(&[0, 28, 28], &[]);
    let labels = idx(&[0], &[]);
    let (i, l) = (
        Images::parse(&images).unwrap(),
        Labels::parse(&labels, 10).unwrap(),
    );
    assert_eq!((i.len(), l.len()), (0, 0), "valid, empty files");
    let e = LabeledImages::new(i, l).unwrap_err();
    assert_eq!(e, IdxError::Empty);
    assert!(e.to_string().contains("no images"), "{e}");
}

#[test]
fn images_and_labels_with_different_counts_are_refused() {
    let images = idx(&[2, 1, 1], &[0, 255]);
    let labels = idx(&[3], &[1, 2, 3]);
    let e = LabeledImages::new(
        Images::parse(&images).unwrap(),
        Labels::parse(&labels, 10).unwrap(),
    );
    assert_eq!(
        e,
        Err(IdxError::CountMismatch {
            images: 2,
            labels: 3
        })
    );
}

#[test]
fn a_label_above_9_is_refused_with_its_index() {
    let labels = idx(&[4], &[1, 9, 10, 2]);
    let e = Labels::parse(&labels, 10).unwrap_err();
    assert_eq!(
        e,
        IdxError::LabelOutOfRange {
            index: 2,
            label: 10,
            classes: 10
        }
    );
    assert_eq!(
        e.to_string(),
        "label 10 at index 2 is out of range (expected 0..=9)"
    );
}

#[test]
fn images_that_are_not_28x28_are_refused_for_a_784_input_network() {
    let images = idx(&[1, 32, 32], &[0; 1024]);
    let imgs = Images::parse(&images).unwrap();
    let e = imgs.require_pixels(784).unwrap_err();
    assert_eq!(
        e,
        IdxError::ImageSize {
            rows: 32,
            cols: 32,
            expected: 784
        }
    );
    assert_eq!(
        e.to_string(),
        "images are 32×32 = 1024 pixels but the network takes 784"
    );
}

#[test]
fn the_reader_borrows_the_pixels_without_copying() {
    let images = idx(&[2, 1, 2], &[7, 8, 9, 10]);
    let imgs = Images::parse(&images).unwrap();
    let second = imgs.get(1).unwrap();
    assert_eq!(second, &[9, 10]);
    assert!(std::ptr::eq(second.as_ptr(), images[18..].as_ptr()));
}

#[test]
fn a_data_directory_that_is_missing_or_a_file_or_lacks_a_file_is_named_as_such() {
    use constnn::data::{DataError, load_mnist};
    use std::io::ErrorKind;
    let dir = std::env::temp_dir().join(format!("constnn-find-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("README.md");
    std::fs::write(&file, b"not MNIST").unwrap();
    let cases = [
        (
            dir.join("nowhere"),
            dir.join("nowhere"),
            ErrorKind::NotFound,
            "no such directory",
        ),
        (
            file.clone(),
            file.clone(),
            ErrorKind::NotADirectory,
            "not a directory",
        ),
        (
            dir.clone(),
            dir.join("train-images-idx3-ubyte.gz"),
            ErrorKind::NotFound,
            "no such file",
        ),
    ];
    for (given, named, kind, says) in cases {
        let e = load_mnist(&given).unwrap_err();
        let DataError::Io { path, source, hint } = &e else {
            panic!("{given:?}: {e:?}")
        };
        assert_eq!((path, source.kind()), (&named, kind), "{given:?}");
        let message = e.to_string();
        assert!(
            message.starts_with(&format!("{}: {says} (", named.display())),
            "{message}"
        );
        // The library's advice names no program's options.
        let hint = hint.as_deref().unwrap();
        assert!(
            hint.contains("train-images-idx3-ubyte") && !hint.contains("--data"),
            "{hint}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
