//! The book's `buy_apple_orange.py` (section 5.4.2): two apples at 100 and three oranges at
//! 150 with 10% tax, through `MulLayer` and `AddLayer` nodes.

#[path = "common/mod.rs"]
mod common;

use common::human;
use constnn::graph::{AddLayer, MulLayer};

fn main() {
    let (apple, apple_num, orange, orange_num, tax) = (100.0f32, 2.0, 150.0, 3.0, 1.1);

    let mut mul_apple_layer = MulLayer::new();
    let mut mul_orange_layer = MulLayer::new();
    let mut add_apple_orange_layer = AddLayer::new();
    let mut mul_tax_layer = MulLayer::new();

    // forward
    let apple_price = mul_apple_layer.forward(apple, apple_num);
    let orange_price = mul_orange_layer.forward(orange, orange_num);
    let all_price = add_apple_orange_layer.forward(apple_price, orange_price);
    let price = mul_tax_layer.forward(all_price, tax);

    // backward
    let dprice = 1.0;
    let (dall_price, dtax) = mul_tax_layer.backward(dprice);
    let (dapple_price, dorange_price) = add_apple_orange_layer.backward(dall_price);
    let (dorange, dorange_num) = mul_orange_layer.backward(dorange_price);
    let (dapple, dapple_num) = mul_apple_layer.backward(dapple_price);

    println!("price: {}", human(price.into()));
    println!("dApple_num: {}", human(dapple_num.into()));
    println!("dApple: {}", human(dapple.into()));
    println!("dOrange: {}", human(dorange.into()));
    println!("dOrange_num: {}", human(dorange_num.into()));
    println!("dTax: {}", human(dtax.into()));
}
