//! The book's `buy_apple.py` (section 5.4.1): two apples at 100 with 10% tax, forward and
//! backward through two `MulLayer` nodes.

#[path = "common/mod.rs"]
mod common;

use common::human;
use constnn::graph::MulLayer;

fn main() {
    let (apple, apple_num, tax) = (100.0f32, 2.0, 1.1);
    let mut mul_apple_layer = MulLayer::new();
    let mut mul_tax_layer = MulLayer::new();

    // forward
    let apple_price = mul_apple_layer.forward(apple, apple_num);
    let price = mul_tax_layer.forward(apple_price, tax);

    // backward
    let dprice = 1.0;
    let (dapple_price, dtax) = mul_tax_layer.backward(dprice);
    let (dapple, dapple_num) = mul_apple_layer.backward(dapple_price);

    println!("price: {}", human(price.into()));
    println!("dApple: {}", human(dapple.into()));
    println!("dApple_num: {}", human(dapple_num.into()));
    println!("dTax: {}", human(dtax.into()));
}
