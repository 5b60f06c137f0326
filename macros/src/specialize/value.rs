//! The values listed in `#[specialize]`, typed by their parameter.

use proc_macro2::{Delimiter, Literal, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, Lit, UnOp};

use super::types::{IntTy, Scalar};

/// One listed value, normalized so that equal values compare equal: integers
/// by value, floats by bit pattern (`0.0` and `-0.0` differ).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Value {
    Int {
        negative: bool,
        magnitude: u128,
        ty: IntTy,
    },
    Bool(bool),
    Char(char),
    F32(u32),
    F64(u64),
    Str(String),
    /// The elements of an array or a slice.
    Seq(Vec<Value>),
    Tuple(Vec<Value>),
    Opt(Option<Box<Value>>),
    /// A value of a module's struct, or of one of its enum's variants (its
    /// index and name), with its fields in declaration order.
    Module {
        variant: Option<(usize, proc_macro2::Ident)>,
        fields: Vec<Value>,
    },
}

/// A value with the span of the tokens the user wrote for it.
#[derive(Clone, Debug)]
pub(crate) struct Listed {
    pub(crate) value: Value,
    pub(crate) span: Span,
    /// The user's own tokens for the value (`0xff`, `-3`, `'a'`), when it was
    /// listed rather than produced by a range.
    pub(crate) written: Option<TokenStream>,
}

impl Listed {
    /// A pattern matching the value in the dispatcher's `match`: the user's
    /// tokens where they wrote the value, so that errors and lints see their
    /// text; floats by their bits.
    pub(crate) fn pattern(&self) -> TokenStream {
        match (&self.value, &self.written) {
            (Value::F32(_) | Value::F64(_), _) | (_, None) => self.value.pattern(Span::call_site()),
            (_, Some(tokens)) => tokens.clone(),
        }
    }

    /// An expression of the parameter's type, bound in each variant.
    pub(crate) fn expr(&self) -> TokenStream {
        match self.value {
            Value::F32(bits) => {
                let bits = Literal::u32_suffixed(bits);
                quote::quote!(::core::primitive::f32::from_bits(#bits))
            }
            Value::F64(bits) => {
                let bits = Literal::u64_suffixed(bits);
                quote::quote!(::core::primitive::f64::from_bits(#bits))
            }
            _ => self.pattern(),
        }
    }
}

impl Value {
    /// Reads `expr` as a literal of type `scalar` for parameter `param`.
    pub(crate) fn parse(expr: &Expr, scalar: Scalar, param: &syn::Ident) -> syn::Result<Listed> {
        let span = expr.span();
        let ty = scalar.describe();
        // On the whole expression, so that `-129` is underlined, not `-`.
        let error = |message: String| syn::Error::new_spanned(expr, message);
        let (negative, lit) = literal(expr).ok_or_else(|| {
            error(format!(
                "expected a literal value for `{param}`, found `{}`; write the value itself, as in `{param} = [{}]`",
                text(expr),
                example(scalar)
            ))
        })?;
        let sign = if negative { "-" } else { "" };
        let mismatch = |found: &str| {
            error(format!(
                "expected {} `{ty}` value for `{param}`, found {found}",
                article(ty)
            ))
        };
        let out_of_range = || {
            let holds = match scalar {
                Scalar::Int(int) => format!(
                    ", which holds {}{} to {}",
                    if int.signed { "-" } else { "" },
                    int.max_magnitude(true),
                    int.max_magnitude(false)
                ),
                _ => String::new(),
            };
            error(format!(
                "`{}` does not fit `{ty}`, the type of `{param}`{holds}",
                text(expr)
            ))
        };
        let check_suffix = |suffix: &str, digits: &str| {
            if suffix.is_empty() || suffix == ty {
                Ok(())
            } else {
                let digits = digits.trim_end_matches('_');
                Err(error(format!(
                    "`{}` has suffix `{suffix}` but `{param}` is `{ty}`; write `{sign}{digits}` or `{sign}{digits}{ty}`",
                    text(expr)
                )))
            }
        };
        let without_suffix = |token: String, suffix: &str| {
            token
                .strip_suffix(suffix)
                .map_or_else(|| token.clone(), str::to_owned)
        };
        let value = match (scalar, lit) {
            (Scalar::Int(int_ty), Lit::Int(int)) => {
                check_suffix(
                    int.suffix(),
                    &without_suffix(int.token().to_string(), int.suffix()),
                )?;
                let magnitude: u128 = int.base10_digits().parse().map_err(|_| out_of_range())?;
                if magnitude > int_ty.max_magnitude(negative) {
                    return Err(out_of_range());
                }
                Value::Int {
                    negative: negative && magnitude != 0,
                    magnitude,
                    ty: int_ty,
                }
            }
            (Scalar::Int(int_ty), Lit::Byte(b)) if int_ty.name == "u8" && !negative => Value::Int {
                negative: false,
                magnitude: b.value().into(),
                ty: int_ty,
            },
            (Scalar::F32, Lit::Float(f)) => {
                check_suffix(
                    f.suffix(),
                    &without_suffix(f.token().to_string(), f.suffix()),
                )?;
                let v: f32 = f.base10_parse()?;
                if v.is_infinite() {
                    return Err(out_of_range());
                }
                Value::F32(if negative { -v } else { v }.to_bits())
            }
            (Scalar::F64, Lit::Float(f)) => {
                check_suffix(
                    f.suffix(),
                    &without_suffix(f.token().to_string(), f.suffix()),
                )?;
                let v: f64 = f.base10_parse()?;
                if v.is_infinite() {
                    return Err(out_of_range());
                }
                Value::F64(if negative { -v } else { v }.to_bits())
            }
            (Scalar::F32 | Scalar::F64, Lit::Int(i)) => {
                return Err(error(format!(
                    "expected {} `{ty}` value for `{param}`, found an integer; write `{sign}{}.0`",
                    article(ty),
                    i.base10_digits()
                )));
            }
            (_, _) if negative => return Err(mismatch("a negated literal")),
            (Scalar::Bool, Lit::Bool(b)) => Value::Bool(b.value),
            (Scalar::Char, Lit::Char(c)) => Value::Char(c.value()),
            (Scalar::Str, Lit::Str(s)) => Value::Str(s.value()),
            (_, other) => return Err(mismatch(describe(other))),
        };
        Ok(Listed {
            value,
            span,
            written: Some(expr.to_token_stream()),
        })
    }

    /// The value as an expression of its scalar type, with `span`: floats
    /// rebuilt from their bits.
    pub(crate) fn scalar_tokens(&self, span: Span) -> TokenStream {
        match self {
            Value::F32(bits) => {
                let bits = Literal::u32_suffixed(*bits);
                quote_spanned!(span=> ::core::primitive::f32::from_bits(#bits))
            }
            Value::F64(bits) => {
                let bits = Literal::u64_suffixed(*bits);
                quote_spanned!(span=> ::core::primitive::f64::from_bits(#bits))
            }
            other => other.pattern(span),
        }
    }

    /// A pattern matching the value, made from the value alone (floats by
    /// their bits), with `span`.
    fn pattern(&self, span: Span) -> TokenStream {
        let mut lit = match self {
            // Digits and a known suffix always form a valid literal.
            Self::Int { magnitude, ty, .. } => {
                syn::LitInt::new(&format!("{magnitude}{}", ty.name), span).token()
            }
            Self::Bool(b) => {
                let ident = syn::Ident::new(if *b { "true" } else { "false" }, span);
                return ident.into_token_stream();
            }
            Self::Char(c) => Literal::character(*c),
            Self::F32(bits) => Literal::u32_suffixed(*bits),
            Self::F64(bits) => Literal::u64_suffixed(*bits),
            Self::Str(s) => Literal::string(s),
            Self::Seq(_) | Self::Tuple(_) | Self::Opt(_) | Self::Module { .. } => {
                unreachable!("structured values are not matched by patterns")
            }
        };
        lit.set_span(span);
        match self {
            Self::Int { negative: true, .. } => quote_spanned!(span=> -#lit),
            _ => lit.into_token_stream(),
        }
    }
}

/// `(negated, literal)` for `lit`, `-lit` and `(lit)`.
fn literal(expr: &Expr) -> Option<(bool, &Lit)> {
    match expr {
        Expr::Lit(l) if l.attrs.is_empty() => Some((false, &l.lit)),
        Expr::Paren(p) => literal(&p.expr),
        Expr::Group(g) => literal(&g.expr),
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => match literal(&u.expr)? {
            (false, lit) => Some((true, lit)),
            (true, _) => None,
        },
        _ => None,
    }
}

fn describe(lit: &Lit) -> &'static str {
    match lit {
        Lit::Str(_) => "a string literal",
        Lit::ByteStr(_) | Lit::CStr(_) => "a byte string literal",
        Lit::Byte(_) => "a byte literal",
        Lit::Char(_) => "a character literal",
        Lit::Int(_) => "an integer literal",
        Lit::Float(_) => "a float literal",
        Lit::Bool(_) => "a boolean literal",
        _ => "a literal of another type",
    }
}

/// Values of type `scalar`, as they are listed.
fn example(scalar: Scalar) -> &'static str {
    match scalar {
        Scalar::Int(_) => "1, 2, 3",
        Scalar::Bool => "true, false",
        Scalar::Char => "'a', 'b'",
        Scalar::F32 | Scalar::F64 => "0.5, 2.0",
        Scalar::Str => "\"a\", \"b\"",
    }
}

/// `an` before a type name read aloud with a vowel (`i32`, `f64`), else `a`.
pub(crate) fn article(ty: &str) -> &'static str {
    if ty.starts_with(['i', 'f']) {
        "an"
    } else {
        "a"
    }
}

/// `tokens` as the user would write them, for messages: `-129`, `0x1`,
/// `a::B`, `f(1, 2)`. A space separates words and follows commas.
pub(crate) fn text(tokens: impl ToTokens) -> String {
    fn push(out: &mut String, tokens: TokenStream, after_word: &mut bool) {
        for token in tokens {
            match token {
                TokenTree::Group(g) => {
                    let (open, close) = match g.delimiter() {
                        Delimiter::Parenthesis => ("(", ")"),
                        Delimiter::Bracket => ("[", "]"),
                        Delimiter::Brace => ("{ ", " }"),
                        Delimiter::None => ("", ""),
                    };
                    out.push_str(open);
                    *after_word = false;
                    push(out, g.stream(), after_word);
                    out.push_str(close);
                    *after_word = !close.is_empty();
                }
                TokenTree::Punct(p) => {
                    out.push(p.as_char());
                    if p.as_char() == ',' {
                        out.push(' ');
                    }
                    *after_word = false;
                }
                word => {
                    if *after_word {
                        out.push(' ');
                    }
                    out.push_str(&word.to_string());
                    *after_word = true;
                }
            }
        }
    }
    let mut out = String::new();
    push(&mut out, tokens.into_token_stream(), &mut false);
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(expr: &str, ty: &str) -> Result<Value, String> {
        let scalar = Scalar::of(&syn::parse_str(ty).unwrap()).unwrap();
        let param = syn::Ident::new("n", Span::call_site());
        Value::parse(&syn::parse_str(expr).unwrap(), scalar, &param)
            .map(|v| v.value)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn integers_are_range_checked_per_type() {
        assert!(parse("255", "u8").is_ok());
        assert!(
            parse("256", "u8")
                .unwrap_err()
                .contains("`256` does not fit `u8`")
        );
        assert!(parse("-128", "i8").is_ok());
        assert!(parse("-129", "i8").is_err());
        assert!(parse("-1", "u32").is_err());
        assert!(parse("0xff_u8", "u8").is_ok());
        assert!(parse("340282366920938463463374607431768211455", "u128").is_ok());
        assert_eq!(
            parse("2u8", "u32").unwrap_err(),
            "`2u8` has suffix `u8` but `n` is `u32`; write `2` or `2u32`"
        );
        assert!(
            parse("-0x10_i16", "i8")
                .unwrap_err()
                .ends_with("write `-0x10` or `-0x10i8`")
        );
        assert_eq!(
            parse("-129", "i8").unwrap_err(),
            "`-129` does not fit `i8`, the type of `n`, which holds -128 to 127"
        );
        assert!(
            parse("-1", "u32")
                .unwrap_err()
                .ends_with("which holds 0 to 4294967295")
        );
        assert_eq!(parse("-0", "i32"), parse("0", "i32"));
    }

    #[test]
    fn floats_keep_their_sign_and_bits() {
        assert_eq!(parse("-0.0", "f64"), Ok(Value::F64((-0.0f64).to_bits())));
        assert_ne!(parse("-0.0", "f64"), parse("0.0", "f64"));
        assert_eq!(parse("0.1", "f32"), Ok(Value::F32(0.1f32.to_bits())));
        assert!(parse("1", "f64").unwrap_err().contains("write `1.0`"));
        assert!(parse("1e39", "f32").is_err());
    }

    #[test]
    fn other_types_and_non_literals() {
        assert_eq!(parse("'x'", "char"), Ok(Value::Char('x')));
        assert_eq!(parse("\"a\\\"b\"", "&str"), Ok(Value::Str("a\"b".into())));
        assert!(
            parse("\"a\"", "u32")
                .unwrap_err()
                .contains("found a string literal")
        );
        assert!(
            parse("N", "u32")
                .unwrap_err()
                .contains("expected a literal")
        );
        assert!(parse("1 + 1", "u32").is_err());
        assert_eq!(
            parse("1", "f64").unwrap_err(),
            "expected an `f64` value for `n`, found an integer; write `1.0`"
        );
    }

    #[test]
    fn text_reads_like_source() {
        let text_of = |s: &str| text(s.parse::<TokenStream>().unwrap());
        assert_eq!(text_of("- 129"), "-129");
        assert_eq!(text_of("a :: B"), "a::B");
        assert_eq!(text_of("f (1 , 2)"), "f(1, 2)");
        assert_eq!(text_of("x as u8"), "x as u8");
        assert_eq!(text_of("\"a b\""), "\"a b\"");
    }
}
