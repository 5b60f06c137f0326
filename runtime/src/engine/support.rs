//! The `staged_support` rlib: the library's side of the entry protocol
//! (`codegen/support.rs`: the panic hook, the catching of panics, output
//! through the host), built once per toolchain, target, CPU and flags and
//! linked into every library, so that a build compiles only its variants.
//! That code is ~60 ms of front end and codegen in every build otherwise.
//!
//! The rlib is code that runs in the program, so it gets a library's
//! trust: built by us in a private build directory, kept in the store's
//! private area `support/` under a key naming everything it depends on,
//! with its digest before it, read through the store's handles (a regular
//! file of ours, never a FIFO or a link) and checked against that digest
//! whenever it is read, and copied into each build's private directory,
//! where rustc reads it by a relative path. When it cannot be had (rustc fails on it, the store
//! refuses it), libraries carry the same code as a module instead: slower
//! to build, never a reason for the generic body.

use std::path::Path;
use std::sync::{Arc, TryLockError};

use staged_build::chain::Chain;
use staged_build::process::Job;
use staged_build::store::{Hash32, KeyLock, SUPPORT_AREA as AREA, Store};

use super::Engine;
use super::build::{SLOT_FD, UNROLL};
use crate::Error;
use crate::codegen::{ABI_VERSION, SUPPORT};

/// The rlib's source and file names in its build directory, and in every
/// library's.
pub(super) const SOURCE: &str = "staged_support.rs";
pub(super) const RLIB: &str = "libstaged_support.rlib";

impl Engine {
    /// The verified bytes of the support rlib for this engine: from the
    /// store, else (given a build `slot` to build it under) built now and
    /// published. `None` means libraries carry the support code
    /// themselves; a failure to build it is remembered for the life of the
    /// engine.
    ///
    /// # Errors
    ///
    /// [`Error::Compile`] when building it now ran past the time limit: a
    /// library carrying its code would take longer still, so the caller
    /// builds none, and returns after one limit rather than two.
    pub(super) fn support(
        &self,
        store: &Store,
        slot: Option<&KeyLock>,
    ) -> Result<Option<Arc<[u8]>>, Error> {
        if let Some(known) = self.support.get() {
            return Ok(known.clone());
        }
        let key = self.support_key();
        if let Some(bytes) = self.stored_support(store, &key) {
            return Ok(self.support.get_or_init(|| Some(bytes)).clone());
        }
        let Some(slot) = slot else {
            return Ok(None);
        };
        // One build per engine at a time. Others meanwhile carry the code
        // themselves rather than wait: waiting would hang a child forked
        // while a thread of its parent builds (the lock stays held in the
        // child, by a thread it does not have).
        let _building = match self.support_lock.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(e)) => e.into_inner(),
            Err(TryLockError::WouldBlock) => return Ok(None),
        };
        if let Some(known) = self.support.get() {
            return Ok(known.clone());
        }
        let built = self.build_support(store, &key, slot);
        match &built {
            Ok(_) => log::info!("staged: built the support library for this toolchain"),
            Err(e) => log::warn!(
                "staged: libraries carry their support code, which makes each build slower: cannot build it once: {}",
                Chain(e)
            ),
        }
        let known = self
            .support
            .get_or_init(|| built.as_ref().ok().cloned())
            .clone();
        match built {
            Err(Error::Compile(cause)) if cause.is_timed_out() => Err(Error::Compile(cause)),
            _ => Ok(known),
        }
    }

    /// Forgets the support rlib for the life of the engine: a library that
    /// linked it failed to build where the same library with the code
    /// inline built.
    pub(super) fn give_up_support(&self) {
        let _ = self.support.set(None);
    }

    /// Everything the rlib depends on: the protocol and its source, the
    /// toolchain, target and extra flags, and the CPU.
    fn support_key(&self) -> Hash32 {
        let abi = ABI_VERSION.to_le_bytes();
        Hash32::of_parts([
            b"staged-support".as_slice(),
            &abi,
            SUPPORT.as_bytes(),
            UNROLL.as_bytes(),
            &self.built_for.0,
            &self.cpu.0,
        ])
    }

    /// The rlib the store holds under `key`, checked against the digest
    /// stored before it; an entry that cannot be used is removed (and built
    /// again).
    fn stored_support(&self, store: &Store, key: &Hash32) -> Option<Arc<[u8]>> {
        let name = key.to_string();
        let area = store
            .area(AREA)
            .map_err(|e| log::warn!("staged: {}", Chain(&e)))
            .ok()?;
        let bytes = match area.read(&name) {
            Ok(bytes) => bytes?,
            Err(e) => {
                log::warn!("staged: the support library cannot be used: {}", Chain(&e));
                return None;
            }
        };
        if bytes.len() > 32 && Hash32::of_bytes(&bytes[32..]).0 == bytes[..32] {
            return Some(Arc::from(&bytes[32..]));
        }
        log::warn!(
            "staged: the support library {} is corrupt (its contents do not hash to its digest); building it again",
            area.path(&name).display()
        );
        // Replaced whole by the next build's write.
        None
    }

    /// Builds the rlib in a private directory, under the build slot `slot`
    /// (shared with the build, as a library's is), publishes it under
    /// `key` and returns its bytes as published.
    fn build_support(
        &self,
        store: &Store,
        key: &Hash32,
        slot: &KeyLock,
    ) -> Result<Arc<[u8]>, Error> {
        let rustc = self.rustc().clone()?;
        let dir = store.build_dir()?;
        let text = format!("#![allow(warnings)]\n{SUPPORT}");
        dir.write(SOURCE, text.as_bytes())?;
        let mut rustc_cmd = rustc.command();
        self.invocation("rlib", "staged_support", "2021", &rustc.host)
            .set("debug-assertions=off")
            .set("overflow-checks=off")
            .set(&format!("metadata={}", &key.to_string()[..16]))
            .apply(&mut rustc_cmd, Path::new(SOURCE), Path::new(RLIB));
        // Under the shell too: a build that outlives this process ends at
        // `timeout`'s limit, and holds its slot until then.
        let mut cmd = self.under_shell(rustc_cmd, crate::worker::on_builder(), false);
        dir.set_as_cwd(&mut cmd)?;
        slot.share_with(&mut cmd, SLOT_FD)?;
        Job::new(
            &mut cmd,
            self.config.build_timeout,
            staged_build::rustc::MISSING_HINT,
        )
        .run()
        .map_err(Error::Compile)?;
        let rlib = dir.read_output(RLIB)?;
        let mut entry = Hash32::of_bytes(&rlib).0.to_vec();
        entry.extend_from_slice(&rlib);
        store.area(AREA)?.write(&key.to_string(), &entry)?;
        Ok(Arc::from(rlib))
    }
}
