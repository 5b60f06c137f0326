//! The host side of staged, for build scripts: bake values computed in
//! `build.rs` into source ([`baked_file`], with the literal renderer of
//! [`bake`]), promote a profile's values to static variants
//! ([`promote_profile`], reading [`profile`]s), and record the toolchain
//! that builds a crate ([`toolchain`]).
//!
//! ```
//! use staged_build::bake::Bake;
//!
//! assert_eq!(7u32.to_literal(), "7u32");
//! assert_eq!("say \"hi\"\n".to_literal(), r#""say \"hi\"\n""#);
//! assert_eq!((-0.0f64).to_literal(), "::core::primitive::f64::from_bits(0x8000000000000000u64)");
//! ```
//!
//! The rest of the crate is the engine that staged's own crates share
//! (finding and running rustc, the content-addressed store, the
//! `const_init!` evaluator, the settings): hidden from these docs, not part
//! of the API, and changed in any release. `ARCHITECTURE.md` at the root of
//! the repository says where each part lives.

pub mod bake;
pub mod baked_file;
pub mod profile;
pub mod promote;
pub mod toolchain;

pub use promote::promote_profile;

// The engine of staged-macros, staged-runtime and staged-cli, which name
// these paths: public only for them.
#[doc(hidden)]
pub mod chain;
#[doc(hidden)]
pub mod emit;
#[doc(hidden)]
pub mod eval;
#[doc(hidden)]
pub mod process;
#[doc(hidden)]
pub mod rustc;
#[doc(hidden)]
pub mod settings;
#[doc(hidden)]
pub mod store;
