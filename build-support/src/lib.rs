//! The host engine of staged: the literal renderer shared by every stage,
//! finding and running rustc, the content-addressed store, the
//! `const_init!` evaluator, value profiles, and the `build.rs` API
//! ([`baked_file`], [`promote_profile`]). `ARCHITECTURE.md` at the root of
//! the repository says where each part lives.
//!
//! ```
//! use staged_build::bake::Bake;
//!
//! assert_eq!(7u32.to_literal(), "7u32");
//! assert_eq!("say \"hi\"\n".to_literal(), r#""say \"hi\"\n""#);
//! assert_eq!((-0.0f64).to_literal(), "::core::primitive::f64::from_bits(0x8000000000000000u64)");
//! ```

pub mod bake;
pub mod baked_file;
pub mod chain;
pub mod emit;
pub mod eval;
pub mod process;
pub mod profile;
pub mod promote;
pub mod rustc;
pub mod settings;
pub mod store;
pub mod toolchain;

pub use promote::promote_profile;
