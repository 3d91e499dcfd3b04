//! The book's section 5.4 examples, with its numbers.

use constnn::graph::{AddLayer, MulLayer};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9 * b.abs().max(1.0)
}

#[test]
fn buy_apple_price_220_and_gradients_2_2_110_200() {
    let (apple, apple_num, tax) = (100.0, 2.0, 1.1);
    let (mut mul_apple, mut mul_tax) = (MulLayer::<f64>::new(), MulLayer::new());
    let apple_price = mul_apple.forward(apple, apple_num);
    let price = mul_tax.forward(apple_price, tax);
    assert!(close(price, 220.0), "{price}");

    let (dapple_price, dtax) = mul_tax.backward(1.0);
    let (dapple, dapple_num) = mul_apple.backward(dapple_price);
    assert!(close(dapple, 2.2), "{dapple}");
    assert!(close(dapple_num, 110.0), "{dapple_num}");
    assert!(close(dtax, 200.0), "{dtax}");
}

#[test]
fn buy_apple_orange_price_715_and_gradients_110_2_2_3_3_165_650() {
    let (apple, apple_num, orange, orange_num, tax) = (100.0, 2.0, 150.0, 3.0, 1.1);
    let mut mul_apple = MulLayer::<f64>::new();
    let mut mul_orange = MulLayer::new();
    let mut add_apple_orange = AddLayer::new();
    let mut mul_tax = MulLayer::new();

    let apple_price = mul_apple.forward(apple, apple_num);
    let orange_price = mul_orange.forward(orange, orange_num);
    let all_price = add_apple_orange.forward(apple_price, orange_price);
    let price = mul_tax.forward(all_price, tax);
    assert!(close(price, 715.0), "{price}");

    let (dall_price, dtax) = mul_tax.backward(1.0);
    let (dapple_price, dorange_price) = add_apple_orange.backward(dall_price);
    let (dorange, dorange_num) = mul_orange.backward(dorange_price);
    let (dapple, dapple_num) = mul_apple.backward(dapple_price);
    assert!(close(dapple_num, 110.0), "{dapple_num}");
    assert!(close(dapple, 2.2), "{dapple}");
    assert!(close(dorange, 3.3), "{dorange}");
    assert!(close(dorange_num, 165.0), "{dorange_num}");
    assert!(close(dtax, 650.0), "{dtax}");
}

#[test]
fn f32_is_the_default_and_gives_the_same_numbers() {
    let (mut mul_apple, mut mul_tax) = (MulLayer::new(), MulLayer::new());
    let price: f32 = mul_tax.forward(mul_apple.forward(100.0, 2.0), 1.1);
    assert_eq!(price, 220.0);
    let (d, dtax) = mul_tax.backward(1.0);
    assert_eq!(mul_apple.backward(d), (2.2, 110.0));
    assert_eq!(dtax, 200.0);
}
