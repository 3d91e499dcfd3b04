// A layer declares its parameters once, as a type; its accessors must return exactly that. One
// whose bias field is longer than it declares does not compile (it would write a model file
// that it cannot read back).
use constnn::Layer;
use constnn::params::{Bias, ParamsMut, ParamsRef, Weights};

struct Scale {
    w: [[f32; 3]; 2],
    b: [f32; 4],
}

impl Layer for Scale {
    type Input = [f32; 2];
    type Output = [f32; 3];
    type Scalar = f32;
    type Params = (Weights<2, 3, constnn::matrix::Inline>, Bias<3>);

    fn forward<const N: usize>(&self, x: &[[f32; 2]; N], out: &mut [[f32; 3]; N]) {
        constnn::matrix::matmul(x, &self.w, out);
    }

    fn params(&self) -> ParamsRef<'_, Self> {
        (&self.w, &self.b)
    }

    fn params_mut(&mut self) -> ParamsMut<'_, Self> {
        (&mut self.w, &mut self.b)
    }
}

fn main() {
    let layer = Scale { w: [[1.0; 3]; 2], b: [0.0; 4] };
    let _ = layer.params();
}
