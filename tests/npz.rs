//! Parameters that travel to and from NumPy: `.npz` files with the book's names, read from a
//! file NumPy wrote (checked in), round-tripped here bit for bit, round-tripped through NumPy
//! itself when it is installed, and every kind of bad file refused with the array named and the
//! network untouched.

use crate::common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use constnn::data::{self, NpzProblem};
use constnn::init::WeightInit;
use constnn::layers::{Affine, BatchNorm, Relu};
use constnn::matrix::Inline;
use constnn::{Chain, MultiLayerNetExtend, Network, Sgd, TwoLayerNet, chain};

/// The book's `MultiLayerNetExtend(4, [5], 3, use_batchnorm=True)`.
type BookNet<T> = Chain![Affine<T, 4, 5>, BatchNorm<T, 5>, Relu<T, 5>, Affine<T, 5, 3>];

fn book_net<T: constnn::Float>() -> Network<BookNet<T>> {
    Network::from_layers(chain![
        Affine::default(),
        BatchNorm::default(),
        Relu::default(),
        Affine::default(),
    ])
}

/// The file `tests/data/make_book_params.py` wrote with `np.savez_compressed`.
const BOOK_FILE: &str = "tests/data/book_params.npz";

/// The inputs of `make_book_params.py` and the scores it printed (NumPy, float64).
const X: [[f64; 4]; 3] = [
    [0.5, -1.0, 0.25, 2.0],
    [1.0, 1.0, 1.0, 1.0],
    [2.0, -0.5, 0.0, 0.3],
];
const BOOK_SCORES: [[f64; 3]; 3] = [
    [11.284133163499387, 11.079679764789038, 0.7070077946580597],
    [6.295757459439984, 6.6184591337695915, 0.8745679108648129],
    [0.8861595892073441, 0.9621869637930712, 0.17197198898525173],
];

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("constnn-npz-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Checks the values the formulas of `make_book_params.py` give, as `T` rounds them.
fn assert_book_values<T: constnn::Float>(net: &Network<BookNet<T>>) {
    let all = common::tensors(&net.layers);
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "W1",
            "b1",
            "gamma1",
            "beta1",
            "running_mean1",
            "running_var1",
            "W2",
            "b2"
        ]
    );
    let to = |v: f64| T::from_f64(v);
    // W1 = arange(20).reshape(4, 5) / 7 − 1.3: the same IEEE operations here, so equal exactly.
    let w1: Vec<T> = (0..20).map(|k| to(k as f64 / 7.0 - 1.3)).collect();
    assert_eq!(all[0].1, w1);
    assert_eq!(all[1].1, [0.1, -0.2, 0.3, -0.4, 0.5].map(to));
    assert_eq!(all[4].1, [0.5, -0.25, 0.125, 1.0, -1.0].map(to));
    assert_eq!(all[5].1, [1.0, 2.0, 0.5, 4.0, 0.25].map(to));
    // W2 = cos(arange(15)).reshape(5, 3), stored in Fortran order: element (i, j) must be
    // cos(3i + j) (to the last bit or two of two libms), not its transpose's.
    for (k, v) in all[6].1.iter().enumerate() {
        let want = (k as f64).cos();
        let tolerance = if T::BYTES == 4 {
            f64::from(f32::EPSILON)
        } else {
            1e-15
        };
        assert!(
            (v.to_f64() - want).abs() <= want.abs() * tolerance,
            "W2 value {k}: {v:?}, cos({k}) = {want}"
        );
    }
}

/// A file NumPy wrote (compressed, float64, one array in Fortran order) loads by the book's
/// names into f64 and f32 networks, and the f64 network's inference-mode scores are NumPy's.
#[test]
fn a_numpy_written_file_loads_with_the_books_names_and_scores() {
    let mut net = book_net::<f64>();
    data::load_npz(&mut net.layers, Path::new(BOOK_FILE)).unwrap();
    assert_book_values(&net);
    let mut scores = [[0.0; 3]; 3];
    net.predict(&X, &mut scores);
    for (row, book) in scores.iter().zip(&BOOK_SCORES) {
        for (s, b) in row.iter().zip(book) {
            assert!(common::rel_err(*s, *b) < 1e-13, "{s} vs NumPy's {b}");
        }
    }

    let mut net32 = book_net::<f32>();
    data::load_npz(&mut net32.layers, Path::new(BOOK_FILE)).unwrap();
    assert_book_values(&net32);

    // The same file into the network without BatchNorm: its arrays are ignored.
    let mut plain = Network::from_layers(chain![
        Affine::<f64, 4, 5>::default(),
        Relu::default(),
        Affine::<f64, 5, 3>::default(),
    ]);
    data::load_npz(&mut plain.layers, Path::new(BOOK_FILE)).unwrap();
    let book = common::tensors(&net.layers);
    let ids: Vec<_> = common::tensors(&plain.layers)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(ids, ["W1", "b1", "W2", "b2"]);
    assert_eq!(common::tensors(&plain.layers)[2], book[6]);
}

/// A trained network (BatchNorm's running averages moved away from their start) saved and
/// loaded again has every tensor back bit for bit, in f32 and f64; saving is deterministic.
#[test]
fn a_trained_network_round_trips_bit_for_bit() {
    fn round_trip<T: constnn::Float>(name: &str) {
        type Net<T> = MultiLayerNetExtend![T, Inline; 6, 7, 5, 3; batch_norm];
        let mut net = Net::<T>::default();
        let mut rng = common::rng(3);
        net.init_weights(WeightInit::He, || common::uniform(&mut rng, -1.0, 1.0));
        let x: [[f64; 6]; 4] = common::random_matrix(&mut rng, -1.0, 1.0, 0.0);
        let x = x.map(|r| r.map(T::from_f64));
        let mut sgd = Sgd::new(T::from_f64(0.1));
        for _ in 0..5 {
            net.train_step(&x, &[0u8, 1, 2, 1], &mut sgd).unwrap();
        }
        let dir = temp_dir(name);
        let (a, b) = (dir.join("a.npz"), dir.join("b.npz"));
        data::save_npz(&net.layers, &a).unwrap();
        let mut back = Net::<T>::default();
        data::load_npz(&mut back.layers, &a).unwrap();
        let (before, after) = (common::tensors(&net.layers), common::tensors(&back.layers));
        assert_eq!(before.len(), 14); // (W, b, gamma, beta, running_mean, running_var) ×2, W3, b3
        assert!(
            before
                .iter()
                .any(|(n, v)| n == "running_mean2" && v.iter().any(|v| *v != T::ZERO))
        );
        for ((n, v), (m, w)) in before.iter().zip(&after) {
            assert_eq!(n, m);
            let bits = |v: &[T]| v.iter().map(|x| x.to_f64().to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(v), bits(w), "{n}");
        }
        data::save_npz(&back.layers, &b).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        std::fs::remove_dir_all(dir).unwrap();
    }
    round_trip::<f32>("f32");
    round_trip::<f64>("f64");
}

/// Through NumPy itself, when it is installed: it reads what `save_npz` writes as the book's
/// `params` dict (names, dtype, shapes) and computes the book's scores from it; what it writes
/// back with `np.savez` loads here. Without NumPy the checked-in file above is the evidence.
#[test]
fn numpy_reads_what_is_written_here_and_writes_what_loads_here() {
    let numpy = Command::new("python3")
        .args(["-c", "import numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !numpy {
        eprintln!("NumPy is not installed: the round trip through it is skipped");
        return;
    }
    let dir = temp_dir("numpy");
    let mut net = book_net::<f64>();
    data::load_npz(&mut net.layers, Path::new(BOOK_FILE)).unwrap();
    let ours = dir.join("ours.npz");
    data::save_npz(&net.layers, &ours).unwrap();
    let mut net32 = book_net::<f32>();
    data::load_npz(&mut net32.layers, Path::new(BOOK_FILE)).unwrap();
    let ours32 = dir.join("ours32.npz");
    data::save_npz(&net32.layers, &ours32).unwrap();
    let theirs = dir.join("theirs.npz");
    let script = format!(
        r#"
import sys
import numpy as np
sys.path.insert(0, "tests/data")
from make_book_params import scores
params = dict(np.load({ours:?}))
names = ["W1", "b1", "gamma1", "beta1", "running_mean1", "running_var1", "W2", "b2"]
assert sorted(params) == sorted(names), sorted(params)
assert all(params[n].dtype == np.float64 for n in names)
assert params["W1"].shape == (4, 5) and params["b1"].shape == (5,) and params["W2"].shape == (5, 3)
p32 = dict(np.load({ours32:?}))
assert all(p32[n].dtype == np.float32 for n in names)
assert np.array_equal(p32["W2"], params["W2"].astype(np.float32))
x = np.array({x:?})
for row in scores(params, x):
    print(" ".join(repr(float(v)) for v in row))
params["W1"] = params["W1"] * 2
params["running_var1"] = params["running_var1"] + 1
np.savez({theirs:?}, **params)
"#,
        ours = ours.to_str().unwrap(),
        ours32 = ours32.to_str().unwrap(),
        theirs = theirs.to_str().unwrap(),
        x = X,
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Vec<f64> = String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(
        printed,
        BOOK_SCORES.as_flattened(),
        "NumPy's scores from our file"
    );

    let before = common::tensors(&net.layers);
    data::load_npz(&mut net.layers, &theirs).unwrap();
    let after = common::tensors(&net.layers);
    for ((n, old), (_, new)) in before.iter().zip(&after) {
        let want: Vec<f64> = match n.as_str() {
            "W1" => old.iter().map(|v| v * 2.0).collect(),
            "running_var1" => old.iter().map(|v| v + 1.0).collect(),
            _ => old.clone(),
        };
        assert_eq!(new, &want, "{n}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// An `.npz` file of the given arrays, each stored as the given bytes (a `.npy` or not).
fn npz_of(path: &Path, entries: &[(&str, Vec<u8>)]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, bytes) in entries {
        zip.start_file(
            format!("{name}.npy"),
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
}

/// A `.npy` array: header dict text, then the value bytes.
fn npy(dict: &str, values: &[u8]) -> Vec<u8> {
    let mut header = dict.to_owned();
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(values);
    bytes
}

fn f64s(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// The header NumPy writes for a float64 array of `shape` in C order.
fn f8(shape: &str) -> String {
    format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}")
}

/// Every bad file is refused with the array and the problem named, and the network keeps its
/// values: nothing is loaded unless everything is valid.
#[test]
fn bad_files_are_refused_naming_the_array_and_the_network_is_untouched() {
    let dir = temp_dir("bad");
    // A TwoLayerNet<2, 3, 2> file whose W1, b1, b2 are valid and whose W2 is `w2` (none: absent).
    let file = |name: &str, w2: Option<Vec<u8>>| {
        let path = dir.join(format!("{name}.npz"));
        let mut entries = vec![
            ("W1", npy(&f8("(2, 3)"), &f64s(&[1.0; 6]))),
            ("b1", npy(&f8("(3,)"), &f64s(&[1.0; 3]))),
            ("b2", npy(&f8("(2,)"), &f64s(&[1.0; 2]))),
        ];
        entries.extend(w2.map(|bytes| ("W2", bytes)));
        npz_of(&path, &entries);
        path
    };
    let w2 = |dict: &str, values: &[f64]| Some(npy(dict, &f64s(values)));
    let ones = [1.0; 6];
    let cases = [
        (
            "missing",
            None,
            "the network has it and the file has no such array",
        ),
        (
            "shape",
            w2(&f8("(2, 3)"), &ones),
            "the network's tensor is (3, 2), the array is (2, 3)",
        ),
        (
            "rank",
            w2(&f8("(6,)"), &ones),
            "the network's tensor is (3, 2), the array is (6,)",
        ),
        (
            "dtype",
            w2(
                "{'descr': '<i8', 'fortran_order': False, 'shape': (3, 2)}",
                &ones,
            ),
            "its dtype is \"<i8\"",
        ),
        (
            "truncated",
            w2(&f8("(3, 2)"), &ones[..5]),
            "truncated: its header declares 48 bytes of values, 40 are present",
        ),
        (
            "trailing",
            w2(&f8("(3, 2)"), &[1.0; 7]),
            "more bytes than the 48 of values its header declares",
        ),
        (
            "nan",
            w2(&f8("(3, 2)"), &[1.0, 1.0, 1.0, f64::NAN, 1.0, 1.0]),
            "value 3 is NaN or infinite",
        ),
        (
            "magic",
            Some(b"not an array at all".to_vec()),
            "malformed .npy header: not an .npy array (bad magic)",
        ),
        (
            "dict",
            w2("{'descr': '<f8', 'shape': (3, 2)}", &ones),
            "malformed .npy header: descr, fortran_order or shape is missing",
        ),
        (
            "key",
            w2(
                "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), 'x': 1}",
                &ones,
            ),
            "malformed .npy header: a key other than descr, fortran_order, shape",
        ),
        (
            "tuple",
            w2(
                "{'descr': '<f8', 'fortran_order': False, 'shape': [3, 2]}",
                &ones,
            ),
            "malformed .npy header: not a Python dict",
        ),
    ];
    let untouched = common::tensors(&TwoLayerNet::<2, 3, 2, f64>::zeros().layers);
    for (name, w2, message) in cases {
        let path = file(name, w2);
        let mut net = TwoLayerNet::<2, 3, 2, f64>::zeros();
        let err = data::load_npz(&mut net.layers, &path).unwrap_err();
        let shown = err.to_string();
        let want = format!("{}: array W2: {message}", path.display());
        assert!(shown.starts_with(&want), "{name}: {shown}");
        assert_eq!(err.array.as_deref(), Some("W2"), "{name}");
        assert_eq!(
            common::tensors(&net.layers),
            untouched,
            "{name}: W1 was loaded"
        );
    }

    // An f64 too large for f32 is refused by an f32 network, and loads into an f64 one.
    let path = file("huge", w2(&f8("(3, 2)"), &[1.0, 1e300, 1.0, 1.0, 1.0, 1.0]));
    let mut net32 = TwoLayerNet::<2, 3, 2, f32>::zeros();
    let err = data::load_npz(&mut net32.layers, &path).unwrap_err();
    assert!(
        matches!(err.problem, NpzProblem::NonFinite { index: 1 }),
        "{err}"
    );
    let mut net64 = TwoLayerNet::<2, 3, 2, f64>::zeros();
    data::load_npz(&mut net64.layers, &path).unwrap();

    // Big-endian float32 in Fortran order loads: element (i, j) is stored at j·rows + i.
    let be: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    let dict = "{\"descr\": \">f4\", \"fortran_order\": True, \"shape\": (3, 2)}";
    let path = file("fortran", Some(npy(dict, &be)));
    data::load_npz(&mut net64.layers, &path).unwrap();
    assert_eq!(
        common::tensors(&net64.layers)[2].1,
        [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]
    );

    // Not a zip file; no file at all.
    let path = dir.join("text.npz");
    std::fs::write(&path, "W1 = [[1, 2, 3], [4, 5, 6]]").unwrap();
    let err = data::load_npz(&mut net64.layers, &path).unwrap_err();
    assert!(matches!(err.problem, NpzProblem::Archive(_)), "{err}");
    assert!(
        err.to_string().contains("not a readable .npz (zip) file"),
        "{err}"
    );
    let err = data::load_npz(&mut net64.layers, &dir.join("absent.npz")).unwrap_err();
    assert!(matches!(err.problem, NpzProblem::Io(_)), "{err}");

    // A save that cannot be made leaves nothing behind.
    let err = data::save_npz(&net64.layers, &dir.join("no-such-dir").join("a.npz")).unwrap_err();
    assert!(matches!(err.problem, NpzProblem::Io(_)), "{err}");
    assert!(!dir.join("no-such-dir").exists());
    std::fs::remove_dir_all(dir).unwrap();
}
