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
