//! Hostile sizes are refused before anything is allocated for them (`constnn::data`).

use std::io::Write;

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("constnn-bounded-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn idx_header(dims: &[u32]) -> Vec<u8> {
    let mut v = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        v.extend_from_slice(&d.to_be_bytes());
    }
    v
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn a_gzipped_header_declaring_4_billion_images_is_refused_before_allocating() {
    let path = tmp("huge.gz");
    let mut bytes = idx_header(&[4_000_000_000, 28, 28]);
    bytes.extend_from_slice(&[0; 784]);
    std::fs::write(&path, gz(&bytes)).unwrap();
    let e = constnn::data::read_idx(&path).unwrap_err();
    // 3.1 TB declared: refused from the header, with the bound it broke.
    assert!(
        matches!(
            e,
            constnn::data::DataError::TooLarge {
                declared: 3_136_000_000_016,
                ..
            }
        ),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("huge.gz: its header declares 3136000000016 bytes")
    );
}

#[test]
fn a_plain_file_is_read_no_further_than_its_own_size() {
    let path = tmp("lying.idx");
    let mut bytes = idx_header(&[4_000_000_000, 28, 28]);
    bytes.extend_from_slice(&[0; 784]);
    std::fs::write(&path, &bytes).unwrap();
    let read = constnn::data::read_idx(&path).unwrap();
    assert_eq!(read.len(), bytes.len());
    let e = constnn::format::idx::Images::parse(&read).unwrap_err();
    assert_eq!(
        e,
        constnn::format::idx::IdxError::LengthMismatch {
            declared: 3_136_000_000_000,
            found: 784
        }
    );
}

#[test]
fn dimensions_whose_product_overflows_are_refused_from_the_header_alone() {
    let path = tmp("overflow.gz");
    std::fs::write(&path, gz(&idx_header(&[u32::MAX, u32::MAX, u32::MAX]))).unwrap();
    let read = constnn::data::read_idx(&path).unwrap();
    assert_eq!(read.len(), 16, "only the header is read");
    let e = constnn::format::idx::Images::parse(&read).unwrap_err();
    assert_eq!(e, constnn::format::idx::IdxError::SizeOverflow);
}

/// The file is 64 GiB long (sparse on disk: it takes no space), more than the machine's memory:
/// a loader that read it, whole or up to its size, could not finish; one that read only as far
/// as the network needs would load it. Refused from its size alone.
#[test]
fn a_model_file_longer_than_the_network_needs_is_read_no_further() {
    let path = tmp("long.cnnm");
    let net = constnn::TwoLayerNet::<6, 4, 3>::zeros();
    let mut bytes = vec![0u8; constnn::format::model::encoded_len(&net.layers)];
    constnn::format::model::encode(&net.layers, &mut bytes).unwrap();
    let expected = bytes.len();
    let found = expected + (64 << 30);
    let file = std::fs::File::create(&path).unwrap();
    (&file).write_all(&bytes).unwrap();
    file.set_len(found as u64).unwrap();
    drop(file);
    let mut target = constnn::TwoLayerNet::<6, 4, 3>::zeros();
    let e = constnn::data::load_model(&mut target.layers, &path).unwrap_err();
    assert!(
        e.to_string().contains(&format!(
            "has {found} bytes but its header describes {expected}"
        )),
        "{e}"
    );
    std::fs::remove_file(&path).unwrap();
}

/// Valid headers with a count of 0: refused when the set is read, naming both files, before a
/// trainer could draw a batch from it.
#[test]
fn an_empty_set_is_refused_naming_both_files() {
    let (images, labels) = (tmp("empty-images"), tmp("empty-labels"));
    std::fs::write(&images, idx_header(&[0, 28, 28])).unwrap();
    std::fs::write(&labels, gz(&idx_header(&[0]))).unwrap();
    let e = constnn::data::load_split::<784>(&images, &labels, 10).unwrap_err();
    assert!(
        matches!(
            e,
            constnn::data::DataError::Pair {
                source: constnn::format::idx::IdxError::Empty,
                ..
            }
        ),
        "{e}"
    );
    let message = e.to_string();
    assert!(message.contains("empty-images and ") && message.contains("hold no images"));
}
