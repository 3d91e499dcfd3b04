//! The IDX reader on arbitrary bytes: it may refuse them, never panic; whatever it accepts
//! is self-consistent.
#![no_main]

use constnn::format::idx::{Images, LabeledImages, Labels};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte splits the input into an images file and a labels file.
    let (split, rest) = match data.split_first() {
        Some((s, r)) => (usize::from(*s) * rest_len_unit(r.len()), r),
        None => return,
    };
    let (images, labels) = rest.split_at(split.min(rest.len()));
    let imgs = Images::parse(images);
    let lbls = Labels::parse(labels, 10);
    if let Ok(imgs) = imgs {
        let per = imgs.pixels_per_image();
        assert_eq!(imgs.as_bytes().len(), imgs.len() * per);
        for i in 0..imgs.len().min(64) {
            assert_eq!(imgs.get(i).map(<[u8]>::len), Some(per));
        }
        assert!(imgs.get(imgs.len()).is_none());
        let _ = imgs.require_pixels(784);
    }
    if let Ok(lbls) = lbls {
        assert!(lbls.as_slice().iter().all(|l| *l < 10));
    }
    if let (Ok(i), Ok(l)) = (imgs, lbls)
        && let Ok(set) = LabeledImages::new(i, l)
    {
        assert_eq!(set.len(), l.len());
    }
});

fn rest_len_unit(len: usize) -> usize {
    len / 256 + 1
}
