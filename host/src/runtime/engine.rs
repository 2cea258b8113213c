//! One wasmtime Engine per process, an epoch ticker for wall-time limits, and
//! the on-disk cache of compiled components.

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::Component;
use wasmtime::{Config, Engine};

/// How often the epoch advances: the granularity of check timeouts.
pub const TICK: Duration = Duration::from_millis(10);

pub fn new_engine() -> Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    // Plugins are untrusted: no host-dependent float behaviour leaks in, and
    // memory growth is bounded by the store limiter, not by reservations.
    config.cranelift_nan_canonicalization(true);
    Engine::new(&config)
        .map_err(anyhow::Error::from)
        .context("cannot configure the WebAssembly engine")
}

/// Advances the engine's epoch every [`TICK`] until dropped.
pub struct Ticker {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Ticker {
    pub fn start(engine: &Engine) -> Ticker {
        let stop = Arc::new(AtomicBool::new(false));
        let (engine, flag) = (engine.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("kridik-epoch".into())
            .spawn(move || {
                // Parked, not asleep, so that dropping the ticker wakes it:
                // a sleeping ticker held every scan's exit for up to a tick.
                let mut next = std::time::Instant::now() + TICK;
                while !flag.load(Ordering::Acquire) {
                    let now = std::time::Instant::now();
                    if now < next {
                        std::thread::park_timeout(next - now);
                        continue; // woken early: by the drop, or spuriously
                    }
                    engine.increment_epoch();
                    next = now + TICK;
                }
            })
            .expect("spawning the epoch thread");
        Ticker {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

/// Compiled components on disk, keyed by the component's digest and the
/// engine's compatibility hash. Only files this cache wrote are ever loaded.
pub struct CompileCache {
    dir: Option<PathBuf>,
}

impl CompileCache {
    /// `KRIDIK_CACHE_DIR`, else the user cache dir; None disables caching.
    pub fn new(dir: Option<PathBuf>) -> Self {
        let dir = dir
            .or_else(|| std::env::var_os("KRIDIK_CACHE_DIR").map(PathBuf::from))
            .or_else(|| {
                directories::ProjectDirs::from("io", "kridik", "kridik")
                    .map(|d| d.cache_dir().to_path_buf())
            })
            .map(|d| d.join("components"));
        CompileCache { dir }
    }

    pub fn disabled() -> Self {
        CompileCache { dir: None }
    }

    /// Loads the compiled form of `wasm`, compiling (and storing) it on a miss.
    /// Returns the component and whether it came from the cache.
    pub fn load(&self, engine: &Engine, wasm: &[u8], digest: &str) -> Result<(Component, bool)> {
        let path = self
            .dir
            .as_ref()
            .map(|d| d.join(format!("{}.cwasm", cache_key(engine, digest))));
        if let Some(path) = path.as_ref().filter(|p| p.exists()) {
            // SAFETY: the file was written by `store` below from Component::serialize
            // of this engine configuration (the key includes its compatibility hash).
            match unsafe { Component::deserialize_file(engine, path) } {
                Ok(c) => return Ok((c, true)),
                Err(_) => {
                    let _ = std::fs::remove_file(path); // stale or damaged: recompile
                }
            }
        }
        let component = Component::new(engine, wasm).map_err(anyhow::Error::from)?;
        if let Some(path) = path {
            // A cache that cannot be written only costs time.
            let _ = store(&component, &path);
        }
        Ok((component, false))
    }
}

fn store(component: &Component, path: &std::path::Path) -> Result<()> {
    let bytes = component.serialize().map_err(anyhow::Error::from)?;
    crate::state_file::write_atomic(path, &bytes)
}

/// Feeds std's Hash into SHA-256, so the key is stable across processes.
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

fn cache_key(engine: &Engine, digest: &str) -> String {
    let mut h = ShaHasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut h);
    h.0.update(digest.as_bytes());
    hex::encode(h.0.finalize())[..40].to_string()
}

pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
