//! Writes tokens as source text, the one way the whole project does: for the
//! module text that run-time builds compile and that the macro's digest of a
//! function covers. Its own rules rather than the compiler's `Display`, so
//! the text is the same on every toolchain and readable in a build
//! directory:
//!
//! - one space between tokens, none after a punctuation mark joined to the
//!   next (`::`, `->`, `'a`), a line break after `;` and after a block;
//! - an invisible group (a `macro_rules!` fragment such as `$e:expr`) keeps
//!   its meaning: an expression of several tokens is written in
//!   parentheses, so `2 * $e` with `$e = a + b` stays `2 * (a + b)`.

use proc_macro2::{Delimiter, Spacing, Span, TokenStream, TokenTree};

/// `tokens` as text.
pub(crate) fn render(tokens: &TokenStream) -> String {
    render_marked(tokens).0
}

/// Where a token landed in the text: its 1-based line and column (in
/// characters), with its span.
#[derive(Clone, Copy)]
pub(crate) struct Mark {
    pub(crate) line: u32,
    pub(crate) column: u32,
    pub(crate) span: Span,
}

/// `tokens` as text, and where each token landed.
pub(crate) fn render_marked(tokens: &TokenStream) -> (String, Vec<Mark>) {
    let mut p = Printer::default();
    p.stream(tokens.clone());
    (p.out, p.marks)
}

#[derive(Default)]
struct Printer {
    out: String,
    /// No space before the next token (after a joined punctuation mark or
    /// at the start of a line).
    glued: bool,
    marks: Vec<Mark>,
    line: u32,
    /// Characters on the current line so far.
    column: u32,
}

impl Printer {
    fn space(&mut self) {
        if !self.glued && !self.out.is_empty() && !self.out.ends_with('\n') {
            self.push(" ");
        }
        self.glued = false;
    }

    /// Writes `text`, keeping count of lines and columns.
    fn push(&mut self, text: &str) {
        for c in text.chars() {
            if c == '\n' {
                self.line += 1;
                self.column = 0;
            } else {
                self.column += 1;
            }
        }
        self.out.push_str(text);
    }

    /// Notes that the next character written starts a token of `span`.
    fn mark(&mut self, span: Span) {
        self.marks.push(Mark {
            line: self.line + 1,
            column: self.column + 1,
            span,
        });
    }

    fn newline(&mut self) {
        self.push("\n");
        self.glued = false;
    }

    fn stream(&mut self, tokens: TokenStream) {
        for token in tokens {
            self.token(token);
        }
    }

    fn token(&mut self, token: TokenTree) {
        match token {
            TokenTree::Group(g) => {
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::None => {
                        if needs_parentheses(&g.stream()) {
                            ("(", ")")
                        } else {
                            self.stream(g.stream());
                            return;
                        }
                    }
                };
                self.space();
                self.mark(g.span_open());
                self.push(open);
                let brace = g.delimiter() == Delimiter::Brace;
                if brace {
                    self.newline();
                } else {
                    self.glued = true;
                }
                self.stream(g.stream());
                if brace && !self.out.ends_with('\n') {
                    self.newline();
                }
                self.glued = true;
                self.push(close);
                self.glued = false;
                if brace {
                    self.newline();
                }
            }
            TokenTree::Punct(p) => {
                self.space();
                self.mark(p.span());
                self.push(p.as_char().encode_utf8(&mut [0; 4]));
                if p.spacing() == Spacing::Joint {
                    self.glued = true;
                } else if p.as_char() == ';' {
                    self.newline();
                }
            }
            TokenTree::Ident(i) => {
                self.space();
                self.mark(i.span());
                self.push(&i.to_string());
            }
            TokenTree::Literal(l) => {
                self.space();
                self.mark(l.span());
                self.push(&l.to_string());
            }
        }
    }
}

/// Whether an invisible group's tokens are an expression of several tokens,
/// whose precedence the group kept.
fn needs_parentheses(tokens: &TokenStream) -> bool {
    tokens.clone().into_iter().nth(1).is_some() && syn::parse2::<syn::Expr>(tokens.clone()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::render;
    use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};
    use quote::quote;

    #[test]
    fn text_reads_back_as_the_same_tokens() {
        let tokens = quote! {
            #[inline] pub fn f<'a>(x: &'a [u64], n: u32) -> u64 {
                let s = "a \" b"; let c = 'c'; x.iter().map(|v| v >> n).sum::<u64>() + ::core::primitive::u64::MAX
            }
        };
        let text = render(&tokens);
        // Joined marks stay joined (`'a`, `::`, `->`, `>>`).
        assert!(text.contains("& 'a [u64]"), "{text}");
        assert!(text.contains(":: core :: primitive"), "{text}");
        assert!(text.contains("-> u64") && text.contains("v >> n"), "{text}");
        assert!(text.contains(";\nlet c"), "a line per statement: {text}");
        let back: TokenStream = text.parse().unwrap();
        assert_eq!(back.to_string(), tokens.to_string());
    }

    #[test]
    fn marks_say_where_each_token_landed() {
        let tokens = quote!(
            fn f() {
                let a = 1;
                a
            }
        );
        let (text, marks) = super::render_marked(&tokens);
        let at = |m: &super::Mark| {
            let line = text.lines().nth(m.line as usize - 1).unwrap();
            line.chars()
                .skip(m.column as usize - 1)
                .take(3)
                .collect::<String>()
        };
        let found: Vec<String> = marks.iter().map(at).collect();
        assert_eq!(found[0], "fn ");
        assert!(found.contains(&"let".to_owned()), "{found:?} in {text}");
        assert!(marks.iter().any(|m| m.line == 3 && at(m) == "a"), "{text}");
    }

    #[test]
    fn invisible_groups_keep_their_precedence() {
        let sum = Group::new(Delimiter::None, quote!(a + b));
        let one = Group::new(Delimiter::None, quote!(a));
        let tokens: TokenStream = [
            TokenTree::from(proc_macro2::Literal::u32_unsuffixed(2)),
            quote!(*).into_iter().next().unwrap(),
            TokenTree::Group(sum),
            quote!(-).into_iter().next().unwrap(),
            TokenTree::Group(one),
        ]
        .into_iter()
        .collect();
        assert_eq!(render(&tokens), "2 * (a + b) - a");
    }
}
