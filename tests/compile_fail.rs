//! Shape errors are compile errors: each case in `tests/ui` must fail to build with exactly the
//! error pinned in its `.stderr` file, so none can pass for the wrong reason.

#[test]
fn shape_mismatches_do_not_compile() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
