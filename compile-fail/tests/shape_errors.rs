//! Shape errors are compile errors: each case in `tests/ui` must fail to build with exactly the
//! error pinned in its `.stderr` file, so none can pass for the wrong reason; the cases in
//! `tests/ui-pass` show the same code with shapes that agree building and running. (With a
//! passing case, trybuild builds rather than checks, so errors raised when a generic function
//! is instantiated — a `const` assertion on a width — are caught too.)

#[test]
fn shape_mismatches_do_not_compile() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui-pass/*.rs");
    t.compile_fail("tests/ui/*.rs");
}
