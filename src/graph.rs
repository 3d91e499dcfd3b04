//! Computational-graph nodes on scalars: the book's `MulLayer` and `AddLayer` (section 5.4).
//!
//! ```
//! use constnn::graph::MulLayer;
//! // Buying 2 apples at 100 each, with 10% tax.
//! let (mut mul_apple, mut mul_tax) = (MulLayer::new(), MulLayer::new());
//! let apple_price = mul_apple.forward(100.0, 2.0);
//! let price = mul_tax.forward(apple_price, 1.1);
//! assert!((price - 220.0_f64).abs() < 1e-9);
//! let (dapple_price, dtax) = mul_tax.backward(1.0);
//! let (dapple, dapple_num) = mul_apple.backward(dapple_price);
//! assert!((dapple - 2.2).abs() < 1e-9 && (dapple_num - 110.0).abs() < 1e-9 && dtax == 200.0);
//! ```

use crate::float::Float;

/// `out = x · y`; backward swaps the inputs: `dx = dout · y`, `dy = dout · x`.
#[derive(Debug, Clone, Copy, Default)]
pub struct MulLayer<T = f32> {
    x: T,
    y: T,
}

impl<T: Float> MulLayer<T> {
    /// A node with nothing cached yet.
    pub fn new() -> Self {
        Self {
            x: T::ZERO,
            y: T::ZERO,
        }
    }

    /// Caches both inputs (backward needs them) and returns their product.
    pub fn forward(&mut self, x: T, y: T) -> T {
        self.x = x;
        self.y = y;
        x * y
    }

    /// `(dout · y, dout · x)`.
    pub fn backward(&self, dout: T) -> (T, T) {
        (dout * self.y, dout * self.x)
    }
}

/// `out = x + y`; backward passes the gradient through unchanged to both inputs.
///
/// # Examples
///
/// The book's 5.4.2: 2 apples at 100 and 3 oranges at 150, with 10% tax.
///
/// ```
/// use constnn::graph::{AddLayer, MulLayer};
/// let (mut mul_apple, mut mul_orange, mut mul_tax) =
///     (MulLayer::new(), MulLayer::new(), MulLayer::new());
/// let mut add_apple_orange = AddLayer::new();
/// let all = add_apple_orange.forward(mul_apple.forward(100.0, 2.0), mul_orange.forward(150.0, 3.0));
/// let price = mul_tax.forward(all, 1.1);
/// assert_eq!(price, 715.0000000000001_f64);
///
/// let (dall, dtax) = mul_tax.backward(1.0);
/// let (dapple_price, dorange_price) = add_apple_orange.backward(dall);
/// let (dapple, dapple_num) = mul_apple.backward(dapple_price);
/// let (dorange, dorange_num) = mul_orange.backward(dorange_price);
/// // The book's figures, last digits and all (Python prints the same doubles).
/// assert_eq!((dapple_num, dapple), (110.00000000000001, 2.2));
/// assert_eq!((dorange, dorange_num, dtax), (3.3000000000000003, 165.0, 650.0));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct AddLayer;

impl AddLayer {
    /// An addition node (it caches nothing).
    pub fn new() -> Self {
        Self
    }

    /// `x + y`.
    pub fn forward<T: Float>(&mut self, x: T, y: T) -> T {
        x + y
    }

    /// `(dout, dout)`.
    pub fn backward<T: Float>(&self, dout: T) -> (T, T) {
        (dout, dout)
    }
}
