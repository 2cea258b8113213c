//! `memcmp` for the pack, eight bytes at a time. wasi-libc's (musl's) compares
//! one byte per loop iteration; string keys that share long prefixes (SPIFFE
//! identities, workload ids) made it the pack's hottest function (14% of its
//! time at 10,000 workloads). Defining the symbol here keeps the linker from
//! pulling libc's; the crate is `no_builtins` so the loop is not turned back
//! into a call to itself.

/// # Safety
/// `a` and `b` must be valid for reads of `n` bytes (C's contract).
#[cfg_attr(target_family = "wasm", no_mangle)]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while i + 8 <= n {
        let x = (a.add(i) as *const u64).read_unaligned();
        let y = (b.add(i) as *const u64).read_unaligned();
        if x != y {
            // Little-endian: the lowest differing byte comes first in memory.
            let k = ((x ^ y).trailing_zeros() / 8) as usize;
            return i32::from(*a.add(i + k)) - i32::from(*b.add(i + k));
        }
        i += 8;
    }
    while i < n {
        let (x, y) = (*a.add(i), *b.add(i));
        if x != y {
            return i32::from(x) - i32::from(y);
        }
        i += 1;
    }
    0
}

#[cfg(test)]
mod tests {
    #[test]
    fn orders_like_bytes() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"", b""),
            (
                b"spiffe://cluster.local/ns/a/sa/x",
                b"spiffe://cluster.local/ns/a/sa/y",
            ),
            (
                b"spiffe://cluster.local/ns/b",
                b"spiffe://cluster.local/ns/a",
            ),
            (b"abcdefgh\x01", b"abcdefgh\xff"),
            (b"\x80bcdefgh", b"\x01bcdefgh"),
            (b"same-length", b"same-length"),
        ];
        for (a, b) in cases {
            let got = unsafe { super::memcmp(a.as_ptr(), b.as_ptr(), a.len().min(b.len())) };
            assert_eq!(got.signum(), a.cmp(b) as i32, "{a:?} {b:?}");
        }
    }
}
