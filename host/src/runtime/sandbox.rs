//! The store state of one check run: an empty WASI (no files, no environment,
//! no sockets), captured and truncated stdout/stderr, a memory limiter, and
//! the scan data restricted to the kinds the check declared.

use super::WitData;
use std::collections::BTreeSet;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use wasmtime::component::ResourceTable;
use wasmtime::ResourceLimiter;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

#[derive(Clone, Debug)]
pub struct Limits {
    pub memory_bytes: usize,
    pub timeout: std::time::Duration,
    /// Bytes of guest stdout/stderr kept (each); the rest is counted and dropped.
    pub output_bytes: usize,
    pub max_findings: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            // One instance holds what all of a component's checks decoded: the
            // built-in pack needs 96-128 MiB at 10,000 workloads.
            memory_bytes: 512 << 20,
            timeout: std::time::Duration::from_secs(10),
            output_bytes: 64 << 10,
            max_findings: 10_000,
        }
    }
}

pub struct State {
    wasi: WasiCtx,
    table: ResourceTable,
    pub limiter: Limiter,
    pub data: Arc<WitData>,
    /// Kinds this check may read.
    pub declared: BTreeSet<String>,
    pub stdout: Capture,
    pub stderr: Capture,
}

impl State {
    pub fn new(data: Arc<WitData>, declared: BTreeSet<String>, limits: &Limits) -> Self {
        let stdout = Capture::new(limits.output_bytes);
        let stderr = Capture::new(limits.output_bytes);
        let wasi = WasiCtxBuilder::new()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        State {
            wasi,
            table: ResourceTable::new(),
            limiter: Limiter::new(limits.memory_bytes),
            data,
            declared,
            stdout,
            stderr,
        }
    }
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Refuses memory growth past the cap and remembers that it did, because a
/// refused growth surfaces in the guest as an allocation failure, not a Trap.
pub struct Limiter {
    max: usize,
    pub hit: bool,
}

impl Limiter {
    pub fn new(max: usize) -> Self {
        Limiter { max, hit: false }
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max {
            self.hit = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// Guest output: keeps the first `cap` bytes, counts the rest, never blocks or traps.
#[derive(Clone)]
pub struct Capture {
    inner: Arc<Mutex<CaptureBuf>>,
}

struct CaptureBuf {
    cap: usize,
    kept: Vec<u8>,
    dropped: u64,
}

impl Capture {
    pub fn new(cap: usize) -> Self {
        Capture {
            inner: Arc::new(Mutex::new(CaptureBuf {
                cap,
                kept: Vec::new(),
                dropped: 0,
            })),
        }
    }

    /// The kept text, with a note when output was cut; the capture starts
    /// empty again (a shared instance's next check gets its own).
    pub fn take_text(&self) -> String {
        let text = self.text();
        let mut b = self.inner.lock().unwrap();
        b.kept.clear();
        b.dropped = 0;
        text
    }

    /// The kept text, with a note when output was cut.
    pub fn text(&self) -> String {
        let b = self.inner.lock().unwrap();
        let mut s = String::from_utf8_lossy(&b.kept).into_owned();
        if b.dropped > 0 {
            s.push_str(&format!("\n[... {} more bytes dropped]", b.dropped));
        }
        s
    }
}

impl IsTerminal for Capture {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Capture {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl tokio::io::AsyncWrite for Capture {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let mut b = self.inner.lock().unwrap();
        let room = b.cap.saturating_sub(b.kept.len());
        let take = room.min(buf.len());
        b.kept.extend_from_slice(&buf[..take]);
        b.dropped += (buf.len() - take) as u64;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
