//! Unit tests of the checks.

use super::{Context, check};
use crate::specialize::value::Value;

fn messages(args: &str, func: &str, stage3: bool) -> Vec<String> {
    match check(
        syn::parse_str(args).unwrap(),
        syn::parse_str(func).unwrap(),
        stage3,
        Context::default(),
    ) {
        Ok(_) => Vec::new(),
        Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
    }
}

#[test]
fn ranges_reach_the_ends_of_every_type() {
    let top = "340282366920938463463374607431768211455";
    let plan = check(
        syn::parse_str(&format!("n = {}..={top}", u128::MAX - 2)).unwrap(),
        syn::parse_str("fn f(n: u128) {}").unwrap(),
        false,
        Context::default(),
    )
    .ok()
    .unwrap();
    let values: Vec<u128> = plan
        .combos
        .iter()
        .map(|c| match c[0].value {
            Value::Int { magnitude, .. } => magnitude,
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(values, [u128::MAX - 2, u128::MAX - 1, u128::MAX]);
    let plan = check(
        syn::parse_str("n = -128..-126").unwrap(),
        syn::parse_str("fn f(n: i8) {}").unwrap(),
        false,
        Context::default(),
    )
    .ok()
    .unwrap();
    let values: Vec<(bool, u128)> = plan
        .combos
        .iter()
        .map(|c| match c[0].value {
            Value::Int {
                negative,
                magnitude,
                ..
            } => (negative, magnitude),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(values, [(true, 128), (true, 127)]);
}

#[test]
fn errors_come_in_the_order_written_without_follow_ons() {
    let found = messages(
        "m = [1], n = [1, 1], runtime = 0",
        "fn f(x: u8, n: u32) {}",
        true,
    );
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found[0].starts_with("unknown parameter `m`"));
    assert!(found[1].starts_with("duplicate value `1`"));
    assert!(found[2].starts_with("`runtime` takes"));
    assert_eq!(messages("n = 5", "fn f(n: u32) {}", true).len(), 1);
    assert_eq!(
        messages("n = [1]", "fn f<T>(x: T, n: u32) {}", true).len(),
        1
    );
    assert_eq!(
        messages("n = [1]", "fn f(n: u32) -> impl Sized {}", true).len(),
        1
    );
    assert_eq!(
        messages("n = [1]", "fn f(n: u32) -> Self {}", true).len(),
        1
    );
    assert_eq!(
        messages(
            "n = [1]",
            "#[staged::specialize(m = [2])] fn f(n: u32, m: u8) {}",
            true
        )
        .len(),
        1
    );
}

#[test]
fn names_bound_by_patterns_are_explained() {
    let found = messages("a = [1]", "fn f((a, b): (u32, u32), n: u32) {}", true);
    assert!(
        found[0].contains("bound inside the pattern `(a, b)`"),
        "{found:?}"
    );
    let found = messages("m = [1]", "fn f(n: u32) {}", true);
    assert_eq!(
        found,
        ["unknown parameter `m`; the function's only parameter is `n`"]
    );
}
