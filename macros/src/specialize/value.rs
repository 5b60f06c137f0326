//! The values listed in `#[specialize]`, typed by their parameter.

use proc_macro2::{Literal, Span, TokenStream};
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
}

/// A value with the span of the tokens the user wrote for it.
#[derive(Clone, Debug)]
pub(crate) struct Listed {
    pub(crate) value: Value,
    pub(crate) span: Span,
}

impl Value {
    /// Reads `expr` as a literal of type `scalar` for parameter `param`.
    pub(crate) fn parse(expr: &Expr, scalar: Scalar, param: &syn::Ident) -> syn::Result<Listed> {
        let span = expr.span();
        let (negative, lit) = literal(expr).ok_or_else(|| {
            syn::Error::new(
                span,
                format_args!(
                    "expected a literal for `{param}`: values in `#[specialize]` are written as literals, such as `{}`",
                    example(scalar)
                ),
            )
        })?;
        let mismatch = |found: &str| {
            syn::Error::new(
                span,
                format_args!(
                    "expected a `{}` value for `{param}`, found {found}",
                    scalar.describe()
                ),
            )
        };
        let out_of_range = || {
            syn::Error::new(
                span,
                format_args!(
                    "`{}` does not fit `{}`, the type of `{param}`",
                    expr.to_token_stream().to_string().replace(' ', ""),
                    scalar.describe()
                ),
            )
        };
        let check_suffix = |suffix: &str| {
            if suffix.is_empty() || suffix == scalar.describe() {
                Ok(())
            } else {
                Err(syn::Error::new(
                    span,
                    format_args!(
                        "the literal has suffix `{suffix}` but `{param}` is `{}`",
                        scalar.describe()
                    ),
                ))
            }
        };
        let value = match (scalar, lit) {
            (Scalar::Int(ty), Lit::Int(int)) => {
                check_suffix(int.suffix())?;
                let magnitude: u128 = int.base10_digits().parse().map_err(|_| out_of_range())?;
                if magnitude > ty.max_magnitude(negative) {
                    return Err(out_of_range());
                }
                Value::Int {
                    negative: negative && magnitude != 0,
                    magnitude,
                    ty,
                }
            }
            (Scalar::Int(ty), Lit::Byte(b)) if ty.name == "u8" && !negative => Value::Int {
                negative: false,
                magnitude: b.value().into(),
                ty,
            },
            (Scalar::F32, Lit::Float(f)) => {
                check_suffix(f.suffix())?;
                let v: f32 = f.base10_parse()?;
                if v.is_infinite() {
                    return Err(out_of_range());
                }
                Value::F32(if negative { -v } else { v }.to_bits())
            }
            (Scalar::F64, Lit::Float(f)) => {
                check_suffix(f.suffix())?;
                let v: f64 = f.base10_parse()?;
                if v.is_infinite() {
                    return Err(out_of_range());
                }
                Value::F64(if negative { -v } else { v }.to_bits())
            }
            (Scalar::F32 | Scalar::F64, Lit::Int(i)) => {
                return Err(syn::Error::new(
                    span,
                    format_args!(
                        "expected a `{}` value for `{param}`, found an integer; write `{}{}.0`",
                        scalar.describe(),
                        if negative { "-" } else { "" },
                        i.base10_digits()
                    ),
                ));
            }
            (_, _) if negative => return Err(mismatch("a negated literal")),
            (Scalar::Bool, Lit::Bool(b)) => Value::Bool(b.value),
            (Scalar::Char, Lit::Char(c)) => Value::Char(c.value()),
            (Scalar::Str, Lit::Str(s)) => Value::Str(s.value()),
            (_, other) => return Err(mismatch(describe(other))),
        };
        Ok(Listed { value, span })
    }

    /// An expression of the parameter's type, bound in each variant.
    pub(crate) fn expr(&self, span: Span) -> TokenStream {
        match self {
            Self::F32(bits) => {
                let bits = Literal::u32_suffixed(*bits);
                quote_spanned!(span=> ::core::primitive::f32::from_bits(#bits))
            }
            Self::F64(bits) => {
                let bits = Literal::u64_suffixed(*bits);
                quote_spanned!(span=> ::core::primitive::f64::from_bits(#bits))
            }
            _ => self.pattern(span),
        }
    }

    /// A pattern matching the value in the dispatcher's `match`, where floats
    /// are matched by their bits.
    pub(crate) fn pattern(&self, span: Span) -> TokenStream {
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
        };
        lit.set_span(span);
        match self {
            Self::Int { negative: true, .. } => quote_spanned!(span=> -#lit),
            _ => lit.into_token_stream(),
        }
    }

    /// How the value reads in messages.
    pub(crate) fn display(&self) -> String {
        match self {
            Self::Int {
                negative,
                magnitude,
                ..
            } => {
                format!("{}{magnitude}", if *negative { "-" } else { "" })
            }
            Self::Bool(b) => b.to_string(),
            Self::Char(c) => format!("{c:?}"),
            Self::F32(bits) => format!("{:?}", f32::from_bits(*bits)),
            Self::F64(bits) => format!("{:?}", f64::from_bits(*bits)),
            Self::Str(s) => format!("{s:?}"),
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

fn example(scalar: Scalar) -> &'static str {
    match scalar {
        Scalar::Int(_) => "n = [1, 2, 3]",
        Scalar::Bool => "flag = [true]",
        Scalar::Char => "c = ['a', 'b']",
        Scalar::F32 | Scalar::F64 => "x = [0.5, 2.0]",
        Scalar::Str => "s = [\"a\", \"b\"]",
    }
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
        assert!(parse("2u8", "u32").unwrap_err().contains("suffix `u8`"));
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
    }
}
